"""Factories for the consent domain's unit tests: a migrated SQLite database, organisations,
an in-memory `ConsentLedger` that follows the contract's rules, signed grants, and e-cards of
an accredited card centre on the embedded chain of the credential tests (`world`), so a
grant's identity proof runs the whole credential pipeline."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from credential_service.consent.ledger import ChainTime, RelayedTx
from credential_service.consent.models import ConsentRequestCreate
from credential_service.consent.service import ConsentSigner, create_consent_request
from credential_service.errors import ErrorCode, LedgerRejected
from credential_service.models import Organisation
from credential_service.persistence import create_database_engine, migrate
from credential_service.services.ledger import organisation_ledger_id
from node_adapter import ConsentOnChain
from tests.fixtures.cards import card_subject
from tests.unit.wallet_sdk.credentials.conftest import card_centre, world  # noqa: F401  (fixtures)
from tests.unit.wallet_sdk.credentials.world import DemoIssuer, TrustWorld
from wallet_sdk.consent import (
    ConsentRequest,
    GrantTerms,
    RegistryDomain,
    SignedConsent,
    present_identity_proof,
)
from wallet_sdk.credentials import CredentialVerifier
from wallet_sdk.jose import Curve, Jwk

NOW = 1_760_000_000
DOMAIN = RegistryDomain(chain_id=1337, address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
SUBJECT_ID_NUMBER = "11010519491231002X"
"""The data subject every `make_request` request names."""


@dataclass
class FakeLedger:
    """`ConsentLedger` in memory, with `isValid` as the contract computes it."""

    block_number: int = 10
    block_time: int = NOW
    consents: dict[bytes, ConsentOnChain] = field(default_factory=dict)
    nonces: set[tuple[str, int]] = field(default_factory=set)
    inactive: set[bytes] = field(default_factory=set)
    domain: RegistryDomain = DOMAIN

    def latest(self) -> ChainTime:
        return ChainTime(self.block_number, self.block_time)

    def _mine(self) -> RelayedTx:
        self.block_number += 1
        self.block_time += 1
        return RelayedTx("0x" + secrets.token_hex(32), self.block_number, self.block_time)

    def grant(self, *, terms: GrantTerms, signature: bytes) -> RelayedTx:
        from wallet_sdk.consent import grant_digest

        if (terms.holder, terms.nonce) in self.nonces:
            raise LedgerRejected(
                "nonce used", code=ErrorCode.CHAIN_REJECTED, detail={"error": "NonceAlreadyUsed"}
            )
        self.nonces.add((terms.holder, terms.nonce))
        self.consents[grant_digest(terms, self.domain)] = ConsentOnChain(
            holder=terms.holder,
            grantee=terms.grantee,
            purpose_hash=terms.purpose_hash,
            scope_hash=terms.scope_hash,
            not_before=terms.not_before,
            not_after=terms.not_after,
            withdrawn_at=0,
        )
        return self._mine()

    def withdraw(self, *, consent_id: bytes, nonce: int, signature: bytes) -> RelayedTx:
        tx = self._mine()
        old = self.consents[consent_id]
        self.consents[consent_id] = replace(old, withdrawn_at=tx.block_time)
        return tx

    def consent_of(self, *, consent_id: bytes, block: int) -> ConsentOnChain | None:
        return self.consents.get(consent_id)

    def is_valid(
        self, *, consent_id: bytes, grantee: bytes, purpose_hash: bytes, at: int, block: int
    ) -> bool:
        c = self.consents.get(consent_id)
        if c is None or (c.withdrawn_at and at >= c.withdrawn_at):
            return False
        if not c.not_before <= at < c.not_after:
            return False
        if c.grantee != grantee or c.purpose_hash != purpose_hash:
            return False
        return grantee not in self.inactive

    def nonce_used(self, *, holder: str, nonce: int) -> bool:
        return (holder, nonce) in self.nonces


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A migrated database, SQLite and PostgreSQL (``database_url`` runs the module on both)."""
    engine = create_database_engine(database_url)
    migrate(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def signer() -> ConsentSigner:
    return ConsentSigner(
        issuer="https://hrss.example",
        key=Jwk.generate(Curve.ED25519),
        sealing_secret=secrets.token_bytes(32),
    )


@pytest.fixture
def make_org(session: Session) -> Callable[..., Organisation]:
    counter = iter(range(10, 99))

    def make(
        kind: str = "data_user", status: str = "active", accreditor: Organisation | None = None
    ) -> Organisation:
        code = f"1233010{next(counter)}MB000000X"[:18]
        organisation = Organisation(
            credit_code=code,
            name=f"org {code}",
            kind=kind,
            region=330100,
            status=status,
            accreditor_id=accreditor.id if accreditor else None,
            ledger_id="0x" + organisation_ledger_id(code).hex(),
            controller_address="0x" + "00" * 20,
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
        session.add(organisation)
        session.commit()
        session.refresh(organisation)
        return organisation

    return make


@pytest.fixture
def make_request(
    session: Session, ledger: FakeLedger, signer: ConsentSigner
) -> Callable[..., ConsentRequest]:
    def make(data_user: Organisation, **overrides: Any) -> ConsentRequest:
        fields: dict[str, Any] = {
            "purposes": ["recruitment", "skill-verification"],
            "data_categories": ["identity"],
            "duration_seconds": 24 * 3600,
            "contact": "dpo@example.cn",
            "subject_id_number": SUBJECT_ID_NUMBER,
        }
        fields.update(overrides)
        created = create_consent_request(
            session=session,
            ledger=ledger,
            signer=signer,
            data_user=data_user,
            create=ConsentRequestCreate(**fields),
            now=NOW,
        )
        return ConsentRequest.from_json(created.request)

    return make


@dataclass(frozen=True)
class ECard:
    """A person's e-card (SD-JWT) and the credential key it is bound to."""

    token: str
    credential_key: Jwk

    def prove(self, signed: SignedConsent, request: ConsentRequest) -> SignedConsent:
        """`signed` with this card's identity proof to `request`'s data user, presented now
        (the card verifier judges the key binding's freshness by the wall clock)."""
        return present_identity_proof(
            self.token,
            holder_key=self.credential_key,
            consent=signed,
            controller=request.controller,
            issued_at=int(time.time()),
        )


@pytest.fixture
def e_card(world: TrustWorld, card_centre: DemoIssuer) -> Callable[[str], ECard]:  # noqa: F811
    """The e-card of the person with an ID number, issued by the accredited card centre and
    registered active on the chain (one card per person and test)."""
    cards: dict[str, ECard] = {}

    def card(id_number: str) -> ECard:
        if id_number not in cards:
            credential_key = Jwk.generate(Curve.ED25519)
            issued = world.issue(
                card_centre,
                "SocialSecurityCard",
                card_subject(id_number),
                sd=True,
                holder_key=credential_key,
            )
            cards[id_number] = ECard(issued.token, credential_key)
        return cards[id_number]

    return card


@pytest.fixture
def card_verifier(world: TrustWorld) -> CredentialVerifier:  # noqa: F811
    """An e-card verifier running the whole pipeline against the chain's trust state, read
    directly (a cached state would not see the cards `e_card` registers after it was built)."""
    return world.verifier(world.direct_view())
