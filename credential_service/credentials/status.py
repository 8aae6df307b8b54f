"""Credential status: suspend, reinstate or revoke a credential in `StatusRegistry` (by its
issuer or the issuer's accreditor), and read it back through the cached chain state.

Every function takes keyword-only arguments and raises only `ServiceError` subclasses.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from credential_service.credentials.issuers import issue_time, may_manage
from credential_service.credentials.models import (
    CredentialRecord,
    CredentialStatusChange,
    CredentialStatusPublic,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import ErrorCode, NotFound
from credential_service.models import Organisation, utc_now
from credential_service.services.audit import note_for_audit

__all__ = ["change_credential_status", "credential_status"]

_FROM_CHAIN_STATUS = {0: "unknown", 1: "active", 2: "suspended", 3: "revoked"}


def _visible_credential(
    *, session: Session, actor: Organisation, credential_id: str
) -> tuple[CredentialRecord, Organisation]:
    record = session.get(CredentialRecord, credential_id.lower())
    issuer = None if record is None else session.get(Organisation, record.organisation_id)
    if record is None or issuer is None or not may_manage(actor, issuer):
        # Another tenant's credential is indistinguishable from a missing one.
        raise NotFound("no such credential", code=ErrorCode.CREDENTIAL_NOT_FOUND)
    return record, issuer


def change_credential_status(
    *,
    session: Session,
    runtime: CredentialRuntime,
    actor: Organisation,
    credential_id: str,
    change: CredentialStatusChange,
    now: datetime,
) -> CredentialStatusPublic:
    """Suspend, reinstate or revoke a credential, with a reason code, by its issuer or the
    issuer's accreditor. Revocation is final (`LedgerRejected` after it).

    When the chain has the requested status already and the database does not (an earlier
    attempt's database write was lost), nothing is sent: the status is mirrored into the
    database and the audit entry says so."""
    record, issuer = _visible_credential(session=session, actor=actor, credential_id=credential_id)
    chain_id = bytes.fromhex(record.id.removeprefix("0x"))
    on_chain = runtime.ledger.current_status(chain_id)
    if record.state != change.status and on_chain == change.status:
        # An earlier attempt's database write was lost: mirror the chain, send nothing.
        note_for_audit(f"status {change.status} already on chain; mirrored into the database")
    else:
        runtime.ledger.set_status(
            actor=actor.credit_code,
            credential_id=chain_id,
            status=change.status,
            reason=change.reason,
        )
    record.state = change.status
    record.state_reason = change.reason
    record.updated_at = utc_now()
    session.add(record)
    session.commit()
    return CredentialStatusPublic(
        id=record.id,
        type=record.credential_type,
        status=change.status.value,
        reason=change.reason,
        as_of=issue_time(runtime, now),
        issuer=issuer.credit_code,
    )


def credential_status(
    *,
    session: Session,
    runtime: CredentialRuntime,
    actor: Organisation,
    credential_id: str,
    now: datetime,
) -> CredentialStatusPublic:
    """The status on chain (through the cached chain state) now."""
    record, issuer = _visible_credential(session=session, actor=actor, credential_id=credential_id)
    at = issue_time(runtime, now)
    status, reason = runtime.trust_state.credential_status_at(
        bytes.fromhex(record.id.removeprefix("0x")), at
    )
    return CredentialStatusPublic(
        id=record.id,
        type=record.credential_type,
        status=_FROM_CHAIN_STATUS.get(status, "unknown"),
        reason=reason,
        as_of=at,
        issuer=issuer.credit_code,
    )
