"""POST /v1/auth/token (private_key_jwt) and access tokens on resource endpoints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from credential_service.models import OrganisationKind
from credential_service.services.tokens import SCOPES_BY_ROLE
from wallet_sdk import Curve, Jwk

from .conftest import ISSUER_URL, TOKEN_URL, Service, fresh_credit_code, sign_assertion

pytestmark = pytest.mark.usefixtures("service")


def assert_oauth_error(response, status: int, error: str, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["code"] == code
    assert set(body) >= {"error", "error_description", "code", "message", "detail"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("role", list(OrganisationKind))
def test_every_demo_role_gets_a_token_with_its_scopes(
    service: Service, role: OrganisationKind
) -> None:
    client_id = service.credentials[role].client_id
    response = service.token_request(client_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == SCOPES_BY_ROLE[role]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == client_id and claims["role"] == role.value
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "EdDSA"
    me = service.client.get(
        "/v1/organisations/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["credit_code"] == client_id


def test_scope_can_be_narrowed_but_not_widened(service: Service) -> None:
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    narrowed = service.token_request(employer, scope="organisations:read")
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "organisations:read"
    widened = service.token_request(employer, scope="organisations:accredit")
    assert_oauth_error(widened, 400, "invalid_scope", "invalid_scope")


def test_expired_assertion(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    old = int(time.time()) - 3600
    response = service.token_request(issuer, assertion=service.assertion(issuer, issued_at=old))
    assert_oauth_error(response, 401, "invalid_client", "assertion_expired")


def test_wrong_audience(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    assertion = service.assertion(issuer, audience="https://elsewhere.example/token")
    response = service.token_request(issuer, assertion=assertion)
    assert_oauth_error(response, 401, "invalid_client", "assertion_wrong_audience")


def test_issuer_url_is_an_accepted_audience(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    response = service.token_request(
        issuer, assertion=service.assertion(issuer, audience=ISSUER_URL)
    )
    assert response.status_code == 200


def test_replayed_jti(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    assertion = service.assertion(issuer, jti=f"once-{uuid.uuid4()}")
    assert service.token_request(issuer, assertion=assertion).status_code == 200
    replay = service.token_request(issuer, assertion=assertion)
    assert_oauth_error(replay, 401, "invalid_client", "assertion_replayed")


def test_alg_none(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": issuer,
        "aud": f"{ISSUER_URL}/v1/auth/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    unsigned = jwt.encode(claims, None, algorithm="none")
    response = service.token_request(issuer, assertion=unsigned)
    assert_oauth_error(response, 401, "invalid_client", "assertion_alg_none")


def test_hs256_signed_with_the_public_key(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    public = Jwk.from_jwk(service.private_jwk(issuer)).public_jwk()
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": issuer,
        "aud": f"{ISSUER_URL}/v1/auth/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }

    # the classic confusion: the registered public key used as an HMAC secret
    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        segment(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        + "."
        + segment(json.dumps(claims).encode())
    )
    mac = hmac.new(public["x"].encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{segment(mac)}"
    response = service.token_request(issuer, assertion=forged)
    assert_oauth_error(response, 401, "invalid_client", "assertion_alg_not_allowed")


def test_key_not_registered(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    stranger = Jwk.generate(Curve.ED25519)
    private = stranger.private_jwk() | {"kid": stranger.thumbprint_b64()}
    assertion = sign_assertion(private, client_id=issuer)
    response = service.token_request(issuer, assertion=assertion)
    assert_oauth_error(response, 401, "invalid_client", "assertion_key_not_registered")


def test_signature_by_another_key_under_a_registered_kid(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    stranger = Jwk.generate(Curve.ED25519)
    private = stranger.private_jwk() | {"kid": service.credentials[OrganisationKind.ISSUER].key_id}
    response = service.token_request(issuer, assertion=sign_assertion(private, client_id=issuer))
    assert_oauth_error(response, 401, "invalid_client", "assertion_signature_invalid")


def test_unknown_client(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    unknown = fresh_credit_code(440100)
    assertion = sign_assertion(service.private_jwk(issuer), client_id=unknown)
    response = service.token_request(unknown, assertion=assertion)
    assert_oauth_error(response, 401, "invalid_client", "client_unknown")


def test_iss_and_sub_must_match(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    other = service.credentials[OrganisationKind.EMPLOYER].client_id
    assertion = service.assertion(issuer, extra={"sub": other})
    response = service.token_request(issuer, assertion=assertion)
    assert_oauth_error(response, 401, "invalid_client", "assertion_issuer_mismatch")


def test_assertion_from_the_future(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    later = int(time.time()) + 3600
    response = service.token_request(issuer, assertion=service.assertion(issuer, issued_at=later))
    assert_oauth_error(response, 401, "invalid_client", "assertion_not_yet_valid")


def test_oversized_form_field_is_an_oauth_error(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    response = service.token_request(issuer, assertion="a" * 9000)
    assert_oauth_error(response, 400, "invalid_request", "invalid_token_request")


def test_assertion_lifetime_is_bounded(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    response = service.token_request(issuer, assertion=service.assertion(issuer, lifetime=86400))
    assert_oauth_error(response, 401, "invalid_client", "assertion_lifetime_too_long")


def test_malformed_assertion_and_bad_grant(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    assert_oauth_error(
        service.token_request(issuer, assertion="not.a.jwt"),
        401,
        "invalid_client",
        "assertion_malformed",
    )
    assert_oauth_error(
        service.token_request(issuer, grant_type="password"),
        400,
        "unsupported_grant_type",
        "unsupported_grant_type",
    )
    missing = service.client.post("/v1/auth/token", data={"grant_type": "client_credentials"})
    assert_oauth_error(missing, 400, "invalid_request", "invalid_token_request")


def _new_employer(service: Service) -> tuple[str, dict[str, str]]:
    """A fresh employer under Guangdong with its own key; returns (client_id, private JWK)."""
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    key = Jwk.generate(Curve.ED25519)
    code = fresh_credit_code(440100)
    public = {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x")}
    created = service.client.post(
        "/v1/organisations",
        json={
            "name": "临时用人单位",
            "credit_code": code,
            "kind": "employer",
            "region": 440100,
            "keys": [public],
        },
        headers=service.headers(province),
    )
    assert created.status_code == 201, created.text
    return code, key.private_jwk() | {"kid": key.thumbprint_b64()}


@pytest.mark.parametrize(
    ("status", "code"), [("suspended", "client_suspended"), ("revoked", "client_revoked")]
)
def test_suspended_or_revoked_organisation(service: Service, status: str, code: str) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    employer, jwk = _new_employer(service)
    ok = service.token_request(employer, assertion=sign_assertion(jwk, client_id=employer))
    assert ok.status_code == 200
    held = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    changed = service.client.post(
        f"/v1/organisations/{employer}/status",
        json={"status": status, "reason": 7},
        headers=service.headers(province),
    )
    assert changed.status_code == 200, changed.text
    refused = service.token_request(employer, assertion=sign_assertion(jwk, client_id=employer))
    assert_oauth_error(refused, 401, "invalid_client", code)
    # a token issued before the change stops working at once, with the opaque answer
    after = service.client.get("/v1/organisations/me", headers=held)
    assert after.status_code == 401 and after.json()["code"] == "unauthenticated"


OPAQUE = {"code": "unauthenticated", "message": "authentication required", "detail": None}


def test_resource_authentication_failures_are_one_opaque_answer(service: Service) -> None:
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    now = int(time.time())
    foreign_key = ed25519.Ed25519PrivateKey.generate()
    forged = jwt.encode(
        {
            "iss": ISSUER_URL,
            "sub": issuer,
            "aud": f"{ISSUER_URL}/v1",
            "iat": now,
            "exp": now + 60,
            "jti": "x",
            "scope": "organisations:read",
        },
        foreign_key,
        algorithm="EdDSA",
        headers={"typ": "at+jwt"},
    )
    genuine = service.token(issuer)
    expired_claims = jwt.decode(genuine, options={"verify_signature": False}) | {
        "iat": now - 7200,
        "exp": now - 3600,
    }
    expired = jwt.encode(
        expired_claims,
        service.context.token_key.key.private_key,
        algorithm="EdDSA",
        headers={"typ": "at+jwt"},
    )
    assertion_as_token = service.assertion(issuer)
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer garbage"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {assertion_as_token}"},
    ):
        response = service.client.get("/v1/organisations/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == OPAQUE
        assert response.headers["www-authenticate"] == "Bearer"


def test_token_for_another_tenants_resource(service: Service) -> None:
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    court = service.credentials[OrganisationKind.COURT].client_id
    response = service.client.get(f"/v1/organisations/{court}", headers=service.headers(employer))
    assert response.status_code == 403
    assert response.json()["code"] == "tenant_forbidden"
    keys = service.client.post(
        f"/v1/organisations/{court}/keys",
        json={
            "jwk": {
                k: v
                for k, v in Jwk.generate(Curve.ED25519).public_jwk().items()
                if k in ("kty", "crv", "x")
            }
        },
        headers=service.headers(employer),
    )
    assert keys.status_code == 403 and keys.json()["code"] == "tenant_forbidden"


def test_role_without_scope_is_refused(service: Service) -> None:
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    response = service.client.post(
        "/v1/organisations",
        json={
            "name": "x",
            "credit_code": fresh_credit_code(440100),
            "kind": "employer",
            "region": 440100,
        },
        headers=service.headers(employer),
    )
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"


@pytest.mark.parametrize(
    "header",
    [
        {
            "jwk": {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            }
        },
        {"jku": "https://attacker.example/jwks.json"},
        {"x5c": ["MIIBszCCAVmgAwIBAgIUQ"]},
        {"x5u": "https://attacker.example/cert.pem"},
    ],
    ids=["jwk", "jku", "x5c", "x5u"],
)
def test_assertion_naming_a_key_of_its_own_is_refused(
    service: Service, header: dict[str, object]
) -> None:
    """An assertion that carries or points at a key is refused even when the registered key
    signed it: keys come from the registry only (RFC 7523 section 3, RFC 8725 section 3.10)."""
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    private = Jwk.from_jwk(service.private_jwk(issuer))
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": issuer,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    assertion = jwt.encode(
        claims,
        private.private_key,
        algorithm="EdDSA",
        headers={"kid": service.credentials[OrganisationKind.ISSUER].key_id, **header},
    )
    response = service.token_request(issuer, assertion=assertion)
    assert_oauth_error(response, 401, "invalid_client", "assertion_header_not_allowed")
    name = next(iter(header))
    assert response.json()["message"] == f"the assertion header {name} is not allowed"


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_assertion_times_must_be_numbers(service: Service, claim: str) -> None:
    """A numeric string passes PyJWT's own checks of ``exp``; RFC 7519 wants a NumericDate."""
    issuer = service.credentials[OrganisationKind.ISSUER].client_id
    now = int(time.time())
    value = str(now + 30) if claim == "exp" else str(now)
    response = service.token_request(
        issuer, assertion=service.assertion(issuer, extra={claim: value})
    )
    assert_oauth_error(response, 401, "invalid_client", "assertion_malformed")
    assert response.json()["message"] == f"{claim} must be a number (NumericDate)"
