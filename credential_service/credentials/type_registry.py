"""Credential types as data at run time (no code change, no release).

The Ministry publishes a type through the API: its JSON Schema (draft 2020-12, ``$id`` the
type's URI) with the VC type term, the personal identifiers, the selectively disclosable claims
and the allowed formats as ``x-hrss-*`` members (`wallet_sdk.credentials.types`). The SHA-256
of the schema's RFC 8785 canonical JSON is committed on chain
(``TrustRegistry.publishCredentialType``, once per type), then the schema is kept in the
database (`CredentialTypeRecord`), where every worker of the service finds a type it has not
seen yet (`stored_type`, the runtime registry's read-through). The built-in types are
published the same way when the service opens (`publish_builtin_types`, called by
`ServiceContext.open`), so every type has a committed digest and a served schema. Provinces
then accredit issuers for it with the existing ``setCredentialType`` call, and issuers issue
it through the existing routes.

Schemas are served at ``/schemas/<name>`` (`schema_document`): an http(s) ``$id`` must be
``{public base}/schemas/<name>.json``, so a schema is served at its ``$id``; a built-in
``urn:hrss:vct:<name>:<version>`` at ``/schemas/<name>-<version>.json``.

Every function takes keyword-only arguments and raises only `ServiceError` subclasses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from credential_service.credentials.ledger import CredentialTypeLedger
from credential_service.credentials.models import (
    CredentialTypePublic,
    CredentialTypeRecord,
    PublishedCredentialType,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import Conflict, ErrorCode, Forbidden, InvalidInput
from credential_service.models import Organisation, OrganisationKind
from wallet_sdk import FormatError
from wallet_sdk.credentials import CredentialType, default_registry, schema_url
from wallet_sdk.jcs import canonicalize

__all__ = [
    "describe",
    "prepare_schema",
    "publish_builtin_types",
    "publish_credential_type",
    "schema_document",
    "stored_type",
]

log = logging.getLogger(__name__)

_MEMBERS = {
    "term": "x-hrss-type",
    "personal_identifiers": "x-hrss-personal-identifiers",
    "disclosable": "x-hrss-disclosable",
    "formats": "x-hrss-formats",
}


def _invalid(message: str, **detail: Any) -> InvalidInput:
    return InvalidInput(message, code=ErrorCode.CREDENTIAL_TYPE_INVALID, detail=detail or None)


def prepare_schema(schema: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """The schema to publish: `schema` with the request's fields (``term``,
    ``personal_identifiers``, ``disclosable``, ``formats``; ``None`` = not given) written as
    its ``x-hrss-*`` members, so the committed digest covers them. Raises `InvalidInput`
    (``credential_type_invalid``) when a field contradicts the schema's own member."""
    prepared = dict(schema)
    for name, value in fields.items():
        if value is None:
            continue
        member = _MEMBERS[name]
        if member in prepared and prepared[member] != value:
            raise _invalid(f"{name} contradicts the schema's {member}", member=member)
        prepared[member] = value
    return prepared


def _validated(schema: Mapping[str, Any], base_url: str) -> CredentialType:
    """A publishable type: a valid bounded self-contained schema (`CredentialType`), whose
    ``$id`` this service can serve the schema at."""
    try:
        credential_type = CredentialType.from_schema(schema)
    except FormatError as err:
        raise _invalid(str(err)) from err
    name = credential_type.schema_name
    base = base_url.rstrip("/")
    if name is None or (
        credential_type.vct.startswith(("https://", "http://"))
        and credential_type.vct != f"{base}/schemas/{name}"
    ):
        raise _invalid(
            f"$id must be {base}/schemas/<name>.json (where this service serves it) "
            "or urn:hrss:vct:<name>:<version>",
            id=credential_type.vct,
        )
    return credential_type


def describe(credential_type: CredentialType, base_url: str) -> CredentialTypePublic:
    """The API view of a type."""
    name = credential_type.schema_name
    return CredentialTypePublic(
        term=credential_type.term,
        vct=credential_type.vct,
        title=credential_type.title,
        type_id="0x" + credential_type.type_id.hex(),
        personal_identifiers=list(credential_type.personal_identifiers),
        disclosable=sorted("/" + "/".join(p) for p in credential_type.disclosable_paths),
        formats=list(credential_type.formats),
        schema_digest="0x" + credential_type.schema_digest.hex(),
        schema_url=schema_url(credential_type.vct, base_url) if name else None,
        schema_=dict(credential_type.schema),
    )


def _commit_on_chain(
    *, ledger: CredentialTypeLedger, credential_type: CredentialType
) -> tuple[int, str | None]:
    """Commit the type's schema digest (once) through `ledger`; its block time and transaction
    hash, or ``None`` as the hash when the same digest is on chain already (a retry, another
    worker). Raises `Conflict` (``credential_type_exists``) when another digest is, and the
    ledger's errors."""
    type_id, digest = credential_type.type_id, credential_type.schema_digest

    def on_chain() -> tuple[int, None] | None:
        record = ledger.published_schema(type_id)
        if record is None:
            return None
        if record.schema_digest != digest:
            raise Conflict(
                f"{credential_type.vct} is published on chain with another schema",
                code=ErrorCode.CREDENTIAL_TYPE_EXISTS,
                detail={"schema_digest": "0x" + record.schema_digest.hex()},
            )
        return record.published_at, None

    found = on_chain()
    if found is not None:
        return found
    return ledger.publish_schema(
        type_id=type_id, schema_digest=digest, landed=lambda: on_chain() is not None
    )


