"""Consent receipts checked against the registry through a view of the chain, failing closed."""

from __future__ import annotations

import pytest

from tests.unit.wallet_sdk.consent.conftest import (
    HOLDER_KEY,
    NOW,
    BrokenView,
    FakeView,
    MakeRequest,
    on_chain_record,
    receipt_token,
)
from wallet_sdk.consent import (
    ReceiptEvent,
    sign_grant,
    sign_withdrawal,
    verify_consent_receipt,
    verify_consent_receipt_on_chain,
)
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Jwk


def test_receipt_matches_the_chain(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    receipt = verify_consent_receipt(
        receipt_token(request, service_key, signed=signed), trusted_keys=trusted
    )
    assert (
        verify_consent_receipt_on_chain(receipt, FakeView(on_chain_record(signed))).withdrawn_at
        == 0
    )


@pytest.mark.parametrize(
    ("view", "check"),
    [
        ("other_chain", "chain"),
        ("broken", "chain"),
        ("absent", "recorded"),
        ("other_terms", "terms"),
        ("not_withdrawn", "withdrawn"),
    ],
)
def test_receipt_against_a_chain_that_disagrees(
    make_request: MakeRequest, service_key: Jwk, trusted: dict, view: str, check: str
) -> None:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=HOLDER_KEY)
    token = receipt_token(
        request, service_key, signed=signed, event=ReceiptEvent.WITHDRAWAL, withdrawal=withdrawal
    )
    receipt = verify_consent_receipt(token, trusted_keys=trusted)
    views = {
        "other_chain": FakeView(on_chain_record(signed, withdrawn_at=NOW), chain_id=1),
        "broken": BrokenView(None),
        "absent": FakeView(None),
        "other_terms": FakeView(on_chain_record(signed, not_after=signed.terms.not_after + 1)),
        "not_withdrawn": FakeView(on_chain_record(signed)),
    }
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt_on_chain(receipt, views[view])
    assert caught.value.check == check
