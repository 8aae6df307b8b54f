"""Consent requests: their JSON form, their checks and vocabularies, their signed QR code."""

from __future__ import annotations

import json

import pytest

from tests.unit.wallet_sdk.consent.conftest import NOW, SERVICE, MakeRequest
from wallet_sdk.consent import (
    ConsentRequest,
    DataCategory,
    Purpose,
    encode_consent_request_qr,
    parse_consent_request_qr,
)
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.qr import QrPayloadType, encode_qr_payload


def test_request_round_trips_through_json(make_request: MakeRequest) -> None:
    request = make_request()
    assert ConsentRequest.from_json(json.loads(json.dumps(request.to_json()))) == request
    assert request.purposes == (Purpose.RECRUITMENT, Purpose.SKILL_VERIFICATION)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"purposes": ["marketing"]}, "controlled vocabulary"),
        ({"purposes": []}, "must not be empty"),
        ({"data_categories": ["identity", "identity"]}, "must not repeat"),
        ({"duration_seconds": 10}, "duration_seconds"),
        ({"legal_basis": "legitimate-interest"}, "unknown legal basis"),
        ({"data_categories": ["bank-account"]}, "separate consent"),
    ],
)
def test_request_rejects_invalid_fields(
    make_request: MakeRequest, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(FormatError, match=message):
        make_request(**overrides)


def test_sensitive_category_accepted_under_separate_consent(make_request: MakeRequest) -> None:
    request = make_request(
        data_categories=["bank-account"], legal_basis="pipl-art29-separate-consent"
    )
    assert request.data_categories == (DataCategory.BANK_ACCOUNT,)


def test_request_from_json_rejects_wrong_version(make_request: MakeRequest) -> None:
    data = make_request().to_json() | {"version": "hrss-consent-request/9"}
    with pytest.raises(FormatError, match="not a hrss-consent-request/1"):
        ConsentRequest.from_json(data)


def test_request_qr_round_trip(make_request: MakeRequest, service_key: Jwk, trusted: dict) -> None:
    request = make_request()
    text = encode_consent_request_qr(request, issuer=SERVICE, key=service_key)
    assert parse_consent_request_qr(text, trusted_keys=trusted, now=NOW + 5) == request


def test_request_qr_rejects_forgery(make_request: MakeRequest, trusted: dict) -> None:
    forger = Jwk.generate(Curve.ED25519).with_kid(trusted[SERVICE][0].thumbprint_b64())
    text = encode_consent_request_qr(make_request(), issuer=SERVICE, key=forger)
    with pytest.raises(VerificationError) as caught:
        parse_consent_request_qr(text, trusted_keys=trusted, now=NOW)
    assert caught.value.check == "signature"


def test_request_qr_rejects_expired(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    text = encode_consent_request_qr(make_request(), issuer=SERVICE, key=service_key)
    with pytest.raises(VerificationError) as caught:
        parse_consent_request_qr(text, trusted_keys=trusted, now=NOW + 3600)
    assert caught.value.check == "expired"


def test_request_qr_rejects_other_payload_type(service_key: Jwk, trusted: dict) -> None:
    text = encode_qr_payload(
        type=QrPayloadType.LOGIN_CHALLENGE,
        issuer=SERVICE,
        audience="urn:hrss:wallet",
        issued_at=NOW,
        expires_at=NOW + 60,
        body={},
        key=service_key,
    )
    with pytest.raises(VerificationError) as caught:
        parse_consent_request_qr(text, trusted_keys=trusted, now=NOW)
    assert caught.value.check == "type"


def test_a_value_outside_the_vocabulary_is_named_with_the_allowed_ones(
    make_request: MakeRequest,
) -> None:
    with pytest.raises(FormatError) as refused:
        make_request(purposes=["marketing"])
    message = str(refused.value)
    assert "'marketing'" in message
    assert all(purpose.value in message for purpose in Purpose)
    with pytest.raises(FormatError) as refused:
        make_request(data_categories=["shoe-size"])
    assert all(category.value in str(refused.value) for category in DataCategory)
