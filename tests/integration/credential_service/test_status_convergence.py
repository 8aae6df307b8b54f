"""A change that reached the chain but whose database write was lost converges on retry: the
retry finds the change on chain, mirrors it into the database, and the audit entry says so.

The lost write is simulated by making the chain write directly, through the service's ledger
and the controller keys in its keystore, without touching the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from credential_service.jwk import parse_public_jwk
from credential_service.models import (
    KeyPurpose,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PublicJwk,
)
from credential_service.services.ledger import organisation_ledger_id
from credential_service.services.organisations import find_organisation
from node_adapter import EntityStatus
from wallet_sdk import Curve, Jwk

from .conftest import Service
from .test_key_revocation import (
    as_unix,
    audit_entry,
    bearer,
    key_path,
    new_client,
    public_members,
    registry,
    stored_key,
    token_request,
)


def organisation_row(service: Service, code: str) -> Organisation:
    with Session(service.context.engine) as session:
        found = find_organisation(session=session, credit_code=code)
    assert found is not None
    return found


def test_a_status_change_already_on_chain_is_mirrored(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    code, _keys = new_client(service)
    path = f"/v1/organisations/{code}/status"
    service.context.ledger.set_status(
        accreditor=province, credit_code=code, status=OrganisationStatus.SUSPENDED, reason=4
    )
    assert registry(service).entity(organisation_ledger_id(code)).status == EntityStatus.SUSPENDED
    assert organisation_row(service, code).status == OrganisationStatus.ACTIVE  # the lost write

    retried = service.client.post(
        path, json={"status": "suspended", "reason": 4}, headers=service.headers(province)
    )

    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "suspended" and retried.json()["status_reason"] == 4
    row = organisation_row(service, code)
    assert row.status == OrganisationStatus.SUSPENDED and row.status_reason == 4
    assert registry(service).entity(organisation_ledger_id(code)).status == EntityStatus.SUSPENDED
    entry = audit_entry(service, path)
    assert entry.outcome == "success" and "already on chain" in entry.target
    # the mirror is complete: the next change is an ordinary one, written on chain
    reinstated = service.client.post(
        path, json={"status": "active"}, headers=service.headers(province)
    )
    assert reinstated.status_code == 200, reinstated.text
    assert registry(service).entity(organisation_ledger_id(code)).status == EntityStatus.ACTIVE
    assert "already on chain" not in audit_entry(service, path).target


def test_a_key_registration_already_on_chain_is_mirrored(service: Service) -> None:
    code, (existing, _spare) = new_client(service)
    key = Jwk.generate(Curve.P256)
    service.context.ledger.register_key(
        credit_code=code,
        key=parse_public_jwk(PublicJwk.model_validate(public_members(key))),
        purpose=KeyPurpose.CLIENT_AUTHENTICATION,
        valid_from=None,  # from its registration block
        valid_until=None,
    )
    started = datetime.fromtimestamp(registry(service).get_key(key.thumbprint()).valid_from, UTC)
    path = f"/v1/organisations/{code}/keys"

    retried = service.client.post(
        path, json={"jwk": public_members(key)}, headers=bearer(service, code, existing)
    )

    assert retried.status_code == 201, retried.text
    on_chain = registry(service).get_key(key.thumbprint())
    assert on_chain.valid_from == int(started.timestamp())
    assert as_unix(retried.json()["valid_from"]) <= on_chain.valid_from
    row = stored_key(service, key)
    # Mirrored, except that "from now" is not later than now here (a chain clock ahead).
    assert int(row.valid_from.replace(tzinfo=UTC).timestamp()) <= on_chain.valid_from
    assert row.valid_until is None
    assert "already on chain" in audit_entry(service, path).target
    assert token_request(service, code, key).status_code == 200


def test_a_key_registered_for_another_organisation_conflicts(service: Service) -> None:
    code, (key, _spare) = new_client(service)
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    response = service.client.post(
        f"/v1/organisations/{employer}/keys",
        json={"jwk": public_members(key)},
        headers=service.headers(employer),
    )
    assert response.status_code == 409 and response.json()["code"] == "key_exists"
    assert registry(service).get_key(key.thumbprint()).entity_id == organisation_ledger_id(code)


def test_a_key_revocation_already_on_chain_is_mirrored(service: Service) -> None:
    code, (leaked, spare) = new_client(service)
    at = int(datetime.now(UTC).timestamp()) - 60
    service.context.ledger.revoke_key(actor=code, key_id=leaked.thumbprint(), revoked_at=at)
    # the database does not know yet, so the key still gets tokens here
    assert token_request(service, code, leaked).status_code == 200
    compromised = datetime.fromtimestamp(at, tz=UTC).isoformat()

    retried = service.client.post(
        key_path(code, leaked, "revoke"),
        json={"compromised_at": compromised},
        headers=bearer(service, code, spare),
    )

    assert retried.status_code == 200, retried.text
    assert registry(service).get_key(leaked.thumbprint()).revoked_at == at
    assert as_unix(retried.json()["valid_until"]) == at
    assert "already revoked" in audit_entry(service, key_path(code, leaked, "revoke")).target
    assert token_request(service, code, leaked).json()["code"] == "client_key_revoked"
