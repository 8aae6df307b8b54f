"""Consent receipts of a withdrawal signed by the holder's successor (the person's new phone):
offline, the receipt must name the successor; against the chain, the registry must hold the
succession."""

from __future__ import annotations

import pytest

from tests.unit.wallet_sdk.consent.conftest import (
    HOLDER_KEY,
    NOW,
    OTHER_KEY,
    FakeView,
    MakeRequest,
    on_chain_record,
    receipt_token,
)
from wallet_sdk.consent import (
    ConsentOnChain,
    ReceiptEvent,
    sign_grant,
    sign_withdrawal,
    verify_consent_receipt,
    verify_consent_receipt_on_chain,
)
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Jwk


class SuccessionView(FakeView):
    """A chain whose registry holds the successions in `links` (holder → successors)."""

    def __init__(self, record: ConsentOnChain | None, links: dict[str, set[str]]) -> None:
        super().__init__(record)
        self.links = links

    def is_successor_of(self, registry: str, holder: str, candidate: str) -> bool:
        return candidate in self.links.get(holder, set())


def _withdrawn_by_successor(
    make_request: MakeRequest, service_key: Jwk, trusted: dict, *, name: bool
) -> tuple[str, str, ConsentOnChain]:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=OTHER_KEY)
    successor = withdrawal.signer()
    token = receipt_token(
        request,
        service_key,
        signed=signed,
        event=ReceiptEvent.WITHDRAWAL,
        withdrawal=withdrawal,
        withdrawn_by=successor if name else None,
    )
    return token, successor, on_chain_record(signed, withdrawn_at=NOW)


def test_a_withdrawal_by_the_named_successor_verifies_with_the_succession_on_chain(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    token, successor, record = _withdrawn_by_successor(
        make_request, service_key, trusted, name=True
    )
    receipt = verify_consent_receipt(token, trusted_keys=trusted)
    assert receipt.withdrawn_by == successor
    holder = receipt.consent.terms.holder
    view = SuccessionView(record, {holder: {successor}})
    assert verify_consent_receipt_on_chain(receipt, view).withdrawn_at == NOW


def test_a_named_successor_the_chain_does_not_know_fails_check_succession(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    token, _, record = _withdrawn_by_successor(make_request, service_key, trusted, name=True)
    receipt = verify_consent_receipt(token, trusted_keys=trusted)
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt_on_chain(receipt, SuccessionView(record, {}))
    assert caught.value.check == "succession"
    assert caught.value.message == (
        "the registry holds no succession from the holder to the signer"
    )


def test_a_withdrawal_by_another_key_that_the_receipt_does_not_name_is_rejected(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    token, _, _ = _withdrawn_by_successor(make_request, service_key, trusted, name=False)
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(token, trusted_keys=trusted)
    assert caught.value.check == "withdrawal"
