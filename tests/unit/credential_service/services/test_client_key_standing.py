"""Access tokens name the client key they were obtained with; a token is refused once that
key's validity has ended (revoked or rotated away), whatever the token's own expiry."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import jwt
import pytest

from credential_service.errors import NotAuthenticated
from credential_service.models import OrganisationKind, OrganisationStatus
from credential_service.services.tokens import (
    ACCESS_TOKEN_TYPE,
    CLIENT_KEY_CLAIM,
    AccessTokenClaims,
    OrganisationStanding,
    ServiceTokenKey,
    TokenPolicy,
    decode_access_token,
    principal_of,
)
from wallet_sdk.jose import Curve, Jwk, read_unverified_header

CODE = "91440100MA5ABCDE1X"
POLICY = TokenPolicy(
    issuer="http://testserver",
    token_endpoint="http://testserver/v1/auth/token",
    access_token_lifetime=timedelta(minutes=5),
    assertion_max_lifetime=timedelta(minutes=5),
    leeway=timedelta(seconds=30),
)
TOKEN_KEY = ServiceTokenKey(Jwk.generate(Curve.ED25519))


def standing(**key_ends: float | None) -> OrganisationStanding:
    return OrganisationStanding(
        organisation_id=7,
        credit_code=CODE,
        role=OrganisationKind.EMPLOYER,
        status=OrganisationStatus.ACTIVE,
        key_ends=key_ends,
    )


def claims(client_key: str) -> AccessTokenClaims:
    return AccessTokenClaims(
        subject=CODE, scope="organisations:read", expires_at=2_000_000_000, client_key=client_key
    )


def test_a_token_of_a_valid_key_is_accepted() -> None:
    assert principal_of(claims=claims("open"), standing=standing(open=None)).credit_code == CODE
    later = standing(ending=1_000.0)
    assert principal_of(claims=claims("ending"), standing=later, now=999.9).credit_code == CODE


@pytest.mark.parametrize(
    ("key", "found", "now"),
    [
        ("ended", standing(ended=1_000.0), 1_000.0),  # the end is the first second refused
        ("ended", standing(ended=1_000.0), 5_000.0),
        ("unknown", standing(other=None), 1_000.0),  # not a key of this organisation
    ],
)
def test_a_token_of_an_ended_or_unknown_key_is_refused(
    key: str, found: OrganisationStanding, now: float
) -> None:
    with pytest.raises(NotAuthenticated):
        principal_of(claims=claims(key), standing=found, now=now)


def _token(**extra: object) -> str:
    now = int(time.time())
    body = {
        "iss": POLICY.issuer,
        "sub": CODE,
        "aud": POLICY.audience,
        "scope": "organisations:read",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        **extra,
    }
    return jwt.encode(
        body, TOKEN_KEY.key.private_key, algorithm="EdDSA", headers={"typ": ACCESS_TOKEN_TYPE}
    )


def test_decoding_keeps_the_client_key_and_requires_it() -> None:
    decoded = decode_access_token(
        policy=POLICY, token_key=TOKEN_KEY, token=_token(**{CLIENT_KEY_CLAIM: "k1"})
    )
    assert decoded.client_key == "k1"
    for missing in (_token(), _token(**{CLIENT_KEY_CLAIM: 5})):
        with pytest.raises(NotAuthenticated):
            decode_access_token(policy=POLICY, token_key=TOKEN_KEY, token=missing)


def test_an_sm2_token_key_signs_access_tokens_that_only_it_accepts() -> None:
    """National profile: the service's key is SM2, its tokens SM2SM3 through wallet_sdk.jose;
    an international (Ed25519) service refuses them, and the SM2 service refuses EdDSA ones."""
    sm2 = ServiceTokenKey(Jwk.generate(Curve.SM2))
    now = int(time.time())
    token = sm2.sign(
        {
            "iss": POLICY.issuer, "sub": CODE, "aud": POLICY.audience, "scope": "x",
            "iat": now, "exp": now + 60, "jti": "j", CLIENT_KEY_CLAIM: "k1",
        },
        typ=ACCESS_TOKEN_TYPE,
    )  # fmt: skip
    assert read_unverified_header(token)["alg"] == "SM2SM3"
    assert decode_access_token(policy=POLICY, token_key=sm2, token=token).client_key == "k1"
    with pytest.raises(NotAuthenticated):
        decode_access_token(policy=POLICY, token_key=TOKEN_KEY, token=token)
    with pytest.raises(NotAuthenticated):
        decode_access_token(policy=POLICY, token_key=sm2, token=_token(**{CLIENT_KEY_CLAIM: "k1"}))
