"""The public registry view: what any authenticated verifier may learn about an organisation,
whatever its province (no tenant restriction), so that a verification report can name an
issuer and its accreditation path in words.

The profile joins what the service knows (name, kind, region, accreditor) with what the chain
says (status, credential types and their history, keys and their validity). Nothing in it is
personal data. A key's ``purpose`` is the one `TrustRegistry` holds for it
(``client_authentication``, ``credential_signing``, ``document_signing``, ``anchoring``;
``unknown`` for a value this code does not know). Times are RFC 3339 in UTC.

`IssuerNames` puts the same naming into the /v1 credential and presentation verification
reports, cached per issuer for a few seconds.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from credential_service.credentials.models import CredentialTypeRecord
from credential_service.errors import ErrorCode, InvalidInput, NotFound
from credential_service.models import CREDIT_CODE_PATTERN, Organisation
from wallet_sdk._key_purpose import KeyPurpose
from wallet_sdk.credentials import CachedTrustState, CredentialTypeRegistry, EntityRecord
from wallet_sdk.credentials._model import rfc3339
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, b64url_encode

__all__ = [
    "PROVINCES",
    "IssuerNames",
    "describe_issuer",
    "organisation_profile",
    "province_name",
]

PROVINCES: Mapping[int, str] = {
    11: "北京市", 12: "天津市", 13: "河北省", 14: "山西省", 15: "内蒙古自治区",
    21: "辽宁省", 22: "吉林省", 23: "黑龙江省", 31: "上海市", 32: "江苏省",
    33: "浙江省", 34: "安徽省", 35: "福建省", 36: "江西省", 37: "山东省",
    41: "河南省", 42: "湖北省", 43: "湖南省", 44: "广东省", 45: "广西壮族自治区",
    46: "海南省", 50: "重庆市", 51: "四川省", 52: "贵州省", 53: "云南省",
    54: "西藏自治区", 61: "陕西省", 62: "甘肃省", 63: "青海省", 64: "宁夏回族自治区",
    65: "新疆维吾尔自治区", 66: "新疆生产建设兵团",
}  # fmt: skip
"""GB/T 2260 province-level codes (the first two digits of a region code)."""

_ENTITY_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_STATUS_NAMES = {1: "active", 2: "suspended", 3: "revoked"}
_MAX_PATH = 8  # Ministry, province, organisation: the tree is three levels deep


def province_name(region: int) -> str | None:
    """The province of a six-digit region code, or ``None`` for the national level."""
    return PROVINCES.get(region // 10_000)


def _find(session: Session, reference: str) -> Organisation:
    if _ENTITY_ID.fullmatch(reference):
        column, value = Organisation.ledger_id, reference.lower()
    elif re.fullmatch(CREDIT_CODE_PATTERN, reference):
        column, value = Organisation.credit_code, reference
    else:
        raise InvalidInput(
            "an organisation is named by its unified social credit code or its entity id "
            "(0x and 64 hex digits)",
            code=ErrorCode.REGISTRY_REFERENCE_INVALID,
        )
    found = session.exec(select(Organisation).where(column == value)).first()
    if found is None:
        raise NotFound("no such organisation", code=ErrorCode.ORGANISATION_NOT_FOUND)
    return found


def _path(session: Session, organisation: Organisation) -> list[Organisation]:
    """The organisation and its accreditors, up to the Ministry."""
    path = [organisation]
    while path[-1].accreditor_id is not None and len(path) < _MAX_PATH:
        parent = session.get(Organisation, path[-1].accreditor_id)
        if parent is None:
            break
        path.append(parent)
    return path


def _summary(session: Session, organisation: Organisation) -> dict[str, Any]:
    path = _path(session, organisation)
    return {
        "name": organisation.name,
        "credit_code": organisation.credit_code,
        "kind": organisation.kind,
        "region": organisation.region,
        "province": province_name(organisation.region),
        "accreditation_path": [
            {"name": o.name, "credit_code": o.credit_code, "kind": o.kind} for o in path[1:]
        ],
        "accreditation_path_text": ", ".join(
            [organisation.name, *(f"accredited by {o.name}" for o in path[1:])]
        ),
        "accreditation_path_words": " → ".join(o.name for o in path),
    }


def describe_issuer(*, session: Session, entity_id: bytes) -> dict[str, Any]:
    """Entity id, name, kind, region, province and accreditation path of the organisation with
    this entity id, for a verification report; ``known`` false and ``name`` ``None`` when this
    registry does not know it (the report then says only what the chain proves, nothing is
    guessed)."""
    ledger_id = "0x" + bytes(entity_id).hex()
    found = session.exec(select(Organisation).where(Organisation.ledger_id == ledger_id)).first()
    if found is None:
        return {"entity_id": ledger_id, "known": False, "name": None}
    return {"entity_id": ledger_id, "known": True, **_summary(session, found)}


class IssuerNames:
    """`describe_issuer` behind a small per-issuer cache (``ttl`` seconds), for the
    verification routes: a hit costs a dictionary look-up, a miss one database read. A
    renamed or re-accredited issuer shows in reports at most ``ttl`` seconds late. Database
    errors on a miss propagate (the route answers 500/503 as for any database outage)."""

    def __init__(
        self, engine: Engine, *, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._engine, self._ttl, self._clock = engine, ttl, clock
        self._cache: dict[bytes, tuple[float, Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def __call__(self, entity_id: bytes) -> Mapping[str, Any]:
        """The issuer's description (a shared object: callers must not change it)."""
        now = self._clock()
        cached = self._cache.get(entity_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with Session(self._engine) as session:
            described = describe_issuer(session=session, entity_id=entity_id)
        with self._lock:
            if len(self._cache) > 10_000:  # bounded: stale entries go first
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[entity_id] = (now + self._ttl, described)
        return described


def organisation_profile(
    *,
    session: Session,
    trust: CachedTrustState,
    types: CredentialTypeRegistry,
    reference: str,
) -> dict[str, Any]:
    """The public profile of the organisation named by `reference` (credit code or entity id).

    Raises `InvalidInput` (``registry_reference_invalid``) for a malformed reference and
    `NotFound` (``organisation_not_found``) when no such organisation is registered here."""
    organisation = _find(session, reference)
    entity_id = bytes.fromhex(organisation.ledger_id.removeprefix("0x"))
    record = trust.entity_record(entity_id)
    return {
        **_summary(session, organisation),
        "entity_id": organisation.ledger_id,
        "on_chain": record is not None,
        **(_chain_part(record, _type_terms(session, types)) if record else _no_chain_part()),
    }


def _type_terms(session: Session, types: CredentialTypeRegistry) -> dict[bytes, str]:
    """Terms by on-chain type id: this worker's types and every one published (by any
    worker) since it started."""
    terms = {t.type_id: t.term for t in types}
    for type_id, term in session.exec(
        select(CredentialTypeRecord.type_id, CredentialTypeRecord.term)
    ).all():
        terms.setdefault(bytes.fromhex(type_id.removeprefix("0x")), term)
    return terms


def _no_chain_part() -> dict[str, Any]:
    return {"status": None, "status_history": [], "credential_types": [], "keys": []}


def _purpose(value: int) -> str:
    try:
        return KeyPurpose(value).name.lower()
    except ValueError:
        return "unknown"


def _algorithm(code: int) -> str:
    """The JOSE name of a registry algorithm code."""
    try:
        return Curve.from_registry_code(code).algorithm.value
    except FormatError:
        return "unknown"


def _chain_part(record: EntityRecord, known: Mapping[bytes, str]) -> dict[str, Any]:
    status = record.status_history[-1][1] if record.status_history else 0
    return {
        "status": _STATUS_NAMES.get(status, "unknown"),
        "status_history": [
            {"at": rfc3339(at), "status": _STATUS_NAMES.get(s, "unknown"), "reason": reason}
            for at, s, reason in record.status_history
        ],
        "credential_types": [
            {
                "type": known.get(type_id),
                "type_id": "0x" + type_id.hex(),
                "allowed": history[-1][1],
                "history": [{"at": rfc3339(at), "allowed": allowed} for at, allowed in history],
            }
            for type_id, history in sorted(record.type_history.items())
        ],
        "keys": [
            {
                "key_id": b64url_encode(key_id),
                "purpose": _purpose(key.purpose),
                "algorithm": _algorithm(key.algorithm),
                "valid_from": rfc3339(key.valid_from),
                "valid_until": rfc3339(key.valid_until) if key.valid_until else None,
                "revoked_at": rfc3339(key.revoked_at) if key.revoked_at else None,
            }
            for key_id, key in record.keys
        ],
    }
