"""Accreditation, status and keys: through the API, on chain and mirrored in the database."""

from __future__ import annotations

import pytest

from credential_service.models import OrganisationKind
from credential_service.services.ledger import organisation_ledger_id
from node_adapter import EntityStatus, Kind
from node_adapter import KeyAlgorithm as ChainKeyAlgorithm
from wallet_sdk import Curve, Jwk

from .conftest import Service, fresh_credit_code


def public_members(key: Jwk) -> dict[str, str]:
    return {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x", "y")}


def accredit(service: Service, accreditor: str, **fields: object):  # type: ignore[no-untyped-def]
    body = {"name": "测试单位", "kind": "issuer", "region": 440100, **fields}
    body.setdefault("credit_code", fresh_credit_code(int(body["region"])))  # type: ignore[call-overload]
    return service.client.post("/v1/organisations", json=body, headers=service.headers(accreditor))


def test_province_accredits_an_issuer_on_chain(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    key = Jwk.generate(Curve.P256)
    response = accredit(service, province, keys=[public_members(key)])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active" and body["accreditor"] == province
    ledger_id = organisation_ledger_id(body["credit_code"])
    assert body["ledger_id"] == "0x" + ledger_id.hex()
    registry = service.context.ledger.registry  # type: ignore[attr-defined]
    entity = registry.entity(ledger_id)
    assert entity.kind == Kind.ISSUER and entity.region == 440100
    assert entity.parent == organisation_ledger_id(province)
    assert registry.is_controller(ledger_id, body["controller_address"])
    on_chain = registry.get_key(key.thumbprint())
    assert on_chain.alg == ChainKeyAlgorithm.ES256 and on_chain.entity_id == ledger_id
    assert on_chain.public_key == key.raw_public_key()
    listed = service.client.get("/v1/organisations", headers=service.headers(province))
    assert body["credit_code"] in {o["credit_code"] for o in listed.json()}


@pytest.mark.parametrize(
    ("accreditor_role", "fields", "status", "code"),
    [
        (OrganisationKind.PROVINCE, {"region": 330100}, 400, "region_outside_province"),
        (OrganisationKind.MINISTRY, {"kind": "issuer"}, 403, "accreditation_not_allowed"),
        (
            OrganisationKind.PROVINCE,
            {"kind": "province", "region": 440000},
            403,
            "accreditation_not_allowed",
        ),
        (
            OrganisationKind.PROVINCE,
            {"credit_code": "91440100MA00000000"},
            400,
            "credit_code_invalid",
        ),
        (
            OrganisationKind.PROVINCE,
            {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]},
            400,
            "jwk_invalid",
        ),
    ],
)
def test_accreditation_rejects(
    service: Service, accreditor_role: OrganisationKind, fields: dict, status: int, code: str
) -> None:
    response = accredit(service, service.credentials[accreditor_role].client_id, **fields)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_accrediting_twice_conflicts(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    code = fresh_credit_code(440100)
    assert accredit(service, province, credit_code=code).status_code == 201
    again = accredit(service, province, credit_code=code)
    assert again.status_code == 409 and again.json()["code"] == "organisation_exists"


def test_status_changes_by_the_accreditor_only(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    other_province = [
        c.client_id for c in service.by_id.values() if c.role == OrganisationKind.PROVINCE
    ][1]
    code = accredit(service, province).json()["credit_code"]
    path = f"/v1/organisations/{code}/status"
    registry = service.context.ledger.registry  # type: ignore[attr-defined]
    foreign = service.client.post(
        path, json={"status": "suspended"}, headers=service.headers(other_province)
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "tenant_forbidden"
    suspended = service.client.post(
        path, json={"status": "suspended", "reason": 3}, headers=service.headers(province)
    )
    assert suspended.status_code == 200 and suspended.json()["status_reason"] == 3
    assert registry.entity(organisation_ledger_id(code)).status == EntityStatus.SUSPENDED
    again = service.client.post(
        path, json={"status": "suspended"}, headers=service.headers(province)
    )
    assert again.status_code == 409 and again.json()["code"] == "status_transition_invalid"
    active = service.client.post(path, json={"status": "active"}, headers=service.headers(province))
    assert active.status_code == 200
    revoked = service.client.post(
        path, json={"status": "revoked"}, headers=service.headers(province)
    )
    assert revoked.status_code == 200
    assert registry.entity(organisation_ledger_id(code)).status == EntityStatus.REVOKED
    final = service.client.post(path, json={"status": "active"}, headers=service.headers(province))
    assert final.status_code == 409 and final.json()["code"] == "status_transition_invalid"


def test_organisation_registers_its_own_keys(service: Service) -> None:
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    path = f"/v1/organisations/{employer}/keys"
    key = Jwk.generate(Curve.ED25519)
    created = service.client.post(
        path, json={"jwk": public_members(key)}, headers=service.headers(employer)
    )
    assert created.status_code == 201, created.text
    assert created.json()["key_id"] == key.thumbprint_b64() and created.json()["alg"] == "EdDSA"
    registry = service.context.ledger.registry  # type: ignore[attr-defined]
    record = registry.get_key(key.thumbprint())
    assert record.alg == ChainKeyAlgorithm.EDDSA and record.public_key == key.raw_public_key()
    duplicate = service.client.post(
        path, json={"jwk": public_members(key)}, headers=service.headers(employer)
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "key_exists"
    listed = service.client.get(path, headers=service.headers(employer)).json()
    assert key.thumbprint_b64() in {k["key_id"] for k in listed}


@pytest.mark.parametrize(
    ("jwk", "code"),
    [
        (lambda k: k.private_jwk(), "jwk_private_material"),
        (
            lambda k: {
                "kty": "EC",
                "crv": "P-256",
                "x": public_members(k)["x"],
                "y": public_members(k)["x"],
            },
            "jwk_invalid",
        ),
    ],
)
def test_key_rejects(service: Service, jwk, code: str) -> None:  # type: ignore[no-untyped-def]
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    key = Jwk.generate(Curve.P256)
    response = service.client.post(
        f"/v1/organisations/{employer}/keys",
        json={"jwk": jwk(key)},
        headers=service.headers(employer),
    )
    assert response.status_code == 400 and response.json()["code"] == code


def test_key_validity_must_be_ordered(service: Service) -> None:
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    response = service.client.post(
        f"/v1/organisations/{employer}/keys",
        json={
            "jwk": public_members(Jwk.generate(Curve.ED25519)),
            "valid_from": "2030-01-01T00:00:00Z",
            "valid_until": "2029-01-01T00:00:00Z",
        },
        headers=service.headers(employer),
    )
    assert response.status_code == 400 and response.json()["code"] == "key_validity_invalid"


def test_unknown_organisation(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    response = service.client.get(
        f"/v1/organisations/{fresh_credit_code(440100)}", headers=service.headers(province)
    )
    assert response.status_code == 404 and response.json()["code"] == "organisation_not_found"
