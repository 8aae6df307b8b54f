"""Verifying an evidence package against the chain alone: a pipeline of named checks."""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, runtime_checkable

from wallet_sdk._key_purpose import KeyPurpose, purpose_name
from wallet_sdk.checks import (
    CheckFailed,
    CheckNotApplicable,
    CheckReport,
    CheckResult,
    CheckStatus,
    OutcomeRunner,
)
from wallet_sdk.credentials.verifier import CredentialVerifier
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.evidence._employee import (
    ISSUER_CHECK,
    MISMATCH_CHECK,
    PROOF_CHECK,
    SIGNING_KEY_CHECK,
    VerifiedEmployee,
    verify_employee_proof,
)
from wallet_sdk.evidence._package import EvidencePackage
from wallet_sdk.evidence._reasons import Reason
from wallet_sdk.evidence._records import (
    DIGEST_SIGNATURE_TYP,
    EventKind,
    EventRecord,
    EventSignature,
    Role,
    employer_entity_id,
    signature_claims,
)
from wallet_sdk.jose import (
    SIGNING_ALGORITHMS,
    Curve,
    Jwk,
    b64url_decode,
    b64url_encode,
    verify_compact,
)
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.nesting import load_json
from wallet_sdk.profile import HOLDER_ALGORITHMS
from wallet_sdk.receipt import ChainView, verify_receipt

__all__ = [
    "EVIDENCE_CHECKS",
    "ContractStatus",
    "EntityRecord",
    "EvidenceChainView",
    "EvidenceReport",
    "EvidenceVerificationError",
    "RegisteredKeyRecord",
    "TimelineEntry",
    "Verdict",
    "verify_event_signature",
    "verify_evidence",
]

EVIDENCE_CHECKS: tuple[str, ...] = (
    "format",
    "document",
    "event_chain",
    "signer_keys",
    "signatures",
    "anchoring",
    "key_validity",
    "accreditation",
    "employee_identity",
    "key_terms",
    "lifecycle",
    "both_parties_signed",
)
"""Names of the evidence checks, in the order `verify_evidence` runs and reports them."""

DEFAULT_MAX_CLOCK_SKEW = 300
_KIND_MINISTRY, _KIND_PROVINCE, _KIND_EMPLOYER = 1, 2, 4
_KIND_NAMES = {
    0: "none",
    1: "ministry",
    2: "province",
    3: "issuer",
    4: "employer",
    5: "data_user",
    6: "court",
}
_STATUS_NAMES = {0: "none", 1: "active", 2: "suspended", 3: "revoked"}
_ZERO32 = bytes(32)
_EMPLOYEE_FAILURES = {
    PROOF_CHECK: "employee_identity.no_proof",
    SIGNING_KEY_CHECK: "employee_identity.other_key",
    MISMATCH_CHECK: "employee_identity.mismatch",
    "status": "employee_identity.card_status",
    ISSUER_CHECK: "employee_identity.issuer_inactive",
}


# ------------------------------------------------------------------------------ chain view


@dataclass(frozen=True, slots=True)
class RegisteredKeyRecord:
    """A key as `TrustRegistry.getKey` returns it (``valid_until``/``revoked_at`` 0: never;
    ``purpose`` the `TrustRegistry` key purpose, 3 = document signing)."""

    entity_id: bytes
    alg: int
    public_key: bytes
    valid_from: int
    valid_until: int
    revoked_at: int
    purpose: int


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """An entity as `TrustRegistry.entity` returns it."""

    kind: int
    region: int
    parent: bytes
    status: int


@runtime_checkable
class EvidenceChainView(ChainView, Protocol):
    """The read-only chain view evidence verification needs: `ChainView` plus key and
    entity lookups in `TrustRegistry`. `wallet_sdk.evidence.chain.NodeEvidenceChainView`
    implements it over `node_adapter`. Any exception it raises fails the calling check."""

    def registered_key(self, trust_registry: str, key_id: bytes) -> RegisteredKeyRecord | None:
        """The key `key_id`, or ``None`` when it was never registered."""
        ...

    def is_key_valid_at(self, trust_registry: str, key_id: bytes, t: int) -> bool:
        """Whether the key was valid at `t` (window, revocation, owner active)."""
        ...

    def entity(self, trust_registry: str, entity_id: bytes) -> EntityRecord | None:
        """The entity, or ``None`` when it was never accredited."""
        ...

    def entity_status_at(self, trust_registry: str, entity_id: bytes, t: int) -> int:
        """The entity's own status code at `t` (0 none, 1 active, 2 suspended, 3 revoked)."""
        ...


# ------------------------------------------------------------------------------ report


class Verdict(enum.StrEnum):
    """The one-word answer for a court clerk."""

    VERIFIED = "verified"
    NOT_EFFECTIVE = "not_effective"  # authentic evidence of a contract not signed by both
    FAILED = "failed"


