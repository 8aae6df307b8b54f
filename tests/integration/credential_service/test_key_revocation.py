"""Ending and revoking organisations' client keys: on chain first, mirrored in the database,
refused at the token endpoint with their own codes, and ending the access tokens already
issued under the key."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlmodel import Session, col, select

from credential_service.errors import NotAuthenticated
from credential_service.models import AuditEntry, OrganisationKey, OrganisationKind
from credential_service.services.tokens import (
    CLIENT_KEY_CLAIM,
    decode_access_token,
    principal_of,
    read_standing,
)
from wallet_sdk import Curve, Jwk

from .conftest import Service, fresh_credit_code, sign_assertion

OPAQUE = {"code": "unauthenticated", "message": "authentication required", "detail": None}


def public_members(key: Jwk) -> dict[str, str]:
    return {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x", "y")}


def new_client(service: Service, *, keys: int = 2) -> tuple[str, list[Jwk]]:
    """A fresh employer accredited by the demo province, with ``keys`` Ed25519 keys."""
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    jwks = [Jwk.generate(Curve.ED25519) for _ in range(keys)]
    code = fresh_credit_code(440100)
    response = service.client.post(
        "/v1/organisations",
        json={
            "name": "密钥测试单位",
            "kind": "employer",
            "region": 440100,
            "credit_code": code,
            "keys": [public_members(k) for k in jwks],
        },
        headers=service.headers(province),
    )
    assert response.status_code == 201, response.text
    return code, jwks


def token_request(service: Service, client_id: str, key: Jwk, *, kid: bool = True) -> Any:
    private = key.private_jwk() | {"kid": key.thumbprint_b64()}
    assertion = sign_assertion(private, client_id=client_id)
    if not kid:
        assertion = jwt.encode(
            jwt.decode(assertion, options={"verify_signature": False}),
            key.private_key,
            algorithm="EdDSA",
        )
    return service.token_request(client_id, assertion=assertion)


def bearer(service: Service, client_id: str, key: Jwk) -> dict[str, str]:
    response = token_request(service, client_id, key)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def key_path(code: str, key: Jwk, action: str) -> str:
    return f"/v1/organisations/{code}/keys/{key.thumbprint_b64()}/{action}"


def registry(service: Service) -> Any:
    return service.context.ledger.registry  # type: ignore[attr-defined]


def chain_now(service: Service) -> int:
    """Now as the chain sees it (an in-process chain's clock may run ahead of ours)."""
    head: int = service.context.ledger.chain.block().timestamp  # type: ignore[attr-defined]
    return max(head, int(time.time()))


def audit_entry(service: Service, path: str) -> AuditEntry:
    """The latest audit entry of a request to ``path``."""
    with Session(service.context.engine) as session:
        entry = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.target).startswith(path))
            .order_by(col(AuditEntry.seq).desc())
        ).first()
    assert entry is not None, path
    return entry


def stored_key(service: Service, key: Jwk) -> OrganisationKey:
    with Session(service.context.engine) as session:
        row = session.exec(
            select(OrganisationKey).where(OrganisationKey.key_id == key.thumbprint_b64())
        ).one()
        return row


