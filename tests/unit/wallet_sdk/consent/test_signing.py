"""EIP-712 grants and withdrawals: signed by the holder, bound to the request and the
registry, recovered as the registry recovers them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.unit.wallet_sdk.consent.conftest import HOLDER_KEY, NOW, OTHER_KEY, REGISTRY, MakeRequest
from wallet_sdk.consent import (
    ConsentOpening,
    Purpose,
    RegistryDomain,
    SignedConsent,
    grant_digest,
    sign_grant,
    sign_withdrawal,
)
from wallet_sdk.errors import FormatError, VerificationError


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
