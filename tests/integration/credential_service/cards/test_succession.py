"""Holder succession at the card desk (in-process chain, SQLite and PostgreSQL): when the
person's card moves to a new phone whose wallet proved its holder address, the card centre's
controller records old address → new address on ``ConsentRegistry`` and the service keeps it;
the cardholder routes then answer for the earlier phone's consents. The whole flow over a real
anvil and the wallet commands is ``tests/e2e/test_phone_change.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from credential_service.cards.models import CardHolding, HolderSuccessionRecord
from credential_service.cards.service import holder_predecessors
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.services.ledger import organisation_ledger_id
from tests.integration.credential_service.conftest import Service
from wallet_sdk.card_activation import create_activation_proof
from wallet_sdk.consent import address_of_public_key
from wallet_sdk.jose import Curve, Jwk

from .test_activation import centre  # noqa: F401  (fixture)

CARD = {
    "name": "周文华",
    "idNumber": "440106197702280017",
    "cardNumber": "M44055555",
    "issuingRegion": "440106",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}


class Phone:
    """A wallet's two keys: the credential key the card binds, the holder key of consents."""

    def __init__(self) -> None:
        self.credential_key = Jwk.generate(Curve.ED25519)
        self.holder_key = Jwk.generate(Curve.SECP256K1)
        self.address = address_of_public_key(self.holder_key)


def _activate_on(
    service: Service, card_centre: str, phone: Phone, *, prove_holder: bool = True
) -> Any:
    headers = service.headers(card_centre)
    asked = service.client.post("/v1/cards/activations", json=CARD, headers=headers)
    assert asked.status_code == 201, asked.text
    proof = create_activation_proof(
        asked.json()["activation_code"],
        key=phone.credential_key,
        now=int(datetime.now(UTC).timestamp()),
        holder_key=phone.holder_key if prove_holder else None,
    )
    redeemed = service.client.post("/v1/cards/activations/redeem", json={"proof": proof})
    assert redeemed.status_code == 201, redeemed.text
    return redeemed.json()


@pytest.fixture(autouse=True)
def _one_person(service: Service) -> None:
    """Each test starts from a person with no card: the tests share one database, and this
    module's person is the only one whose wallets prove their holder address."""
    with Session(service.context.engine) as session:
        for holding in session.exec(
            select(CardHolding).where(col(CardHolding.holder_address).is_not(None))
        ).all():
            session.delete(holding)
        session.commit()


def test_a_new_phone_succeeds_the_old_on_chain_and_in_the_service(
    service: Service,
    runtime: CredentialRuntime,
    centre: str,  # noqa: F811
) -> None:
    first, second, third = Phone(), Phone(), Phone()
    assert _activate_on(service, centre, first)["replaced"] is None
    registry = runtime.clients.consent_registry
    assert registry.successor_of(first.address) is None
    assert _activate_on(service, centre, second)["replaced"] is not None
    link = registry.successor_of(first.address)
    assert link is not None and link.successor == second.address
    _activate_on(service, centre, third)
    assert registry.is_successor_of(first.address, third.address)
    with Session(service.context.engine) as session:
        row = session.get(HolderSuccessionRecord, first.address)
        assert row is not None and row.successor == second.address
        assert row.recorded_at == link.at and row.transaction_hash.startswith("0x")
        assert holder_predecessors(session=session, holder=third.address) == [
            second.address,
            first.address,
        ]
        assert holder_predecessors(session=session, holder=first.address) == []


def test_a_wallet_that_proves_no_holder_address_ends_the_line(
    service: Service,
    runtime: CredentialRuntime,
    centre: str,  # noqa: F811
) -> None:
    first, unproven, later = Phone(), Phone(), Phone()
    _activate_on(service, centre, first)
    _activate_on(service, centre, unproven, prove_holder=False)
    _activate_on(service, centre, later)
    registry = runtime.clients.consent_registry
    # Nothing links the first phone to a wallet whose holder address nobody proved.
    assert registry.successor_of(first.address) is None
    assert registry.successor_of(unproven.address) is None
    with Session(service.context.engine) as session:
        assert holder_predecessors(session=session, holder=later.address) == []


def test_a_retry_finds_the_succession_on_chain_and_keeps_it(
    service: Service,
    runtime: CredentialRuntime,
    centre: str,  # noqa: F811
) -> None:
    first, second = Phone(), Phone()
    _activate_on(service, centre, first)
    # An earlier attempt's transaction landed but its database write was lost.
    registry = runtime.clients.consent_registry
    registry.record_succession(
        runtime.controller(centre),
        card_issuer=organisation_ledger_id(centre),
        predecessor=first.address,
        successor=second.address,
    )
    _activate_on(service, centre, second)
    with Session(service.context.engine) as session:
        row = session.get(HolderSuccessionRecord, first.address)
        assert row is not None and row.successor == second.address
        assert row.transaction_hash == ""