def as_unix(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


def test_a_revoked_key_gets_no_token_and_its_tokens_stop_working(service: Service) -> None:
    code, (leaked, spare) = new_client(service)
    issued = bearer(service, code, leaked)
    assert service.client.get("/v1/organisations/me", headers=issued).status_code == 200
    claims = jwt.decode(issued["Authorization"][7:], options={"verify_signature": False})
    assert claims[CLIENT_KEY_CLAIM] == leaked.thumbprint_b64()
    compromised = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    response = service.client.post(
        key_path(code, leaked, "revoke"),
        json={"reason": 7, "compromised_at": compromised.isoformat()},
        headers=bearer(service, code, spare),
    )

    assert response.status_code == 200, response.text
    assert as_unix(response.json()["valid_until"]) == int(compromised.timestamp())
    # 1. on chain: revoked from the compromise time, no longer valid
    record = registry(service).get_key(leaked.thumbprint())
    assert record.revoked_at == int(compromised.timestamp()) and record.valid_until == 0
    assert not registry(service).is_key_valid_at(leaked.thumbprint(), chain_now(service))
    assert registry(service).is_key_valid_at(spare.thumbprint(), chain_now(service))
    # 2. mirrored: the database's validity ends at the compromise
    row = stored_key(service, leaked)
    assert row.valid_until is not None
    assert int(row.valid_until.replace(tzinfo=UTC).timestamp()) == int(compromised.timestamp())
    # 3. the token endpoint refuses the key with its own code, with or without a kid
    for kid in (True, False):
        refused = token_request(service, code, leaked, kid=kid)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "client_key_revoked"
        assert refused.json()["error"] == "invalid_client"
    # 4. the access token issued before is refused (one opaque answer), the other key works
    me = service.client.get("/v1/organisations/me", headers=issued)
    assert me.status_code == 401 and me.json() == OPAQUE
    assert service.client.get(
        "/v1/organisations/me", headers=bearer(service, code, spare)
    ).is_success
    # 5. audited, with the reason
    entry = audit_entry(service, key_path(code, leaked, "revoke"))
    assert entry.actor == code and entry.outcome == "success" and entry.status_code == 200
    assert "revoked from" in entry.target and "reason 7" in entry.target


def test_an_ended_key_is_refused_as_expired(service: Service) -> None:
    code, (old, new) = new_client(service)
    issued = bearer(service, code, old)
    time.sleep(1.1)  # on chain a key ends after the second it starts in, never within it
    before = int(time.time())

    response = service.client.post(key_path(code, old, "end"), json={}, headers=issued)

    assert response.status_code == 200, response.text
    record = registry(service).get_key(old.thumbprint())
    # Now, or (on a chain whose clock runs ahead) the first second after its registration.
    latest = max(int(time.time()), record.valid_from + 1)
    assert record.revoked_at == 0 and before <= record.valid_until <= latest
    assert before <= as_unix(response.json()["valid_until"]) <= record.valid_until
    refused = token_request(service, code, old)
    assert refused.status_code == 401 and refused.json()["code"] == "client_key_expired"
    assert service.client.get("/v1/organisations/me", headers=issued).status_code == 401
    new_token = bearer(service, code, new)
    assert service.client.get("/v1/organisations/me", headers=new_token).status_code == 200
    entry = audit_entry(service, key_path(code, old, "end"))
    assert entry.outcome == "success" and "valid until" in entry.target


def test_a_key_can_be_ended_later_and_works_until_then(service: Service) -> None:
    code, (old, _new) = new_client(service)
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    response = service.client.post(
        key_path(code, old, "end"),
        json={"valid_until": until.isoformat()},
        headers=bearer(service, code, old),
    )
    assert response.status_code == 200, response.text
    assert registry(service).get_key(old.thumbprint()).valid_until == int(until.timestamp())
    assert token_request(service, code, old).status_code == 200


def test_the_cache_of_this_worker_is_invalidated_at_once(service: Service) -> None:
    code, (old, new) = new_client(service)
    token = bearer(service, code, old)["Authorization"][7:]
    policy, token_key = service.context.token_policy, service.context.token_key
    claims = decode_access_token(policy=policy, token_key=token_key, token=token)
    with Session(service.context.engine) as session:
        stale = read_standing(session=session, credit_code=code)
    cache = service.client.app.state.standing_cache  # type: ignore[attr-defined]
    cache.put(stale)
    assert principal_of(claims=claims, standing=stale).credit_code == code

    response = service.client.post(
        key_path(code, old, "revoke"), json={}, headers=bearer(service, code, new)
    )

    assert response.status_code == 200, response.text
    assert cache.get(code) is None  # forgotten by the route: the next request reads anew
    with Session(service.context.engine) as session:
        fresh = read_standing(session=session, credit_code=code)
    with pytest.raises(NotAuthenticated):
        principal_of(claims=claims, standing=fresh)
    # Another worker holding the stale entry accepts the token until its TTL (2 s) runs out.
    assert principal_of(claims=claims, standing=stale).credit_code == code


def test_the_last_valid_key_is_kept_unless_asked(service: Service) -> None:
    code, (only,) = new_client(service, keys=1)
    headers = bearer(service, code, only)
    for action in ("revoke", "end"):
        refused = service.client.post(key_path(code, only, action), json={}, headers=headers)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "last_active_key"
    record = registry(service).get_key(only.thumbprint())
    assert record.revoked_at == 0 and record.valid_until == 0
    assert stored_key(service, only).valid_until is None
    assert audit_entry(service, key_path(code, only, "end")).error_code == "last_active_key"

    revoked = service.client.post(
        key_path(code, only, "revoke"), json={"allow_last": True}, headers=headers
    )

    assert revoked.status_code == 200, revoked.text
    assert registry(service).get_key(only.thumbprint()).revoked_at > 0
    assert token_request(service, code, only).json()["code"] == "client_key_revoked"


def test_the_accreditor_may_revoke_others_may_not(service: Service) -> None:
    code, (first, second) = new_client(service)
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    other_province = service.credential(OrganisationKind.PROVINCE, 1).client_id
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    path = key_path(code, first, "revoke")

    foreign = service.client.post(path, json={}, headers=service.headers(other_province))
    assert foreign.status_code == 403 and foreign.json()["code"] == "tenant_forbidden"
    sibling = service.client.post(path, json={}, headers=service.headers(employer))
    assert sibling.status_code == 403 and sibling.json()["code"] == "tenant_forbidden"
    # a key of another organisation under one's own code is not one's key
    own_path = key_path(employer, first, "revoke")
    mine = service.client.post(own_path, json={}, headers=service.headers(employer))
    assert mine.status_code == 404 and mine.json()["code"] == "key_not_found"
    assert registry(service).get_key(first.thumbprint()).revoked_at == 0

    by_accreditor = service.client.post(path, json={}, headers=service.headers(province))

    assert by_accreditor.status_code == 200, by_accreditor.text
    assert registry(service).get_key(first.thumbprint()).revoked_at > 0
    assert token_request(service, code, second).status_code == 200


def test_unknown_keys_and_organisations(service: Service) -> None:
    code, (key, _other) = new_client(service)
    headers = bearer(service, code, key)
    stranger = Jwk.generate(Curve.ED25519)
    unknown = service.client.post(key_path(code, stranger, "revoke"), json={}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == "key_not_found"
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    nowhere = service.client.post(
        key_path(fresh_credit_code(440100), key, "end"),
        json={},
        headers=service.headers(province),
    )
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "organisation_not_found"
    narrowed = service.client.post(
        key_path(code, key, "revoke"),
        json={},
        headers={
            "Authorization": "Bearer "
            + service.token_request(
                code,
                assertion=sign_assertion(
                    key.private_jwk() | {"kid": key.thumbprint_b64()}, client_id=code
                ),
                scope="organisations:read",
            ).json()["access_token"]
        },
    )
    assert narrowed.status_code == 403 and narrowed.json()["code"] == "scope_missing"


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("revoke", {"compromised_at": "2999-01-01T00:00:00Z"}),
        ("revoke", {"compromised_at": "0001-01-01T00:00:00+01:00"}),
        ("end", {"valid_until": "2001-01-01T00:00:00Z"}),
    ],
)
def test_times_out_of_order_are_refused(
    service: Service, action: str, body: dict[str, str]
) -> None:
    code, (key, _other) = new_client(service)
    response = service.client.post(
        key_path(code, key, action), json=body, headers=bearer(service, code, key)
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "key_validity_invalid"
    assert registry(service).get_key(key.thumbprint()).revoked_at == 0


def test_revoking_twice_succeeds_and_only_moves_earlier(service: Service) -> None:
    code, (key, spare) = new_client(service)
    headers = bearer(service, code, spare)
    first = service.client.post(key_path(code, key, "revoke"), json={}, headers=headers)
    assert first.status_code == 200, first.text
    revoked_at = registry(service).get_key(key.thumbprint()).revoked_at

    again = service.client.post(key_path(code, key, "revoke"), json={}, headers=headers)

    assert again.status_code == 200, again.text
    assert again.json()["valid_until"] == first.json()["valid_until"]
    assert registry(service).get_key(key.thumbprint()).revoked_at == revoked_at
    assert "already revoked" in audit_entry(service, key_path(code, key, "revoke")).target
    earlier = datetime.fromtimestamp(revoked_at - 3600, tz=UTC)
    moved = service.client.post(
        key_path(code, key, "revoke"),
        json={"compromised_at": earlier.isoformat()},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert registry(service).get_key(key.thumbprint()).revoked_at == revoked_at - 3600
    assert as_unix(moved.json()["valid_until"]) == revoked_at - 3600
    # ending a revoked key changes nothing on chain
    ended = service.client.post(key_path(code, key, "end"), json={}, headers=headers)
    assert ended.status_code == 200, ended.text
    assert registry(service).get_key(key.thumbprint()).valid_until == 0


# -- key purposes (security issue #11.2) ------------------------------------------------------


def test_a_document_signing_key_does_not_authenticate_a_client(service: Service) -> None:
    code, (client_key, _spare) = new_client(service)
    signing_key = Jwk.generate(Curve.ED25519)
    registered = service.client.post(
        f"/v1/organisations/{code}/keys",
        json={"jwk": public_members(signing_key), "purpose": "document_signing"},
        headers=bearer(service, code, client_key),
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["purpose"] == "document_signing"
    on_chain = registry(service).get_key(signing_key.thumbprint())
    assert int(on_chain.purpose) == 3  # TrustRegistry KeyPurpose.DocumentSigning
    refused = token_request(service, code, signing_key)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "assertion_key_wrong_purpose"
    assert refused.json()["message"] == (
        f"key {signing_key.thumbprint_b64()} is registered for document_signing, not for "
        "client authentication"
    )


def test_a_key_valid_from_the_past_is_refused(service: Service) -> None:
    code, (client_key, _spare) = new_client(service)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    response = service.client.post(
        f"/v1/organisations/{code}/keys",
        json={
            "jwk": public_members(Jwk.generate(Curve.ED25519)),
            "valid_from": yesterday.isoformat(),
        },
        headers=bearer(service, code, client_key),
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "key_validity_invalid"
    assert response.json()["message"].startswith("valid_from lies in the past")