def _record(
    credential_type: CredentialType, publisher: Organisation, at: int, tx_hash: str | None
) -> CredentialTypeRecord:
    assert publisher.id is not None and credential_type.schema_name is not None
    return CredentialTypeRecord(
        term=credential_type.term,
        vct=credential_type.vct,
        type_id="0x" + credential_type.type_id.hex(),
        schema_name=credential_type.schema_name,
        canonical_schema=canonicalize(dict(credential_type.schema)).decode("utf-8"),
        schema_digest="0x" + credential_type.schema_digest.hex(),
        publisher_id=publisher.id,
        published_at=at,
        tx_hash=tx_hash,
    )


def publish_credential_type(
    *,
    session: Session,
    runtime: CredentialRuntime,
    actor: Organisation,
    schema: Mapping[str, Any],
    base_url: str,
) -> PublishedCredentialType:
    """Publish a new credential type as the Ministry: validate its schema, commit its digest
    on chain, keep it, and know it from now on (this worker at once, the others on first use).

    Raises `Forbidden` (``role_forbidden``) for anyone but the Ministry, `InvalidInput`
    (``credential_type_invalid``) for a schema that is invalid, unbounded, refers outside
    itself or has an ``$id`` this service cannot serve it at, `Conflict`
    (``credential_type_exists``) when its term, ``$id`` or schema name is taken, and the
    ledger's errors."""
    if actor.kind != OrganisationKind.MINISTRY:
        raise Forbidden(
            "only the Ministry publishes credential types", code=ErrorCode.SCOPE_MISSING
        )
    credential_type = _validated(schema, base_url)
    taken = session.exec(
        select(CredentialTypeRecord.term).where(
            or_(
                col(CredentialTypeRecord.term) == credential_type.term,
                col(CredentialTypeRecord.vct) == credential_type.vct,
                col(CredentialTypeRecord.schema_name) == credential_type.schema_name,
            )
        )
    ).first()
    if taken is not None or credential_type.term in runtime.types:
        raise Conflict(
            f"a credential type {taken or credential_type.term} has this term, $id or schema name",
            code=ErrorCode.CREDENTIAL_TYPE_EXISTS,
            detail={"term": credential_type.term, "vct": credential_type.vct},
        )
    at, tx_hash = _commit_on_chain(
        ledger=runtime.type_ledger(actor.credit_code), credential_type=credential_type
    )
    session.add(_record(credential_type, actor, at, tx_hash))
    try:
        session.commit()
    except IntegrityError as err:
        session.rollback()
        raise Conflict(
            "a credential type with this term, $id or schema name was published meanwhile",
            code=ErrorCode.CREDENTIAL_TYPE_EXISTS,
            detail={"term": credential_type.term},
        ) from err
    known = runtime.types.get(credential_type.term)  # read through: this worker knows it now
    return PublishedCredentialType(
        **describe(known, base_url).model_dump(by_alias=True), published_at=at, tx_hash=tx_hash
    )


def publish_builtin_types(
    *, engine: Engine, ledger: CredentialTypeLedger, ministry_credit_code: str
) -> None:
    """Publish the built-in types (`default_registry`) the way the Ministry publishes any:
    digest on chain through `ledger` (publishing as a Ministry controller), schema in the
    database. Every start of every worker calls it (`ServiceContext.open`): a type already on
    chain is not sent again (one read each), one a rollback took off the chain is, and a
    missing row is written. Raises the ledger's errors."""
    with Session(engine) as session:
        stored = set(session.exec(select(CredentialTypeRecord.term)).all())
        ministry = session.exec(
            select(Organisation).where(Organisation.credit_code == ministry_credit_code)
        ).one()
        for credential_type in default_registry():
            at, tx_hash = _commit_on_chain(ledger=ledger, credential_type=credential_type)
            if credential_type.term in stored:
                continue
            session.add(_record(credential_type, ministry, at, tx_hash))
            try:
                session.commit()
            except IntegrityError:  # another worker stored it first
                session.rollback()
            log.info("credential type %s published (%s)", credential_type.term, tx_hash)


def stored_type(engine: Engine, term: str) -> CredentialType | None:
    """The published type with this term from the database (`None` when none), for the
    runtime registry's read-through. A stored schema that no longer builds is logged and
    treated as unknown, so verification fails closed."""
    with Session(engine) as session:
        record = session.get(CredentialTypeRecord, term)
    if record is None:
        return None
    try:
        return CredentialType.from_schema(record.canonical_schema)
    except FormatError as err:
        log.error("stored credential type %s does not build: %s", term, err)
        return None


def schema_document(*, session: Session, name: str) -> CredentialTypeRecord | None:
    """The published type whose schema is served as `name` (e.g. ``welder.json``)."""
    return session.exec(
        select(CredentialTypeRecord).where(CredentialTypeRecord.schema_name == name)
    ).first()
