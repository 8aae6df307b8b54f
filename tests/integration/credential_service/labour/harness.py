"""A running service with the labour-contract routes on its own in-process chain: the demo
employer (its P-256 client key is its registered signing key), cardholder wallets that log in
by QR and hold an e-card of their own person (activated through the Guangdong card centre),
and an anchoring batcher the test drives. Shared by the integration, e2e and browser
tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.chain import NodeAnchorLedger
from credential_service.anchoring.worker import _ensure_anchoring_account
from credential_service.bootstrap import bootstrap_demo, load_client_key, load_document_key
from credential_service.context import ServiceContext
from credential_service.crypto_profile import CryptoProfile
from credential_service.keystore import FileKeystore
from credential_service.models import OrganisationKind
from node_adapter import Chain, Signer
from tests.fixtures.cards import CardCentre
from tests.fixtures.organisations import ISSUER_URL, accredit_through_api, bearer_headers
from wallet_sdk.credentials.social_security_card import validate_citizen_id
from wallet_sdk.errors import FormatError
from wallet_sdk.evidence import EventRecord, sign_as_employee, sign_as_employer
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.wallet import Wallet

WALLET_AUDIENCE = "urn:hrss:wallet"
DOCUMENT = (
    "劳动合同书 (固定期限)\n甲方: 深圳市示例科技有限公司\n乙方: 王小明\n"
    "岗位: 后端工程师; 期限: 2027-01-01 至 2029-12-31; 月工资: 人民币 25,000 元\n"
).encode()
SURNAMES = "王李张刘陈杨黄赵吴周"


def person(index: int) -> dict[str, str]:
    """The e-card subject of the `index`-th test person (a valid ID number of their own)."""
    stem = f"44030519900101{index % 1000:03d}"
    id_number = next(n for n in (stem + c for c in "0123456789X") if _valid_id(n))
    return {
        "name": SURNAMES[index % 10] + "小明" + "一二三四五六七八九十"[index // 10 % 10],
        "idNumber": id_number,
        "cardNumber": f"M44{index:07d}",
        "issuingRegion": "440305",
        "validFrom": "2026-01-01",
        "validUntil": "2036-01-01",
    }


def _valid_id(number: str) -> bool:
    try:
        validate_citizen_id(number)
    except FormatError:
        return False
    return True


KEY_TERMS = {
    "position": "后端工程师",
    "term": "2027-01-01/2029-12-31",
    "monthly_wage_fen": 2_500_000,
}


@dataclass
class LabourService:
    context: ServiceContext
    settings: Settings
    client: TestClient
    chain: Chain
    employer: str  # client id = credit code
    employer_jwk: dict[str, str]  # client authentication
    employer_signing_jwk: dict[str, str]  # document signing: labour contracts
    batcher: Batcher
    directory: Path
    province: str = ""  # the employer's province: client id and private JWK
    province_jwk: dict[str, str] = field(default_factory=dict)
    employer_region: int = 0
    trust: dict[str, list[Jwk]] = field(default_factory=dict)
    _wallets: int = 0
    _cards: CardCentre | None = None

    @property
    def cards(self) -> CardCentre:
        """The Guangdong card centre (the employer's province's), activating e-cards for
        this service's wallets."""
        if self._cards is None:
            centre, centre_jwk = self.organisation(OrganisationKind.CARD_ISSUER)
            keys = {centre: centre_jwk, self.province: self.province_jwk}
            self._cards = CardCentre(
                client=self.client,
                headers=lambda client_id: self.organisation_headers(client_id, keys[client_id]),
                centre=centre,
                province=self.province,
            )
        return self._cards

    people: dict[str, dict[str, str]] = field(default_factory=dict)
    """The person (e-card subject) of each wallet, by its did."""

    @property
    def employer_key(self) -> Jwk:
        """The employer's document-signing key (its client key never signs a contract)."""
        return Jwk.from_jwk(self.employer_signing_jwk)

    @property
    def employer_entity(self) -> bytes:
        from wallet_sdk.evidence import employer_entity_id

        return employer_entity_id(self.employer)

    def employer_headers(self) -> dict[str, str]:
        return self.organisation_headers(self.employer, self.employer_jwk)

    def organisation_headers(self, client_id: str, jwk: dict[str, str]) -> dict[str, str]:
        return bearer_headers(self.client, client_id, jwk)

    def second_employer(self) -> tuple[str, dict[str, str]]:
        """Another employer of the same province, accredited through the API: (client id,
        private JWK)."""
        return accredit_through_api(
            self.client,
            self.organisation_headers(self.province, self.province_jwk),
            name="另一家用人单位",
            kind="employer",
            region=self.employer_region,
            curve=Curve.P256,
        )

    def organisation(self, kind: OrganisationKind) -> tuple[str, dict[str, str]]:
        """The first demo organisation of ``kind``: (client id, private JWK)."""
        from sqlmodel import Session, select

        from credential_service.models import Organisation

        with Session(self.context.engine) as session:
            code = session.exec(
                select(Organisation.credit_code)
                .where(Organisation.kind == kind)
                .order_by(Organisation.id)  # type: ignore[arg-type]
            ).first()
        assert code is not None, kind
        clients = FileKeystore.open(self.directory / "clients.keystore", "demo")
        return code, load_client_key(clients, code)

    def wallet(self, subject: dict[str, str] | None = None, *, card: bool = True) -> Wallet:
        """A new wallet; with `card` it holds an e-card of `subject` (default: a new person
        of its own)."""
        self._wallets += 1
        # The cardholder's wallet is in the service's profile (SM2 did:jwk in the national one).
        wallet = Wallet.create(
            self.directory / f"wallet-{self._wallets}",
            "pass",
            scrypt_n=2**10,
            profile=self.context.settings.crypto_profile.value,
        )
        self.people[wallet.did] = subject or person(self._wallets)
        if card:
            self.activate_card(wallet, self.people[wallet.did])
        return wallet

    def card_centre(self) -> tuple[str, dict[str, str]]:
        """The Guangdong card centre (client id, private JWK), allowed the e-card type."""
        self.cards.allow()
        return self.organisation(OrganisationKind.CARD_ISSUER)

    def activate_card(self, wallet: Wallet, subject: dict[str, str]) -> str:
        """The card centre activates an e-card of `subject` and `wallet` redeems it; its
        credential id on ``StatusRegistry`` (0x hex)."""
        answer = self.cards.activate(wallet, subject)
        self.people[wallet.did] = subject
        card_id: str = answer["id"]
        return card_id

    def report_card_lost(self, card_id: str) -> None:
        """The card centre suspends the card (lost, reason 1)."""
        centre, jwk = self.card_centre()
        lost = self.client.post(
            f"/v1/credentials/{card_id}/status",
            json={"status": "suspended", "reason": 1},
            headers=self.organisation_headers(centre, jwk),
        )
        assert lost.status_code == 200, lost.text

    def login(self, wallet: Wallet) -> dict[str, str]:
        """QR login with the wallet's e-card (activated first if the wallet has none)."""
        self.cards.ensure_card(wallet)
        challenge = self.client.post("/v1/login/challenges")
        assert challenge.status_code == 201, challenge.text
        answer = wallet.answer_login(
            challenge.json()["qr"],
            trusted_keys=self.trust,
            audience=WALLET_AUDIENCE,
            now=int(time.time()),
        )
        token = self.client.post("/v1/login/responses", json={"response": answer})
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    # -- the workflow, as the parties' clients do it ------------------------------------

    def upload(self, wallet: Wallet, document: bytes = DOCUMENT, **terms: Any) -> dict[str, Any]:
        named = self.people.get(wallet.did) or person(0)
        body = {
            "employee_holder": wallet.address,
            "employee_did": wallet.did,
            "employee_name": named["name"],
            "employee_id_number": named["idNumber"],
            "hr_operator": "人事经理 陈静 (HR-007)",
            "key_terms": KEY_TERMS,
            **terms,
        }
        response = self.client.post(
            "/v1/labour-contracts",
            files={"document": ("contract.pdf", document, "application/pdf")},
            data={"terms": json.dumps(body, ensure_ascii=False)},
            headers=self.employer_headers(),
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def pending_record(self, contract: dict[str, Any]) -> EventRecord:
        """The pending record, signed "now" by the chain's clock (the in-process chain runs
        ahead of the wall clock; the service accepts 300 s either way)."""
        assert contract["pending"] is not None, contract
        at = max(int(time.time()), self.chain.block().timestamp)
        return EventRecord.from_dict({**contract["pending"]["record"], "at": at})

    def employer_signs(self, contract: dict[str, Any], key: Jwk | None = None) -> Any:
        record = self.pending_record(contract)
        signature = sign_as_employer(
            record, key=key or self.employer_key, entity_id=self.employer_entity
        )
        return self.client.post(
            f"/v1/labour-contracts/{contract['contract_id']}/signature",
            json={"jws": signature.jws},
            headers=self.employer_headers(),
        )

    def employee_signs(
        self, contract_id: str, wallet: Wallet, headers: dict[str, str] | None = None
    ) -> Any:
        """The employee signs what waits, with the proof of the wallet's e-card; logged in
        with `headers` (default: a login now)."""
        headers = headers or self.login(wallet)
        review = self.client.get(f"/v1/me/labour-contracts/{contract_id}", headers=headers)
        assert review.status_code == 200, review.text
        record = self.pending_record(review.json())
        signature = sign_as_employee(
            record, wallet=wallet, card=wallet.social_security_card().token
        )
        return self.client.post(
            f"/v1/me/labour-contracts/{contract_id}/signature",
            json={"jws": signature.jws, "card_proof": signature.card_proof},
            headers=headers,
        )

    def signed_contract(self, wallet: Wallet, document: bytes = DOCUMENT) -> str:
        contract = self.upload(wallet, document)
        response = self.employer_signs(contract)
        assert response.status_code == 200, response.text
        response = self.employee_signs(contract["contract_id"], wallet)
        assert response.status_code == 200, response.text
        self.batcher.drain()
        return str(contract["contract_id"])

    def evidence(self, contract_id: str) -> bytes:
        response = self.client.get(
            f"/v1/labour-contracts/{contract_id}/evidence", headers=self.employer_headers()
        )
        assert response.status_code == 200, response.text
        return response.content


def open_labour_service(
    directory: Path,
    chain: Chain | None = None,
    *,
    database_url: str | None = None,
    crypto_profile: CryptoProfile | None = None,
) -> Iterator[LabourService]:
    """The service on `chain` (default: a fresh in-process one), in `crypto_profile` (default:
    the run's, ``HRSS_CRYPTO_PROFILE``)."""
    chain = chain if chain is not None else Chain.embedded()
    profile = {} if crypto_profile is None else {"crypto_profile": crypto_profile}
    settings = Settings(
        **profile,  # type: ignore[arg-type]
        dev_mode=True,
        database_url=database_url or f"sqlite:///{directory / 'hrss.db'}",
        keystore_path=directory / "service.keystore",
        keystore_passphrase=SecretStr("labour-test-passphrase"),
        deployment_path=directory / "deployment.json",
        issuer_url=ISSUER_URL,
        max_body_bytes=4 * 1024 * 1024,
    )
    context = ServiceContext.open(settings, chain=chain)
    credentials = bootstrap_demo(
        context, client_keystore_path=directory / "clients.keystore", client_passphrase="demo"
    )
    clients = FileKeystore.open(directory / "clients.keystore", "demo")
    employer = next(c.client_id for c in credentials if c.role == OrganisationKind.EMPLOYER)
    province = next(
        c.client_id
        for c in credentials
        if c.role == OrganisationKind.PROVINCE and c.client_id[2:4] == employer[2:4]
    )
    deployment = context.ledger.deployment  # type: ignore[attr-defined]
    signer = Signer.from_key(
        context.keystore.ensure("anchoring/labour-test", Curve.SECP256K1).private_bytes()
    )
    _ensure_anchoring_account(
        chain=chain,
        deployment=deployment,
        keystore=context.keystore,
        signer=signer,
        credit_code=settings.ministry_credit_code,
    )
    batcher = Batcher(
        engine=context.engine,
        ledger=NodeAnchorLedger(
            chain=chain, registry_address=deployment.anchor_registry, signer=signer
        ),
        owner="labour-test",
        policy=BatchPolicy(max_age=timedelta(0)),
    )
    app = create_app(settings, context=context)
    with TestClient(app, base_url=ISSUER_URL) as client:
        service = LabourService(
            context=context,
            settings=settings,
            client=client,
            chain=chain,
            employer=employer,
            employer_jwk=load_client_key(clients, employer),
            employer_signing_jwk=load_document_key(clients, employer),
            batcher=batcher,
            directory=directory,
            province=province,
            province_jwk=load_client_key(clients, province),
            employer_region=int(employer[2:8]),  # a credit code carries its region
        )
        trust = client.get("/v1/consents/trust")
        assert trust.status_code == 200, trust.text
        service.trust = {
            issuer: [Jwk.from_jwk(k) for k in keys] for issuer, keys in trust.json().items()
        }
        yield service
    context.close()
