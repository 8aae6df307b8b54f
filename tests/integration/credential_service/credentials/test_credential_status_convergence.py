"""A credential status change that reached `StatusRegistry` but whose database write was lost
converges on retry: the retry mirrors the chain's status and the audit entry says so.

The lost write is simulated by setting the status on chain directly, with the issuer's
controller key from the service keystore, without touching the database."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from credential_service.credentials.models import CredentialRecord
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.models import AuditEntry, OrganisationKind
from node_adapter import CredentialStatus
from tests.integration.credential_service.conftest import Service
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT


def post(service: Service, client_id: str, path: str, body: Any) -> Any:
    return service.client.post(path, json=body, headers=service.headers(client_id))


def stored_state(service: Service, credential_id: str) -> str:
    with Session(service.context.engine) as session:
        record = session.get(CredentialRecord, credential_id)
    assert record is not None
    return record.state


def test_a_credential_status_already_on_chain_is_mirrored(
    service: Service, runtime: CredentialRuntime
) -> None:
    province = service.credential(OrganisationKind.PROVINCE).client_id
    school = service.credential(OrganisationKind.ISSUER).client_id
    allowed = service.client.put(
        f"/v1/credential-types/TechnicalSchoolDiploma/issuers/{school}",
        json={"allowed": True},
        headers=service.headers(province),
    )
    assert allowed.status_code == 200, allowed.text
    issued = post(
        service,
        school,
        "/v1/credentials",
        {"credentials": [{"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}]},
    )
    assert issued.status_code in (200, 201), issued.text
    credential_id: str = issued.json()["credentials"][0]["id"]
    chain_id = bytes.fromhex(credential_id.removeprefix("0x"))
    registry = runtime.clients.status_registry
    registry.set_status(
        runtime.controller(school),
        credential_id=chain_id,
        status=CredentialStatus.SUSPENDED,
        reason=12,
    )
    assert stored_state(service, credential_id) == "active"  # the lost write
    path = f"/v1/credentials/{credential_id}/status"

    retried = post(service, school, path, {"status": "suspended", "reason": 12})

    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "suspended"
    assert stored_state(service, credential_id) == "suspended"
    assert registry.current_status(chain_id).status == CredentialStatus.SUSPENDED
    with Session(service.context.engine) as session:
        entry = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.target).startswith(path))
            .order_by(col(AuditEntry.seq).desc())
        ).first()
    assert entry is not None and entry.outcome == "success"
    assert "already on chain" in entry.target
    # an ordinary change after the mirror still goes to the chain
    assert post(service, school, path, {"status": "active"}).status_code == 200
    assert registry.current_status(chain_id).status == CredentialStatus.ACTIVE
    assert stored_state(service, credential_id) == "active"
