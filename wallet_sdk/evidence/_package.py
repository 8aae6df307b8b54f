"""The evidence package (``hrss-evidence/1``): everything a court needs about one labour
contract in one JSON file. Defined by ``wallet_sdk/schemas/evidence-1.schema.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from wallet_sdk._strict_json import load_object, schema_validator
from wallet_sdk.errors import FormatError
from wallet_sdk.evidence._records import (
    EventRecord,
    EventSignature,
    KeyTerms,
    _require_hex32,
    _require_text,
    event_digest,
)
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.receipt import AnchorReceipt

__all__ = [
    "EVIDENCE_VERSION",
    "AccreditationLink",
    "ContractDocument",
    "EmployerRef",
    "EvidenceEvent",
    "EvidencePackage",
    "KeyTermsDisclosure",
]

EVIDENCE_VERSION = "hrss-evidence/1"
MAX_PACKAGE_BYTES = 4 * 1024 * 1024
_MAX_EVENTS = 256


def _validator() -> jsonschema.protocols.Validator:
    return schema_validator("evidence-1.schema.json")


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


@dataclass(frozen=True, slots=True)
class ContractDocument:
    """One version's document: its digest under ``digest_alg`` (the hash of that version's
    records) and what it is (the bytes stay with the parties)."""

    version: int
    digest: str
    media_type: str
    filename: str
    size: int
    digest_alg: HashAlgorithm = HashAlgorithm.SHA256

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "digest_alg": self.digest_alg.value,
            "digest": self.digest,
            "media_type": self.media_type,
            "filename": self.filename,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class EmployerRef:
    """The employer: its `TrustRegistry` id, unified social credit code and name."""

    entity_id: str
    credit_code: str
    name: str


@dataclass(frozen=True, slots=True)
class EvidenceEvent:
    """An event: the record, its signature, the digest anchored and the anchor receipt
    (``None`` while the anchoring is not confirmed)."""

    record: EventRecord
    signature: EventSignature
    receipt: AnchorReceipt | None

    @property
    def record_digest(self) -> bytes:
        return self.record.digest()

    @property
    def event_digest(self) -> bytes:
        return event_digest(
            self.record_digest,
            self.signature.jws,
            self.signature.card_proof,
            self.record.digest_alg,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record.to_dict(),
            "record_digest": _hex(self.record_digest),
            "signature": self.signature.to_dict(),
            "event_digest": _hex(self.event_digest),
            "receipt": None if self.receipt is None else self.receipt.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class AccreditationLink:
    """One step of the employer's accreditation path (employer, province, ministry) as the
    generator saw it; the verifier reads the chain and compares."""

    role: str
    entity_id: str
    kind: str
    region: int
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "entity_id": self.entity_id,
            "kind": self.kind,
            "region": self.region,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class KeyTermsDisclosure:
    """Key terms of one version with their salt, disclosed by a party to the court."""

    version: int
    key_terms: KeyTerms

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, **self.key_terms.to_dict()}


@dataclass(frozen=True, slots=True)
class EvidencePackage:
    """An ``hrss-evidence/1`` package. Build with `EvidencePackage.parse` (strict) or directly.

    ``chain`` names the chain and registries the generator used; a verifier trusts its own
    registry addresses, never these. ``status`` and ``report`` are what the generator saw,
    informational only: `verify_evidence` recomputes both from the events and the chain.
    """

    generated_at: int
    generator: str
    chain_id: int
    trust_registry: str
    anchor_registry: str
    contract_id: str
    employer: EmployerRef
    employee: str
    documents: tuple[ContractDocument, ...]
    events: tuple[EvidenceEvent, ...]
    accreditation_path: tuple[AccreditationLink, ...]
    key_terms: tuple[KeyTermsDisclosure, ...] = ()
    status: str = "unknown"
    report: Mapping[str, Any] | None = None
    employee_identity_salt: str | None = None
    """The salt of the offers' ``employee_identity`` commitment: with it the court checks
    that the name and ID number the employee's e-card disclosed are the ones the employer
    named (the package reveals the named employee to whoever holds it)."""

    def to_dict(self) -> dict[str, Any]:
        """The package as JSON members."""
        return {
            "version": EVIDENCE_VERSION,
            "generated_at": self.generated_at,
            "generator": self.generator,
            "chain": {
                "chain_id": self.chain_id,
                "trust_registry": self.trust_registry,
                "anchor_registry": self.anchor_registry,
            },
            "contract": {
                "contract_id": self.contract_id,
                "employer": {
                    "entity_id": self.employer.entity_id,
                    "credit_code": self.employer.credit_code,
                    "name": self.employer.name,
                },
                "employee": {
                    "did": self.employee,
                    **(
                        {}
                        if self.employee_identity_salt is None
                        else {"identity_salt": self.employee_identity_salt}
                    ),
                },
            },
            "documents": [document.to_dict() for document in self.documents],
            "events": [event.to_dict() for event in self.events],
            "accreditation_path": [link.to_dict() for link in self.accreditation_path],
            "key_terms": [disclosure.to_dict() for disclosure in self.key_terms],
            "status": self.status,
            "report": None if self.report is None else dict(self.report),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text (UTF-8, Chinese left readable)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False)

    @classmethod
    def parse(cls, data: str | bytes | Mapping[str, Any]) -> EvidencePackage:
        """Parse a package from JSON text or a decoded object.

        Strict: the JSON Schema, then every record, signature and receipt is parsed into its
        typed object, and the digests the package states are recomputed. Duplicate members,
        floats and oversized input are rejected. Raises `FormatError` only.
        """
        decoded = load_object(
            data,
            what="package",
            size_label="package",
            max_bytes=MAX_PACKAGE_BYTES,
            validator=_validator(),
            schema_label="the schema",
        )
        return cls._from_valid(decoded)

    @classmethod
    def _from_valid(cls, data: Mapping[str, Any]) -> EvidencePackage:
        events = []
        for index, entry in enumerate(data["events"]):
            try:
                record = EventRecord.from_dict(entry["record"])
                signature = EventSignature.from_dict(entry["signature"])
                receipt = (
                    None if entry["receipt"] is None else AnchorReceipt.parse(entry["receipt"])
                )
            except FormatError as err:
                raise FormatError(f"event {index}: {err}") from err
            event = EvidenceEvent(record=record, signature=signature, receipt=receipt)
            # The stated digests are conveniences for readers; a mismatch means an edit.
            if entry["record_digest"] != _hex(event.record_digest):
                raise FormatError(f"event {index}: record_digest is not the record's digest")
            if entry["event_digest"] != _hex(event.event_digest):
                raise FormatError(f"event {index}: event_digest is not the sealed digest")
            events.append(event)
        if len(events) > _MAX_EVENTS:
            raise FormatError(f"at most {_MAX_EVENTS} events")
        contract = data["contract"]
        employer = contract["employer"]
        disclosures = []
        for entry in data.get("key_terms", []):
            try:
                salt = bytes.fromhex(entry["salt"][2:])
                disclosures.append(
                    KeyTermsDisclosure(entry["version"], KeyTerms(entry["terms"], salt))
                )
            except (FormatError, ValueError) as err:
                raise FormatError(f"key_terms: {err}") from err
        chain = data["chain"]
        return cls(
            generated_at=data["generated_at"],
            generator=data["generator"],
            chain_id=chain["chain_id"],
            trust_registry=chain["trust_registry"],
            anchor_registry=chain["anchor_registry"],
            contract_id=contract["contract_id"],
            employer=EmployerRef(
                entity_id=_require_hex32("employer entity_id", employer["entity_id"]),
                credit_code=employer["credit_code"],
                name=_require_text("employer name", employer["name"], limit=200),
            ),
            employee=contract["employee"]["did"],
            employee_identity_salt=contract["employee"].get("identity_salt"),
            documents=tuple(
                ContractDocument(
                    version=d["version"],
                    digest=d["digest"],
                    media_type=d["media_type"],
                    filename=d["filename"],
                    size=d["size"],
                    digest_alg=HashAlgorithm.from_name(d["digest_alg"]),
                )
                for d in data["documents"]
            ),
            events=tuple(events),
            accreditation_path=tuple(
                AccreditationLink(
                    role=link["role"],
                    entity_id=link["entity_id"],
                    kind=link["kind"],
                    region=link["region"],
                    status=link["status"],
                )
                for link in data["accreditation_path"]
            ),
            key_terms=tuple(disclosures),
            status=data["status"],
            report=data.get("report"),
        )
