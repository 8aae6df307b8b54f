"""Consent formats: requests, QR payloads, commitments, EIP-712 grants, withdrawals, receipts."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.unit.wallet.conftest import NOW, REGISTRY, SERVICE
from wallet_sdk.consent import (
    ConsentOnChain,
    ConsentOpening,
    ConsentRequest,
    DataCategory,
    Purpose,
    ReceiptEvent,
    RegistryDomain,
    SignedConsent,
    encode_consent_request_qr,
    grant_digest,
    issue_consent_receipt,
    parse_consent_request_qr,
    purpose_commitment,
    scope_commitment,
    sign_grant,
    sign_withdrawal,
    verify_consent_receipt,
    verify_consent_receipt_on_chain,
)
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.qr import QrPayloadType, encode_qr_payload

MakeRequest = Callable[..., ConsentRequest]
HOLDER_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OTHER_KEY = bytes.fromhex("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f")


# -- requests ----------------------------------------------------------------------------------


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


# -- commitments -------------------------------------------------------------------------------


def test_commitments_are_keyed_and_order_independent() -> None:
    salt = secrets.token_bytes(32)
    a = purpose_commitment(salt, ["recruitment", "skill-verification"])
    assert a == purpose_commitment(salt, ["skill-verification", "recruitment"])
    assert a != purpose_commitment(secrets.token_bytes(32), ["recruitment", "skill-verification"])
    plain = json.dumps(["recruitment", "skill-verification"], separators=(",", ":")).encode()
    assert a != hashlib.sha256(plain).digest()
    digest = secrets.token_bytes(32)
    assert scope_commitment(salt, ["identity"], digest) != scope_commitment(
        salt, ["identity"], secrets.token_bytes(32)
    )


def test_commitment_refuses_short_salt() -> None:
    with pytest.raises(FormatError, match="32 random bytes"):
        purpose_commitment(b"short", ["recruitment"])


# -- grants ------------------------------------------------------------------------------------


def test_grant_signature_verifies_and_matches_node_adapter(make_request: MakeRequest) -> None:
    from node_adapter import ConsentGrant, consent_id

    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW)
    signed.verify()
    grant = ConsentGrant(
        **{
            f: getattr(signed.terms, f)
            for f in (
                "holder",
                "grantee",
                "purpose_hash",
                "scope_hash",
                "not_before",
                "not_after",
                "nonce",
            )
        }
    )
    assert consent_id(grant, REGISTRY.chain_id, REGISTRY.address) == signed.consent_id
    assert SignedConsent.from_json(json.loads(json.dumps(signed.to_json()))) == signed


def test_grant_may_narrow_the_request(make_request: MakeRequest) -> None:
    request = make_request()
    signed = sign_grant(
        request, private_key=HOLDER_KEY, now=NOW, purposes=["recruitment"], not_after=NOW + 3600
    )
    assert signed.opening.purposes == (Purpose.RECRUITMENT,)
    assert signed.terms.not_after == NOW + 3600


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"purposes": ["job-matching"]}, "cannot add purposes"),
        ({"data_categories": ["contact"]}, "cannot add data categories"),
        ({"not_after": NOW + 365 * 24 * 3600}, "cannot last longer"),
    ],
)
def test_grant_cannot_exceed_the_request(
    make_request: MakeRequest, choice: dict[str, object], message: str
) -> None:
    with pytest.raises(FormatError, match=message):
        sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW, **choice)


def test_grant_refuses_expired_request(make_request: MakeRequest) -> None:
    with pytest.raises(VerificationError, match="expired"):
        sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW + 3600)


def test_forged_grant_signature_is_rejected(make_request: MakeRequest) -> None:
    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW)
    other = sign_grant(make_request(), private_key=OTHER_KEY, now=NOW)
    forged = replace(signed, signature=other.signature)
    with pytest.raises(VerificationError) as caught:
        forged.verify()
    assert caught.value.check == "signature"


def test_malleable_grant_signature_is_rejected(make_request: MakeRequest) -> None:
    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signed.signature[32:64], "big")
    flipped = (
        signed.signature[:32] + (n - s).to_bytes(32, "big") + bytes([55 - signed.signature[64]])
    )
    with pytest.raises(VerificationError, match="malleable"):
        replace(signed, signature=flipped).verify()


def test_tampered_opening_is_rejected(make_request: MakeRequest) -> None:
    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW, purposes=["recruitment"])
    wider = ConsentOpening(
        salt=signed.opening.salt,
        purposes=(Purpose.RECRUITMENT, Purpose.SKILL_VERIFICATION),
        data_categories=signed.opening.data_categories,
        request_digest=signed.opening.request_digest,
    )
    with pytest.raises(VerificationError) as caught:
        replace(signed, opening=wider).verify()
    assert caught.value.check == "commitment"


def test_grant_is_bound_to_the_registry_domain(make_request: MakeRequest) -> None:
    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW)
    other_chain = RegistryDomain(chain_id=1, address=REGISTRY.address)
    assert grant_digest(signed.terms, other_chain) != signed.consent_id
    with pytest.raises(VerificationError, match="not signed by its holder"):
        replace(signed, domain=other_chain).verify()


def test_withdrawal_recovers_the_holder(make_request: MakeRequest) -> None:
    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=HOLDER_KEY)
    assert withdrawal.signer() == signed.terms.holder


# -- receipts ----------------------------------------------------------------------------------


def _receipt(request: ConsentRequest, service_key: Jwk, **kwargs: object) -> str:
    signed = kwargs.pop("signed", None) or sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    return issue_consent_receipt(
        event=kwargs.pop("event", ReceiptEvent.GRANT),  # type: ignore[arg-type]
        consent=signed,  # type: ignore[arg-type]
        request=request,
        issuer=SERVICE,
        key=service_key,
        issued_at=NOW,
        transaction_hash="0x" + "ab" * 32,
        block_number=7,
        block_time=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def test_grant_receipt_verifies(make_request: MakeRequest, service_key: Jwk, trusted: dict) -> None:
    request = make_request()
    receipt = verify_consent_receipt(_receipt(request, service_key), trusted_keys=trusted)
    assert receipt.event is ReceiptEvent.GRANT
    assert receipt.request == request
    assert receipt.raw["controller"]["credit_code"] == "91110000600037341L"
    assert receipt.raw["purposes"][0]["code"] == "recruitment"


@pytest.mark.parametrize("curve", [Curve.P384, Curve.P521, Curve.SM2])
def test_receipts_signed_on_every_signing_curve_verify(
    make_request: MakeRequest, curve: Curve
) -> None:
    service_key = Jwk.generate(curve)
    token = _receipt(make_request(), service_key)
    receipt = verify_consent_receipt(token, trusted_keys={SERVICE: [service_key.public()]})
    assert receipt.event is ReceiptEvent.GRANT


def test_withdrawal_receipt_verifies(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=HOLDER_KEY)
    token = _receipt(
        request, service_key, signed=signed, event=ReceiptEvent.WITHDRAWAL, withdrawal=withdrawal
    )
    assert verify_consent_receipt(token, trusted_keys=trusted).withdrawal == withdrawal


def test_withdrawal_receipt_by_another_key_is_rejected(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    withdrawal = sign_withdrawal(signed.consent_id, signed.domain, private_key=OTHER_KEY)
    token = _receipt(
        request, service_key, signed=signed, event=ReceiptEvent.WITHDRAWAL, withdrawal=withdrawal
    )
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(token, trusted_keys=trusted)
    assert caught.value.check == "withdrawal"


def test_receipt_from_untrusted_issuer_is_rejected(make_request: MakeRequest) -> None:
    token = _receipt(make_request(), Jwk.generate(Curve.ED25519))
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(token, trusted_keys={})
    assert caught.value.check == "issuer"


def test_receipt_for_another_request_is_rejected(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    signed = sign_grant(make_request(), private_key=HOLDER_KEY, now=NOW)
    token = _receipt(make_request(), service_key, signed=signed)
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt(token, trusted_keys=trusted)
    assert caught.value.check == "request"


# -- receipts against the chain --------------------------------------------------------------


class FakeView:
    def __init__(self, record: ConsentOnChain | None, chain_id: int = REGISTRY.chain_id) -> None:
        self.record, self.chain = record, chain_id

    def chain_id(self) -> int:
        return self.chain

    def consent_of(self, registry: str, consent_id: bytes) -> ConsentOnChain | None:
        if self.record is None:
            return None
        assert registry == REGISTRY.address
        return self.record


class BrokenView(FakeView):
    def chain_id(self) -> int:
        raise OSError("node down")


def _on_chain(signed: SignedConsent, **changes: object) -> ConsentOnChain:
    terms = signed.terms
    fields: dict[str, object] = {
        "holder": terms.holder.lower(),
        "grantee": terms.grantee,
        "purpose_hash": terms.purpose_hash,
        "scope_hash": terms.scope_hash,
        "not_before": terms.not_before,
        "not_after": terms.not_after,
        "withdrawn_at": 0,
    }
    fields.update(changes)
    return ConsentOnChain(**fields)  # type: ignore[arg-type]


def test_receipt_matches_the_chain(
    make_request: MakeRequest, service_key: Jwk, trusted: dict
) -> None:
    request = make_request()
    signed = sign_grant(request, private_key=HOLDER_KEY, now=NOW)
    receipt = verify_consent_receipt(
        _receipt(request, service_key, signed=signed), trusted_keys=trusted
    )
    assert verify_consent_receipt_on_chain(receipt, FakeView(_on_chain(signed))).withdrawn_at == 0


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
    token = _receipt(
        request, service_key, signed=signed, event=ReceiptEvent.WITHDRAWAL, withdrawal=withdrawal
    )
    receipt = verify_consent_receipt(token, trusted_keys=trusted)
    views = {
        "other_chain": FakeView(_on_chain(signed, withdrawn_at=NOW), chain_id=1),
        "broken": BrokenView(None),
        "absent": FakeView(None),
        "other_terms": FakeView(_on_chain(signed, not_after=signed.terms.not_after + 1)),
        "not_withdrawn": FakeView(_on_chain(signed)),
    }
    with pytest.raises(VerificationError) as caught:
        verify_consent_receipt_on_chain(receipt, views[view])
    assert caught.value.check == check


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


def test_a_grant_wider_than_the_request_names_what_was_asked(make_request: MakeRequest) -> None:
    from wallet_sdk.consent import sign_grant

    request = make_request()  # recruitment, skill-verification
    with pytest.raises(FormatError) as refused:
        sign_grant(
            request, private_key=b"\x01" * 32, now=request.created_at, purposes=["job-matching"]
        )
    message = str(refused.value)
    assert "job-matching" in message
    assert "recruitment, skill-verification" in message
