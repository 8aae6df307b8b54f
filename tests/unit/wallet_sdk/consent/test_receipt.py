"""Consent receipts: issued by the service, verified offline by anyone who trusts its key."""

from __future__ import annotations

import pytest

from tests.unit.wallet_sdk.consent.conftest import (
    HOLDER_KEY,
    NOW,
    OTHER_KEY,
    SERVICE,
    MakeRequest,
    receipt_token,
)
from wallet_sdk.consent import ReceiptEvent, sign_grant, sign_withdrawal, verify_consent_receipt
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Curve, Jwk


def test_grant_receipt_verifies(make_request: MakeRequest, service_key: Jwk, trusted: dict) -> None:
    request = make_request()
    receipt = verify_consent_receipt(receipt_token(request, service_key), trusted_keys=trusted)
    assert receipt.event is ReceiptEvent.GRANT
    assert receipt.request == request
    assert receipt.raw["controller"]["credit_code"] == "91110000600037341L"
    assert receipt.raw["purposes"][0]["code"] == "recruitment"


@pytest.mark.parametrize("curve", [Curve.P384, Curve.P521, Curve.SM2])
def test_receipts_signed_on_every_signing_curve_verify(
    make_request: MakeRequest, curve: Curve
) -> None:
    service_key = Jwk.generate(curve)
    token = receipt_token(make_request(), service_key)
    receipt = verify_consent_receipt(token, trusted_keys={SERVICE: [service_key.public()]})
    assert receipt.event is ReceiptEvent.GRANT


def test_withdrawal_receipt_verifies(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=HOLDER_KEY)
    token = receipt_token(
        request, service_key, signed=signed, event=ReceiptEvent.WITHDRAWAL, withdrawal=withdrawal
    )
    assert verify_consent_receipt(token, trusted_keys=trusted).withdrawal == withdrawal


def test_withdrawal_receipt_by_another_key_is_rejected(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=OTHER_KEY)
    token = receipt_token(
        request, service_key, signed=signed, event=ReceiptEvent.WITHDRAWAL, withdrawal=withdrawal
    )
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(token, trusted_keys=trusted)
    assert caught.value.check == "withdrawal"


def test_receipt_from_untrusted_issuer_is_rejected(make_request: MakeRequest) -> None:
    token = receipt_token(make_request(), Jwk.generate(Curve.ED25519))
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(token, trusted_keys={})
    assert caught.value.check == "issuer"


def test_receipt_for_another_request_is_rejected(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW)
    token = receipt_token(make_request(), service_key, signed=signed)
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(token, trusted_keys=trusted)
    assert caught.value.check == "request"
