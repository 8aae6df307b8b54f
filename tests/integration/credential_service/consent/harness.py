"""A running service with the consent routes, on its own in-process chain, for the consent
integration and end-to-end tests: data users with tokens, cardholder wallets that log in by QR
with the e-card the Guangdong card centre activated for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.bootstrap import bootstrap_demo, load_client_key
from credential_service.context import ServiceContext
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.keystore import FileKeystore
from credential_service.models import OrganisationKind
from node_adapter import Chain
from tests.fixtures.cards import CardCentre, card_subject, citizen_id
from tests.fixtures.organisations import ISSUER_URL, accredit_through_api, bearer_headers
from wallet_sdk.jose import Jwk
from wallet_sdk.wallet import Wallet

WALLET_AUDIENCE = "urn:hrss:wallet"

# The scenario's personal data: it may travel through the service, never onto the chain.
PERSON_NAME = "张三丰"
PERSON_ID_NUMBER = "110101199003071233"
PERSON_PHONE = "13800138000"
SUBJECT_REFERENCE = f"{PERSON_NAME} {PERSON_ID_NUMBER} {PERSON_PHONE}"


@dataclass
class ConsentService:
    """The service under test and helpers to act as data users and cardholders."""

    context: ServiceContext
    client: TestClient
    chain: Chain
    keys: dict[str, dict[str, str]]
    data_users: list[str]
    trust: dict[str, list[Jwk]]
    directory: Path
    roles: dict[str, OrganisationKind] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)
    """The ID number of each wallet's cardholder, by holder address."""
    _wallets: int = field(default=0)
    _cards: CardCentre | None = field(default=None)

    @property
    def cards(self) -> CardCentre:
        """The Guangdong card centre, activating e-cards for this service's wallets."""
        if self._cards is None:
            province = next(
                client
                for client, kind in self.roles.items()
                if kind == OrganisationKind.PROVINCE and client[2:4] == "44"
            )
            self._cards = CardCentre(
                client=self.client,
                headers=self.org_headers,
                centre=self.client_of(OrganisationKind.CARD_ISSUER),
                province=province,
            )
        return self._cards

    def client_of(self, role: OrganisationKind) -> str:
        """The first demo organisation of `role`."""
        return next(client for client, kind in self.roles.items() if kind == role)

    def org_headers(self, client_id: str) -> dict[str, str]:
        return bearer_headers(self.client, client_id, self.keys[client_id])

    def wallet(self, id_number: str | None = None, *, card: bool = True) -> Wallet:
        """A cardholder's wallet with the e-card of `id_number` (default: a new person of
        their own; none when not `card`)."""
        self._wallets += 1
        # The cardholder's wallet is in the service's profile (SM2 did:jwk in the national one).
        wallet = Wallet.create(
            self.directory / f"wallet-{self._wallets}",
            "pass",
            scrypt_n=2**10,
            profile=self.context.settings.crypto_profile.value,
        )
        if card:
            person = id_number or citizen_id(self._wallets)
            self.cards.activate(wallet, card_subject(person))
            self.subjects[wallet.address] = person
        return wallet

    def login(self, wallet: Wallet) -> dict[str, str]:
        """QR login: challenge → wallet answer with its e-card (activated first if the wallet
        has none) → cardholder token."""
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

    def request_consent(
        self, data_user: str, subject: Wallet | str | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """A consent request about `subject` (a wallet's cardholder, an ID number; default
        the scenario's person)."""
        if isinstance(subject, Wallet):
            subject = self.subjects[subject.address]
        body = {
            "subject_id_number": subject or PERSON_ID_NUMBER,
            "purposes": ["recruitment", "skill-verification"],
            "data_categories": ["identity", "skill-certificate"],
            "duration_seconds": 30 * 24 * 3600,
            "contact": "privacy@data-user.example.cn",
            "notice": "Checking the welding certificate of the applicant.",
            "subject_reference": SUBJECT_REFERENCE,
            **overrides,
        }
        response = self.client.post(
            "/v1/consent-requests", json=body, headers=self.org_headers(data_user)
        )
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def check(self, data_user: str, consent_id: str, purpose: str = "recruitment") -> Any:
        return self.client.post(
            "/v1/consents/check",
            json={"consent_id": consent_id, "purpose": purpose},
            headers=self.org_headers(data_user),
        )


def _second_data_user(client: TestClient, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    return accredit_through_api(
        client, headers, name="杭州某人力资源服务公司", kind="data_user", region=330100, prefix="12"
    )


def open_consent_service(
    directory: Path,
    chain: Chain | None = None,
    *,
    database_url: str | None = None,
    **settings_overrides: Any,
) -> Iterator[ConsentService]:
    """A service on `chain` (default: a fresh in-process chain) with its own registries;
    `settings_overrides` are further ``Settings`` fields."""
    chain = chain if chain is not None else Chain.embedded()
    settings = Settings(
        **settings_overrides,
        dev_mode=True,
        database_url=database_url or f"sqlite:///{directory / 'hrss.db'}",
        keystore_path=directory / "service.keystore",
        keystore_passphrase=SecretStr("consent-test-passphrase"),
        deployment_path=directory / "deployment.json",
        issuer_url=ISSUER_URL,
    )
    context = ServiceContext.open(settings, chain=chain)
    credentials = bootstrap_demo(
        context, client_keystore_path=directory / "clients.keystore", client_passphrase="demo"
    )
    clients = FileKeystore.open(directory / "clients.keystore", "demo")
    keys = {c.client_id: load_client_key(clients, c.client_id) for c in credentials}
    data_user = next(c.client_id for c in credentials if c.role == OrganisationKind.DATA_USER)
    province = next(
        c.client_id
        for c in credentials
        if c.role == OrganisationKind.PROVINCE and c.client_id[2:4] == "33"
    )
    app = create_app(settings, context=context)
    runtime = CredentialRuntime.from_service(context, follow_interval=None)
    app.state.credential_runtime = runtime
    with TestClient(app, base_url=ISSUER_URL) as client:
        service = ConsentService(
            context=context,
            client=client,
            chain=chain,
            keys=keys,
            data_users=[data_user],
            trust={},
            directory=directory,
            roles={c.client_id: c.role for c in credentials},
        )
        second, second_key = _second_data_user(client, service.org_headers(province))
        service.keys[second] = second_key
        service.data_users.append(second)
        trust = client.get("/v1/consents/trust")
        assert trust.status_code == 200, trust.text
        service.trust = {
            issuer: [Jwk.from_jwk(k) for k in keys_] for issuer, keys_ in trust.json().items()
        }
        yield service
    runtime.close()
    context.close()


@pytest.fixture(scope="module")
def consent_service(
    tmp_path_factory: pytest.TempPathFactory,
    database_backend: str,
    database_url_factory: Callable[[str], str],
) -> Iterator[ConsentService]:
    """The consent service of a test module, once on SQLite and once on PostgreSQL."""
    yield from open_consent_service(
        tmp_path_factory.mktemp("consent-service"),
        database_url=database_url_factory(database_backend),
    )