class ContractStatus(enum.StrEnum):
    """Status of a contract, or of one version of it."""

    AWAITING_EMPLOYEE = "awaiting_employee_signature"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"
    TERMINATED = "terminated"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event as a court reads it: who did what, when they said, and the chain's time."""

    sequence: int
    event: str
    version: int
    role: str
    signer: str
    claimed_at: int
    block_number: int | None
    block_time: int | None
    transaction_hash: str | None
    detail: str
    facts: tuple[tuple[str, str], ...] = ()
    """The signed record's own fields behind ``detail`` (relation, HR operator; termination
    reason code, reason and date), as name and value for a reader to label in its language."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "event": self.event,
            "version": self.version,
            "role": self.role,
            "signer": self.signer,
            "claimed_at": self.claimed_at,
            "block_number": self.block_number,
            "block_time": self.block_time,
            "transaction_hash": self.transaction_hash,
            "detail": self.detail,
            "facts": dict(self.facts),
        }


@dataclass(frozen=True, slots=True)
class EvidenceReport(CheckReport):
    """Step-by-step report of an evidence verification.

    ``verdict`` is `Verdict.VERIFIED` only when every check passed (``document`` and
    ``key_terms`` are skipped, not failed, when no document or disclosure was given: see
    ``document_checked``); `Verdict.NOT_EFFECTIVE` when the evidence is authentic but the
    contract version was never signed by the employee; `Verdict.FAILED` otherwise.

    Everything here was proved by the checks (signed records, chain state) except
    ``stated_employer_name``: the name is not signed by anyone, so a package can carry any
    name; a reader shows it only marked as unverified (the credit code, whose hash is the
    employer's id on chain, identifies the employer). The package's own ``status``,
    ``report`` and document file names are not used at all. ``reasons`` holds each check's
    reason as a code with parameters (`Reason`), for display in the reader's language.
    """

    checks: tuple[CheckResult, ...]
    verdict: Verdict
    contract_id: str | None = None
    stated_employer_name: str | None = None
    employer_credit_code: str | None = None
    employer_entity_id: str | None = None
    employee: str | None = None
    document_checked: bool = False
    document_digest: str | None = None
    document_digest_alg: str | None = None
    """The hash of ``document_digest``: the matched version's (``sha-256`` or ``sm3``)."""
    subject_version: int | None = None
    version_status: ContractStatus = ContractStatus.UNKNOWN
    contract_status: ContractStatus = ContractStatus.UNKNOWN
    effective_at: int | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    accreditation: tuple[Mapping[str, Any], ...] = field(default=())
    reasons: Mapping[str, Reason] = field(default_factory=dict)
    employee_identity: VerifiedEmployee | None = None
    """The employee as the e-card proof of their signature showed them; set only when the
    ``employee_identity`` check passed."""

    @property
    def passed(self) -> bool:
        """True only for the verdict `Verdict.VERIFIED`."""
        return self.verdict is Verdict.VERIFIED

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the verification page and ``hrss verify-evidence --json``)."""
        failure = self.first_failure
        return {
            "verdict": self.verdict.value,
            "first_failure": None if failure is None else failure.name,
            "checks": [
                {
                    "name": c.name,
                    "status": c.status.value,
                    "detail": c.detail,
                    **(self.reasons[c.name].to_dict() if c.name in self.reasons else {}),
                }
                for c in self.checks
            ],
            "contract_id": self.contract_id,
            "employer": {
                "credit_code": self.employer_credit_code,
                "entity_id": self.employer_entity_id,
            },
            # not signed, not verified: shown marked as such, or not at all
            "unverified": {"employer_name": self.stated_employer_name},
            "employee": self.employee,
            "employee_identity": None
            if self.employee_identity is None
            else self.employee_identity.to_dict(),
            "document_checked": self.document_checked,
            "document_digest": self.document_digest,
            "document_digest_alg": self.document_digest_alg,
            "subject_version": self.subject_version,
            "version_status": self.version_status.value,
            "contract_status": self.contract_status.value,
            "effective_at": self.effective_at,
            "timeline": [entry.to_dict() for entry in self.timeline],
            "accreditation": [dict(link) for link in self.accreditation],
        }


class EvidenceVerificationError(VerificationError):
    """An evidence package did not verify; ``check`` names the first failed check and
    ``evidence_report`` carries the whole report."""

    def __init__(self, check: str, message: str, report: EvidenceReport) -> None:
        super().__init__(check, message)
        self.evidence_report = report


# ------------------------------------------------------------------------------ pipeline


# The purposes a key that is not for document signing may have, each its own reason code.
_OTHER_PURPOSES = (
    KeyPurpose.CLIENT_AUTHENTICATION,
    KeyPurpose.CREDENTIAL_SIGNING,
    KeyPurpose.ANCHORING,
)


class _Failed(CheckFailed):
    """Internal: a check failed with this reason (its English text is the message)."""

    def __init__(self, code: str, **params: str | int) -> None:
        self.reason = Reason.of(code, **params)
        super().__init__(self.reason.text())


class _Skip(CheckNotApplicable):
    """Internal: the check does not apply (no document, no disclosure)."""

    def __init__(self, code: str, **params: str | int) -> None:
        self.reason = Reason.of(code, **params)
        super().__init__(self.reason.text())


class _Runner(OutcomeRunner[Reason]):
    """The check runner of evidence: each result's detail is its reason's English text, and
    the reason itself is kept for the report (``reasons``)."""

    __slots__ = ("reasons", "results")

    def __init__(self) -> None:
        super().__init__()
        self.results: list[CheckResult] = []
        self.reasons: dict[str, Reason] = {}

    def _record(self, name: str, status: CheckStatus, outcome: Reason) -> None:
        self.reasons[name] = outcome
        self.results.append(CheckResult(name, status, outcome.text()))

    def _not_run(self, blocked: list[str]) -> Reason:
        return Reason.of("not_run", checks=", ".join(blocked))

    def _not_applicable(self, skip: CheckNotApplicable) -> Reason:
        assert isinstance(skip, _Skip)  # the only one evidence checks raise
        return skip.reason

    def _failure(self, err: Exception) -> Reason:
        if isinstance(err, _Failed):
            return err.reason
        if isinstance(err, VerificationError):
            return Reason.of("error.verification", check=err.check, message=err.message)
        if isinstance(err, WalletError):
            return Reason.of("error.other", message=str(err))
        # a chain view that cannot answer fails closed
        return Reason.of("chain.query_failed", error=f"{type(err).__name__}: {err}")


@dataclass
class _Anchor:
    block_number: int
    block_time: int
    transaction_hash: str


@dataclass
class _Lifecycle:
    offers: dict[int, int] = field(default_factory=dict)  # version -> sequence of the offer
    acceptances: dict[int, int] = field(default_factory=dict)
    effective_version: int | None = None
    termination: int | None = None  # sequence

    def version_status(self, version: int) -> ContractStatus:
        if version not in self.acceptances:
            return ContractStatus.AWAITING_EMPLOYEE
        if self.termination is not None and self.effective_version == version:
            return ContractStatus.TERMINATED
        if self.effective_version is not None and self.effective_version > version:
            return ContractStatus.SUPERSEDED
        return ContractStatus.EFFECTIVE

    def contract_status(self) -> ContractStatus:
        if self.termination is not None:
            return ContractStatus.TERMINATED
        if self.effective_version is not None:
            return ContractStatus.EFFECTIVE
        return ContractStatus.AWAITING_EMPLOYEE


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _unhex(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _key_from_chain(record: RegisteredKeyRecord, key_id: bytes) -> Jwk:
    try:
        curve = Curve.from_registry_code(record.alg)
    except FormatError as err:
        raise _Failed("key.bad_algorithm", key=_hex(key_id), alg=record.alg) from err
    if curve.algorithm not in SIGNING_ALGORITHMS:
        raise _Failed("key.bad_algorithm", key=_hex(key_id), alg=record.alg)
    try:
        key = Jwk.from_public_bytes(curve, record.public_key)
    except FormatError as err:
        raise _Failed("key.invalid", key=_hex(key_id)) from err
    if not hmac.compare_digest(key.thumbprint(), key_id):
        raise _Failed("key.thumbprint", key=_hex(key_id))
    return key


def _key_from_did(did: str) -> Jwk:
    try:
        members = load_json(b64url_decode(did.removeprefix("did:jwk:")), what="did:jwk")
        key = Jwk.from_jwk(members)
    except (WalletError, ValueError) as err:
        raise _Failed("employee.unreadable_did", did=did[:40]) from err
    if key.algorithm not in HOLDER_ALGORITHMS or key.has_private:
        raise _Failed("employee.key_type")
    return key


def _check_jws(record: EventRecord, signature: EventSignature, key: Jwk, label: _Label) -> None:
    try:
        verified = verify_compact(
            signature.jws, key, algorithms=(key.algorithm,), typ=DIGEST_SIGNATURE_TYP
        )
        claims = verified.payload_json()
    except VerificationError as err:
        raise _Failed("signature.invalid", check=err.check, message=err.message, **label) from err
    expected_kid = (
        b64url_encode(_unhex(signature.key_id))
        if signature.role is Role.EMPLOYER
        else signature.key_id
    )
    if verified.header.get("kid") != expected_kid:
        raise _Failed("signature.kid", **label)
    if claims != signature_claims(record, signature.signer):
        raise _Failed("signature.other_record", **label)


def _employer_key(
    chain: EvidenceChainView,
    trust_registry: str,
    signature: EventSignature,
    employer: bytes,
    label: _Label,
) -> Jwk:
    key_id = _unhex(signature.key_id)
    record = chain.registered_key(trust_registry, key_id)
    if record is None:
        raise _Failed("key.unregistered", key=signature.key_id, **label)
    if not hmac.compare_digest(bytes(record.entity_id), employer):
        raise _Failed(
            "key.other_entity", key=signature.key_id, entity=_hex(record.entity_id), **label
        )
    # A client-authentication key authenticates its organisation, it never signs a contract.
    if record.purpose != KeyPurpose.DOCUMENT_SIGNING:
        purpose = purpose_name(record.purpose).replace(" ", "_")
        if record.purpose not in _OTHER_PURPOSES:
            purpose = "unknown"
        raise _Failed(f"key.purpose_{purpose}", key=signature.key_id, **label)
    return _key_from_chain(record, key_id)


def verify_event_signature(
    record: EventRecord,
    signature: EventSignature,
    chain: EvidenceChainView,
    *,
    trust_registry: str,
    employer: bytes,
    employee: str,
    at: int,
) -> None:
    """Check one party's signature of one record as it is submitted (the service does this
    before it accepts and anchors an event): the right party signed, an employer key is
    registered to `employer` and valid at `at`, an employee signs with `employee`'s
    ``did:jwk``, and the JWS verifies over this record.

    Raises `VerificationError` whose ``check`` is ``signer``, ``signer_keys``,
    ``key_validity`` or ``signatures``. A chain view that cannot answer raises through.
    """
    label = _event_label(record.sequence, record)
    if signature.role is not record.signer_role:
        raise VerificationError(
            "signer", f"a {record.event.value} record is signed by the {record.signer_role.value}"
        )
    expected = _hex(employer) if signature.role is Role.EMPLOYER else employee
    if signature.signer != expected:
        raise VerificationError("signer", "the signer is not the party the contract names")
    try:
        if signature.role is Role.EMPLOYER:
            key = _employer_key(chain, trust_registry, signature, employer, label)
        else:
            key = _key_from_did(signature.signer)
    except _Failed as err:
        raise VerificationError("signer_keys", str(err)) from err
    if signature.role is Role.EMPLOYER and not chain.is_key_valid_at(
        trust_registry, _unhex(signature.key_id), at
    ):
        raise VerificationError("key_validity", f"key {signature.key_id} is not valid now")
    try:
        _check_jws(record, signature, key, label)
    except _Failed as err:
        raise VerificationError("signatures", str(err)) from err


_Label = dict[str, str | int]


def _event_label(index: int, record: EventRecord) -> _Label:
    """The parameters that name an event in a reason (its ``{label}``)."""
    return {"index": index, "event": record.event.value, "version": record.version}


def verify_evidence(
    package: EvidencePackage | str | bytes | Mapping[str, Any],
    document: bytes | None,
    chain: EvidenceChainView,
    *,
    anchor_registry: str,
    trust_registry: str,
    strict: bool = True,
    max_clock_skew: int = DEFAULT_MAX_CLOCK_SKEW,
    card_verifier: CredentialVerifier | None = None,
) -> EvidenceReport:
    """Verify an evidence package, and optionally the contract document, against the chain.

    `anchor_registry` and `trust_registry` are the registries the verifier trusts; the
    package's own ``chain`` member is never used. Checks, in order:

    1. ``format``: the package parses (JSON Schema, typed records, signatures, receipts; its
       stated digests are the recomputed ones).
    2. ``document``: the document's digest, under the hash each version names
       (``digest_alg``: SHA-256 or SM3), is the digest of one of the versions; that version
       is the one the rest of the report speaks about. Skipped without a document.
    3. ``event_chain``: events are numbered 0, 1, ... each naming the digest of the one before
       (a hash chain: none removed, inserted or reordered); all name this contract, its
       employer (whose id is the hash of its credit code) and employee, and each version's
       listed document under the hash the record names; each is signed by the party its kind
       requires.
    4. ``signer_keys``: each employer signature's key is registered in `TrustRegistry` to
       this employer, with a supported algorithm (an unregistered key fails here); each
       employee signature's key is the ``did:jwk`` the contract names.
    5. ``signatures``: every JWS verifies, with the algorithm pinned by the key, over exactly
       this record's digest, purpose and time.
    6. ``anchoring``: every event digest is anchored (`verify_receipt` against the trusted
       AnchorRegistry, the receipt's hash the record's), in sequence order, and no
       signature claims a time after its anchor (beyond `max_clock_skew`).
    7. ``key_validity``: every employer key was valid both at the claimed signing time and
       at the anchoring block time (not before its window, not expired, not revoked).
    8. ``accreditation``: the employer is an Employer accredited under a Province under the
       Ministry, active with its whole path at every anchoring time of its signatures.
    8a. ``employee_identity``: every offer names the same employee identity (a salted
       commitment to name and ID number), the package carries its salt, and every
       acceptance (and any employee signature with one) carries an e-card proof that
       `card_verifier` (over the trusted registries) verifies with the card's status and the
       key binding judged at the signature's anchoring time: issued by an accredited card
       issuer active then, bound to the record and to the key that signed it, disclosing the
       named name and ID number. Skipped while the employee has signed nothing; failed
       without a `card_verifier`.
    9. ``key_terms``: disclosed key terms match their version's commitment. Skipped when no
       terms are disclosed.
    10. ``lifecycle``: the events follow the contract's lifecycle (offer, acceptance,
        amendment or renewal of an effective version, termination of an effective one).
    11. ``both_parties_signed``: the version in question was signed by both parties, so it
        took effect (at the anchoring time of the employee's signature).

    Returns the report. With `strict` (the default) raises `EvidenceVerificationError`
    naming the first failed check unless the verdict is `Verdict.VERIFIED`; with
    ``strict=False`` the report is always returned. A chain view that cannot answer fails
    the check that asked.
    """
    context = _Evidence(
        given=package,
        document=document,
        chain=chain,
        anchor_registry=anchor_registry,
        trust_registry=trust_registry,
        max_clock_skew=max_clock_skew,
        card_verifier=card_verifier,
    )
    runner = _Runner()
    for name, check, after in _PIPELINE:
        runner.run(name, partial(check, context), after=after)
    report = _report(runner, context)
    if strict and report.verdict is not Verdict.VERIFIED:
        failure = report.first_failure
        assert failure is not None  # a verdict other than verified has a failed check
        raise EvidenceVerificationError(failure.name, failure.detail, report)
    return report


@dataclass
class _Evidence:
    """What the evidence checks share: the inputs, and what each check established for the
    checks after it (the parsed package, the keys, the anchors, the lifecycle)."""

    given: EvidencePackage | str | bytes | Mapping[str, Any]
    document: bytes | None
    chain: EvidenceChainView
    anchor_registry: str
    trust_registry: str
    max_clock_skew: int
    card_verifier: CredentialVerifier | None
    parsed: EvidencePackage | None = None  # by format
    subject: int | None = None  # the version in question: by document or both_parties_signed
    keys: dict[int, Jwk] = field(default_factory=dict)  # by signer_keys, per event
    anchors: dict[int, _Anchor] = field(default_factory=dict)  # by anchoring, per event
    lifecycle: _Lifecycle = field(default_factory=_Lifecycle)
    accreditation: list[dict[str, Any]] = field(default_factory=list)  # by accreditation
    employee: VerifiedEmployee | None = None  # by employee_identity
    # the document's digest under each hash a version names, computed once per hash
    document_digests: dict[HashAlgorithm, bytes] = field(default_factory=dict)
    matched_alg: HashAlgorithm | None = None  # by document: the matched version's hash

    @property
    def package(self) -> EvidencePackage:
        """The parsed package; only checks that run after ``format`` passed ask for it."""
        assert self.parsed is not None
        return self.parsed

    def digest_of_document(self, algorithm: HashAlgorithm) -> bytes:
        assert self.document is not None
        if algorithm not in self.document_digests:
            self.document_digests[algorithm] = algorithm.digest(self.document)
        return self.document_digests[algorithm]

    def document_result(self) -> tuple[HashAlgorithm, bytes] | None:
        """The document's digest as the report names it: under the matched version's hash,
        else the first tried (SHA-256 when none was)."""
        if self.document is None:
            return None
        algorithm = self.matched_alg or next(iter(self.document_digests), HashAlgorithm.SHA256)
        return algorithm, self.digest_of_document(algorithm)

    def employer_events(self) -> list[int]:
        return [i for i, e in enumerate(self.package.events) if e.signature.role is Role.EMPLOYER]


def _check_format(ctx: _Evidence) -> Reason:
    given = ctx.given
    try:
        ctx.parsed = given if isinstance(given, EvidencePackage) else EvidencePackage.parse(given)
    except FormatError as err:
        raise _Failed("format.invalid", message=str(err)) from err
    return Reason.of("format.ok", contract=ctx.parsed.contract_id, events=len(ctx.parsed.events))


def _check_document(ctx: _Evidence) -> Reason:
    if ctx.document is None:
        raise _Skip("document.none")
    for doc in ctx.package.documents:
        document_digest = ctx.digest_of_document(doc.digest_alg)
        if hmac.compare_digest(_unhex(doc.digest), document_digest):
            ctx.subject = doc.version
            ctx.matched_alg = doc.digest_alg
            # no filename: it is not signed, so a verified report must not repeat it
            return Reason.of(
                "document.match",
                algorithm=doc.digest_alg.label,
                digest=_hex(document_digest),
                version=doc.version,
            )
    digests = [f"{a.label} {_hex(d)}" for a, d in ctx.document_digests.items()]
    raise _Failed("document.no_match", digest=", ".join(digests))


def _check_event_chain(ctx: _Evidence) -> Reason:
    p = ctx.package
    if _hex(employer_entity_id(p.employer.credit_code)) != p.employer.entity_id:
        raise _Failed("event_chain.entity_id")
    documents = {doc.version: doc for doc in p.documents}
    if len(documents) != len(p.documents):
        raise _Failed("event_chain.duplicate_version")
    previous: bytes | None = None
    for index, event in enumerate(p.events):
        record, signature = event.record, event.signature
        label = _event_label(index, record)
        if record.sequence != index:
            raise _Failed("event_chain.sequence", index=index, sequence=record.sequence)
        if record.contract_id != p.contract_id:
            raise _Failed("event_chain.other_contract", contract=record.contract_id, **label)
        expected_previous = None if previous is None else _hex(previous)
        if record.previous != expected_previous:
            raise _Failed("event_chain.broken", **label)
        doc = documents.get(record.version)
        if doc is None or doc.digest != record.document_digest:
            raise _Failed("event_chain.unlisted_document", **label)
        if doc.digest_alg is not record.digest_alg:
            raise _Failed(
                "event_chain.digest_alg",
                record_alg=record.digest_alg.label,
                document_alg=doc.digest_alg.label,
                **label,
            )
        if record.event is EventKind.EMPLOYER_SIGNED:
            if record.employer != p.employer.entity_id or record.employee != p.employee:
                raise _Failed("event_chain.other_parties", **label)
        if signature.role is not record.signer_role:
            raise _Failed("event_chain.wrong_role", role=record.signer_role.value, **label)
        expected_signer = p.employer.entity_id if signature.role is Role.EMPLOYER else p.employee
        if signature.signer != expected_signer:
            raise _Failed("event_chain.not_a_party", signer=signature.signer[:48], **label)
        previous = event.record_digest
    return Reason.of("event_chain.ok", events=len(p.events))


def _check_signer_keys(ctx: _Evidence) -> Reason:
    employer_id = _unhex(ctx.package.employer.entity_id)
    registered = set()
    for index, event in enumerate(ctx.package.events):
        signature = event.signature
        if signature.role is Role.EMPLOYEE:
            ctx.keys[index] = _key_from_did(signature.signer)
            continue
        label = _event_label(index, event.record)
        ctx.keys[index] = _employer_key(
            ctx.chain, ctx.trust_registry, signature, employer_id, label
        )
        registered.add(signature.key_id)
    if not registered:
        return Reason.of("signer_keys.ok_none")
    return Reason.of("signer_keys.ok", keys=", ".join(sorted(registered)))


def _check_signatures(ctx: _Evidence) -> Reason:
    for index, event in enumerate(ctx.package.events):
        _check_jws(
            event.record, event.signature, ctx.keys[index], _event_label(index, event.record)
        )
    return Reason.of("signatures.ok", events=len(ctx.package.events))


def _check_anchoring(ctx: _Evidence) -> Reason:
    last_time = -1
    for index, event in enumerate(ctx.package.events):
        label = _event_label(index, event.record)
        receipt = event.receipt
        if receipt is None:
            raise _Failed("anchoring.no_receipt", **label)
        try:
            verify_receipt(
                receipt,
                event.event_digest,
                ctx.chain,
                anchor_registry=ctx.anchor_registry,
                trust_registry=ctx.trust_registry,
                algorithm=event.record.digest_alg,
            )
        except VerificationError as err:
            raise _Failed(
                "anchoring.receipt", check=err.check, message=err.message, **label
            ) from err
        if receipt.block_time < last_time:
            raise _Failed("anchoring.out_of_order", **label)
        if event.record.at > receipt.block_time + ctx.max_clock_skew:
            raise _Failed("anchoring.claimed_after", **label)
        last_time = receipt.block_time
        ctx.anchors[index] = _Anchor(
            receipt.block_number, receipt.block_time, receipt.transaction_hash
        )
    blocks = sorted({a.block_number for a in ctx.anchors.values()})
    return Reason.of("anchoring.ok", events=len(ctx.anchors), blocks=", ".join(map(str, blocks)))


def _check_key_validity(ctx: _Evidence) -> Reason:
    chain, trust_registry = ctx.chain, ctx.trust_registry
    for index in ctx.employer_events():
        event = ctx.package.events[index]
        key_id = _unhex(event.signature.key_id)
        label = _event_label(index, event.record)
        anchor = ctx.anchors[index]
        if chain.is_key_valid_at(trust_registry, key_id, event.record.at) is not True:
            raise _Failed(
                "key_validity.at_signing",
                key=event.signature.key_id,
                time=event.record.at,
                **label,
            )
        if chain.is_key_valid_at(trust_registry, key_id, anchor.block_time) is not True:
            raise _Failed(
                "key_validity.at_anchoring",
                key=event.signature.key_id,
                block=anchor.block_number,
                time=anchor.block_time,
                **label,
            )
    return Reason.of("key_validity.ok")


def _check_accreditation(ctx: _Evidence) -> Reason:
    p, chain, trust_registry = ctx.package, ctx.chain, ctx.trust_registry
    employer_id = _unhex(p.employer.entity_id)
    path: list[tuple[str, bytes, EntityRecord]] = []
    current = employer_id
    for role, kind in (
        ("employer", _KIND_EMPLOYER),
        ("province", _KIND_PROVINCE),
        ("ministry", _KIND_MINISTRY),
    ):
        entity = chain.entity(trust_registry, current)
        if entity is None:
            raise _Failed("accreditation.missing", role=role, entity=_hex(current))
        if entity.kind != kind:
            raise _Failed(
                "accreditation.wrong_kind",
                role=role,
                entity=_hex(current),
                kind=_KIND_NAMES.get(entity.kind, "unknown"),
            )
        path.append((role, current, entity))
        current = bytes(entity.parent)
    if current != _ZERO32:
        raise _Failed("accreditation.root")
    stated = [(link.role, link.entity_id) for link in p.accreditation_path]
    observed = [(role, _hex(entity_id)) for role, entity_id, _ in path]
    if stated != observed:
        raise _Failed("accreditation.path_differs")
    times = [ctx.anchors[i].block_time for i in ctx.employer_events()]
    for t in times:
        if chain.is_active_at(trust_registry, employer_id, t) is not True:
            raise _Failed("accreditation.inactive", time=t)
    first = min(times) if times else None
    for role, entity_id, entity in path:
        status = None if first is None else chain.entity_status_at(trust_registry, entity_id, first)
        ctx.accreditation.append(
            {
                "role": role,
                "entity_id": _hex(entity_id),
                "kind": _KIND_NAMES.get(entity.kind, "unknown"),
                "region": entity.region,
                "status_at_signing": _STATUS_NAMES.get(status, "unknown")
                if status is not None
                else None,
                "status_now": _STATUS_NAMES.get(entity.status, "unknown"),
            }
        )
    return Reason.of("accreditation.ok", count=len(times))


def _check_employee_identity(ctx: _Evidence) -> Reason:
    p = ctx.package
    named = {
        e.record.employee_identity for e in p.events if e.record.event is EventKind.EMPLOYER_SIGNED
    }
    if len(named) > 1:
        raise _Failed("employee_identity.changed")
    signed = [
        i
        for i, e in enumerate(p.events)
        if e.signature.role is Role.EMPLOYEE
        and (e.record.event is EventKind.EMPLOYEE_SIGNED or e.signature.card_proof is not None)
    ]
    if not signed:
        raise _Skip("employee_identity.none_signed")
    if not named:
        raise _Failed("employee_identity.not_named")
    commitment = str(named.pop())
    salt = p.employee_identity_salt
    if salt is None:
        raise _Failed("employee_identity.no_salt")
    card_verifier = ctx.card_verifier
    if card_verifier is None:
        raise _Failed("employee_identity.no_verifier")
    proved: list[VerifiedEmployee] = []
    for index in signed:
        event = p.events[index]
        label = _event_label(index, event.record)
        at = ctx.anchors[index].block_time
        try:
            employee = verify_employee_proof(
                card_verifier,
                event.record,
                event.signature,
                commitment=commitment,
                salt=salt,
                at=at,
            )
        except VerificationError as err:
            code = _EMPLOYEE_FAILURES.get(err.check, "employee_identity.card")
            raise _Failed(code, check=err.check, message=err.message, **label) from err
        proved.append(employee)
    ctx.employee = proved[-1]
    return Reason.of(
        "employee_identity.ok",
        issuer=_hex(proved[-1].card_issuer_id),
        events=len(proved),
    )


def _check_key_terms(ctx: _Evidence) -> Reason:
    p = ctx.package
    if not p.key_terms:
        raise _Skip("key_terms.none")
    commitments = {
        e.record.version: (e.record.key_terms_commitment, e.record.digest_alg) for e in p.events
    }
    for disclosure in p.key_terms:
        if disclosure.version not in commitments:
            raise _Failed("key_terms.unknown_version", version=disclosure.version)
        expected, algorithm = commitments[disclosure.version]
        if not hmac.compare_digest(_unhex(expected), disclosure.key_terms.commitment(algorithm)):
            raise _Failed("key_terms.mismatch", version=disclosure.version)
    versions = ", ".join(str(d.version) for d in p.key_terms)
    return Reason.of("key_terms.ok", versions=versions)


def _check_lifecycle(ctx: _Evidence) -> Reason:
    _walk_lifecycle(ctx.package, ctx.lifecycle)
    return Reason.of("lifecycle.ok", status=ctx.lifecycle.contract_status().value)


def _check_both_parties_signed(ctx: _Evidence) -> Reason:
    lifecycle = ctx.lifecycle
    if ctx.subject is None:
        ctx.subject = max(lifecycle.offers, default=1)
    version = ctx.subject
    if version not in lifecycle.acceptances:
        raise _Failed("both_parties_signed.employer_only", version=version)
    anchor = ctx.anchors.get(lifecycle.acceptances[version])
    if anchor is None:
        return Reason.of("both_parties_signed.ok", version=version)
    return Reason.of(
        "both_parties_signed.ok_at",
        version=version,
        block=anchor.block_number,
        time=anchor.block_time,
    )


# The checks in `EVIDENCE_CHECKS` order, each with the checks it needs to have passed.
_PIPELINE: tuple[tuple[str, Callable[[_Evidence], Reason], tuple[str, ...]], ...] = (
    ("format", _check_format, ()),
    ("document", _check_document, ("format",)),
    ("event_chain", _check_event_chain, ("format",)),
    ("signer_keys", _check_signer_keys, ("event_chain",)),
    ("signatures", _check_signatures, ("signer_keys",)),
    ("anchoring", _check_anchoring, ("event_chain",)),
    ("key_validity", _check_key_validity, ("signer_keys", "anchoring")),
    ("accreditation", _check_accreditation, ("event_chain", "anchoring")),
    ("employee_identity", _check_employee_identity, ("signatures", "anchoring")),
    ("key_terms", _check_key_terms, ("event_chain",)),
    ("lifecycle", _check_lifecycle, ("event_chain",)),
    ("both_parties_signed", _check_both_parties_signed, ("lifecycle", "document")),
)


def _walk_lifecycle(p: EvidencePackage, state: _Lifecycle) -> None:
    offers: dict[int, EventRecord] = {}
    pending: int | None = None
    for index, event in enumerate(p.events):
        record = event.record
        label = _event_label(index, record)
        if state.termination is not None:
            raise _Failed("lifecycle.after_termination", **label)
        if record.event is EventKind.EMPLOYER_SIGNED:
            if pending is not None:
                raise _Failed("lifecycle.pending", pending=pending, **label)
            if record.version != len(offers) + 1:
                raise _Failed("lifecycle.order", **label)
            if record.version > 1:
                if state.effective_version != record.version - 1:
                    raise _Failed("lifecycle.amend_not_effective", **label)
                if record.supersedes != _hex(offers[record.version - 1].digest()):
                    raise _Failed("lifecycle.supersedes", **label)
            offers[record.version] = record
            state.offers[record.version] = index
            pending = record.version
            continue
        offer = offers.get(record.version)
        if offer is None:
            raise _Failed("lifecycle.never_offered", **label)
        if (record.document_digest, record.key_terms_commitment) != (
            offer.document_digest,
            offer.key_terms_commitment,
        ):
            raise _Failed("lifecycle.offer_mismatch", **label)
        if record.event is EventKind.EMPLOYEE_SIGNED:
            if pending != record.version:
                raise _Failed("lifecycle.not_awaiting", **label)
            if record.offer != _hex(offer.digest()) or record.employee != offer.employee:
                raise _Failed("lifecycle.not_acceptance", **label)
            state.acceptances[record.version] = index
            state.effective_version = record.version
            pending = None
        else:
            if state.effective_version != record.version:
                raise _Failed("lifecycle.terminate_not_effective", **label)
            state.termination = index


def _document_fields(document: tuple[HashAlgorithm, bytes] | None) -> dict[str, Any]:
    if document is None:
        return {"document_checked": False}
    algorithm, digest = document
    return {
        "document_checked": True,
        "document_digest": _hex(digest),
        "document_digest_alg": algorithm.value,
    }


def _report(runner: _Runner, ctx: _Evidence) -> EvidenceReport:
    package, subject, lifecycle, anchors = ctx.parsed, ctx.subject, ctx.lifecycle, ctx.anchors
    accreditation, document, employee = ctx.accreditation, ctx.document_result(), ctx.employee
    results = runner.results
    failed = [r.name for r in results if r.status is CheckStatus.FAILED]
    if not failed:
        verdict = Verdict.VERIFIED
    elif failed == ["both_parties_signed"]:
        verdict = Verdict.NOT_EFFECTIVE
    else:
        verdict = Verdict.FAILED
    by_name = {r.name: r for r in results}
    lifecycle_known = by_name["lifecycle"].status is CheckStatus.PASSED
    if package is None:
        return EvidenceReport(
            checks=tuple(results),
            verdict=verdict,
            reasons=dict(runner.reasons),
            **_document_fields(document),
        )
    timeline = []
    for index, event in enumerate(package.events):
        record = event.record
        anchor = anchors.get(index)
        facts: tuple[tuple[str, str], ...] = ()
        if record.event is EventKind.EMPLOYER_SIGNED:
            assert record.relation is not None
            facts = (("relation", record.relation.value), ("hr_operator", str(record.hr_operator)))
        elif record.event is EventKind.TERMINATED:
            facts = (
                ("reason_code", str(record.reason_code)),
                ("reason", str(record.reason)),
                ("effective_date", str(record.effective_date)),
            )
        detail = "; ".join(f"{k}={v}" for k, v in facts) or "accepted the offer"
        # the employer by its credit code (bound to its id on chain), never by its unsigned name
        signer = (
            package.employer.credit_code
            if event.signature.role is Role.EMPLOYER
            else package.employee
        )
        timeline.append(
            TimelineEntry(
                sequence=record.sequence,
                event=record.event.value,
                version=record.version,
                role=event.signature.role.value,
                signer=signer,
                claimed_at=record.at,
                block_number=None if anchor is None else anchor.block_number,
                block_time=None if anchor is None else anchor.block_time,
                transaction_hash=None if anchor is None else anchor.transaction_hash,
                detail=detail,
                facts=facts,
            )
        )
    # A document that matched no version is about no version: the report must not speak of
    # the latest one as if the file were it.
    if subject is not None or document is not None:
        version = subject
    else:
        version = max(lifecycle.offers) if lifecycle.offers else None
    effective_at = None
    if version is not None and version in lifecycle.acceptances:
        anchor = anchors.get(lifecycle.acceptances[version])
        effective_at = None if anchor is None else anchor.block_time
    return EvidenceReport(
        checks=tuple(results),
        verdict=verdict,
        contract_id=package.contract_id,
        stated_employer_name=package.employer.name,
        employer_credit_code=package.employer.credit_code,
        employer_entity_id=package.employer.entity_id,
        employee=package.employee,
        **_document_fields(document),
        subject_version=version,
        version_status=lifecycle.version_status(version)
        if lifecycle_known and version is not None
        else ContractStatus.UNKNOWN,
        contract_status=lifecycle.contract_status() if lifecycle_known else ContractStatus.UNKNOWN,
        effective_at=effective_at,
        timeline=tuple(timeline),
        accreditation=tuple(accreditation),
        reasons=dict(runner.reasons),
        employee_identity=employee,
    )
