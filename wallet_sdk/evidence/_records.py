"""Labour-contract lifecycle records (``hrss-labour-event/1`` and ``/2``), their digests and
signatures.

A contract's history is a hash chain of event records. Each record is a JSON object whose
canonical form (sorted keys, no whitespace, UTF-8; RFC 8785 for the strings and integers used
here) is hashed into its *record digest*. Exactly one party signs each record's digest:

``employer_signed``  the employer, with a key registered to it in `TrustRegistry` (the record
                     names the document, the key-terms commitment, the HR operator acting for
                     the employer, the employee's ``did:jwk`` and ``employee_identity``, the
                     salted commitment to the employee's name and ID number);
``employee_signed``  the employee, in the wallet, with the ``did:jwk`` the offer names; the
                     signature carries an e-card proof (``card_proof``) bound to the record;
``terminated``       the party ending the contract (either of the two).

A signature is a compact JWS (``typ`` ``hrss-digest-sig+jwt``, the wallet's digest-signature
format) whose claims are ``{"iss", "digest_alg", "digest", "purpose", "iat"}``. An
employee's acceptance also carries ``card_proof``: an SD-JWT presentation of the employee's
e-card disclosing ``name`` and ``idNumber``, key-bound (`CONTRACT_CARD_AUDIENCE`, nonce
``card_nonce("contract-signature", record digest)``) with the key that signs the record.
The *event digest* binds the record digest, the signature and the card proof together; it
is what is anchored, so the anchor's block time bounds when the signature and the proof
existed.

One hash serves a whole record (its `HashAlgorithm`, ``digest_alg``): the version's document
digest, the key-terms commitment (HMAC with that hash), the record digest, the signature's
``digest_alg`` claim and the event digest. An ``hrss-labour-event/1`` record is SHA-256 and has
no ``digest_alg`` member (so records and packages made before SM3 keep their digests, and
verifiers from before SM3 keep reading SHA-256 ones); an ``hrss-labour-event/2`` record names
its hash in ``digest_alg`` (``sm3`` in the national profile). Each record has one encoding: a
SHA-256 record is always ``/1``.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils.crypto import keccak

from wallet_sdk.credentials.card_proof import card_nonce, present_card
from wallet_sdk.errors import FormatError, SignatureError, UnsupportedAlgorithmError
from wallet_sdk.jcs import canonical_json_without_floats
from wallet_sdk.jose import Jwk, b64url_encode, sign_compact
from wallet_sdk.merkle import HashAlgorithm

__all__ = [
    "CARD_PROOF_PURPOSE",
    "CONTRACT_CARD_AUDIENCE",
    "DIGEST_SIGNATURE_TYP",
    "EMPLOYEE_IDENTITY_CLAIMS",
    "EVENT_RECORD_TYPE",
    "EVENT_RECORD_TYPE_NAMED_DIGEST",
    "EventKind",
    "EventRecord",
    "EventSignature",
    "KeyTerms",
    "Relation",
    "Role",
    "employer_entity_id",
    "event_digest",
    "key_terms_commitment",
    "pending_record",
    "sign_as_employee",
    "sign_as_employer",
]

EVENT_RECORD_TYPE = "hrss-labour-event/1"
"""Type of a SHA-256 record (no ``digest_alg`` member)."""
EVENT_RECORD_TYPE_NAMED_DIGEST = "hrss-labour-event/2"
"""Type of a record that names its hash in ``digest_alg`` (any hash but SHA-256)."""
EVENT_SEAL_TYPE = "hrss-labour-event-seal/1"
EVENT_SEAL_TYPE_NAMED_DIGEST = "hrss-labour-event-seal/2"
DIGEST_SIGNATURE_TYP = "hrss-digest-sig+jwt"  # the wallet's format (`wallet_sdk.wallet`)
PURPOSE_PREFIX = "labour-contract:"
CARD_PROOF_PURPOSE = "contract-signature"
"""The `card_nonce` purpose of the e-card proof an employee's acceptance carries."""
CONTRACT_CARD_AUDIENCE = "urn:hrss:labour-contract"
"""The audience of that proof's key binding (the nonce binds it to the record)."""
EMPLOYEE_IDENTITY_CLAIMS = ("name", "idNumber")
"""The e-card claims the employer names the employee by, committed in every offer."""
_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REASON_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_UINT64_MAX = 2**64 - 1
_MAX_TEXT = 2000
_MAX_CARD_PROOF = 16384


class EventKind(enum.StrEnum):
    """Kinds of lifecycle event."""

    EMPLOYER_SIGNED = "employer_signed"
    EMPLOYEE_SIGNED = "employee_signed"
    TERMINATED = "terminated"


class Relation(enum.StrEnum):
    """How a contract version relates to the one before it."""

    ORIGINAL = "original"
    AMENDMENT = "amendment"  # 变更
    RENEWAL = "renewal"  # 续订


class Role(enum.StrEnum):
    """The two parties of a labour contract."""

    EMPLOYER = "employer"
    EMPLOYEE = "employee"


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _require_hex32(name: str, value: object) -> str:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise FormatError(f"{name} must be 0x followed by 64 lowercase hex digits")
    return value


def _require_text(name: str, value: object, *, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise FormatError(f"{name} must be a non-empty string of at most {limit} characters")
    return value


def employer_entity_id(credit_code: str) -> bytes:
    """The `TrustRegistry` id of an organisation: ``keccak256("hrss:org:" + credit code)``."""
    return bytes(keccak(b"hrss:org:" + credit_code.encode("ascii")))


# ------------------------------------------------------------------------------ key terms


@dataclass(frozen=True, slots=True)
class KeyTerms:
    """The key terms of a contract version (position, term, wage...) and the salt of their
    commitment. Values are strings or integers. Kept encrypted by the service; disclosed to a
    court only when a party chooses to.

    Raises `FormatError` when the terms are empty, values are neither strings nor integers,
    or the salt is not 32 bytes.
    """

    terms: Mapping[str, str | int]
    salt: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.terms, Mapping) or not self.terms:
            raise FormatError("key terms must be a non-empty object")
        for name, value in self.terms.items():
            if not isinstance(name, str) or not name:
                raise FormatError("key term names are non-empty strings")
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise FormatError(f"key term {name!r} must be a string or an integer")
        if not isinstance(self.salt, bytes) or len(self.salt) != 32:
            raise FormatError("the key-terms salt is 32 bytes")

    @classmethod
    def new(cls, terms: Mapping[str, str | int]) -> KeyTerms:
        """Key terms with a fresh random salt."""
        return cls(terms=dict(terms), salt=secrets.token_bytes(32))

    def commitment(self, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> bytes:
        """HMAC keyed by the salt over the canonical terms (HMAC-SHA256, or HMAC-SM3 for an
        SM3 record): a wage or a position has little entropy, so a plain hash could be
        reversed by guessing."""
        return key_terms_commitment(self.terms, self.salt, algorithm)

    def to_dict(self) -> dict[str, Any]:
        return {"salt": _hex(self.salt), "terms": dict(self.terms)}


def key_terms_commitment(
    terms: Mapping[str, str | int],
    salt: bytes,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
) -> bytes:
    """``HMAC-H(salt, canonical_json_without_floats(terms))`` with `algorithm` as ``H``."""
    return algorithm.mac(salt, canonical_json_without_floats(dict(terms)))


# ------------------------------------------------------------------------------ records


_COMMON = (
    "type",
    "contract_id",
    "sequence",
    "previous",
    "event",
    "version",
    "document_digest",
    "key_terms_commitment",
    "at",
)
_SPECIFIC: dict[EventKind, tuple[str, ...]] = {
    EventKind.EMPLOYER_SIGNED: (
        "employer",
        "hr_operator",
        "employee",
        "employee_identity",
        "relation",
        "supersedes",
    ),
    EventKind.EMPLOYEE_SIGNED: ("employee", "offer"),
    EventKind.TERMINATED: ("terminated_by", "reason_code", "reason", "effective_date"),
}


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One lifecycle event of a labour contract, validated when built.

    Common members: ``contract_id`` (UUID), ``sequence`` (0, 1, ... over the whole contract),
    ``previous`` (record digest of the event before, ``None`` for the first), ``version`` of
    the contract the event concerns (1, 2, ... one per amendment or renewal), that version's
    ``document_digest`` and ``key_terms_commitment``, and ``at``, the signer's time (Unix
    seconds). The members of each kind are listed in ``_SPECIFIC``. ``digest_alg`` is the
    record's hash (module docstring): of its document digest, key-terms commitment and
    record digest. Raises `FormatError`.
    """

    contract_id: str
    sequence: int
    previous: str | None
    event: EventKind
    version: int
    document_digest: str
    key_terms_commitment: str
    at: int
    employer: str | None = None
    hr_operator: str | None = None
    employee: str | None = None
    employee_identity: str | None = None
    relation: Relation | None = None
    supersedes: str | None = None
    offer: str | None = None
    terminated_by: Role | None = None
    reason_code: str | None = None
    reason: str | None = None
    effective_date: str | None = None
    digest_alg: HashAlgorithm = HashAlgorithm.SHA256

    def __post_init__(self) -> None:
        if not isinstance(self.digest_alg, HashAlgorithm):
            raise FormatError(f"digest_alg must be a HashAlgorithm, not {self.digest_alg!r}")
        if not isinstance(self.contract_id, str) or not _UUID.fullmatch(self.contract_id):
            raise FormatError("contract_id must be a lowercase UUID")
        for name, low in (("sequence", 0), ("version", 1), ("at", 0)):
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= _UINT64_MAX:
                raise FormatError(f"{name} must be an integer >= {low}")
        try:
            object.__setattr__(self, "event", EventKind(self.event))
        except ValueError as err:
            raise FormatError(f"unknown event {self.event!r}") from err
        if (self.sequence == 0) != (self.previous is None):
            raise FormatError("previous is null exactly for the first event")
        if self.previous is not None:
            _require_hex32("previous", self.previous)
        _require_hex32("document_digest", self.document_digest)
        _require_hex32("key_terms_commitment", self.key_terms_commitment)
        allowed = set(_SPECIFIC[self.event])
        for name in dict.fromkeys(n for names in _SPECIFIC.values() for n in names):
            if name not in allowed and getattr(self, name) is not None:
                raise FormatError(f"{name} does not belong to a {self.event} record")
        if self.event is EventKind.EMPLOYER_SIGNED:
            self._check_offer()
        elif self.event is EventKind.EMPLOYEE_SIGNED:
            _require_did(self.employee)
            _require_hex32("offer", self.offer)
        else:
            self._check_termination()

    def _check_offer(self) -> None:
        _require_hex32("employer", self.employer)
        _require_text("hr_operator", self.hr_operator, limit=200)
        _require_did(self.employee)
        _require_hex32("employee_identity", self.employee_identity)
        try:
            relation = Relation(self.relation)  # type: ignore[arg-type]  # a str from JSON, turned into the enum (ValueError caught)
        except ValueError as err:
            raise FormatError(f"unknown relation {self.relation!r}") from err
        object.__setattr__(self, "relation", relation)
        if (relation is Relation.ORIGINAL) != (self.version == 1):
            raise FormatError("version 1 is the original; later versions amend or renew")
        if (self.supersedes is None) != (self.version == 1):
            raise FormatError("supersedes names the previous version's offer from version 2 on")
        if self.supersedes is not None:
            _require_hex32("supersedes", self.supersedes)

    def _check_termination(self) -> None:
        try:
            object.__setattr__(self, "terminated_by", Role(self.terminated_by))  # type: ignore[arg-type]  # a str from JSON, turned into the enum (ValueError caught)
        except ValueError as err:
            raise FormatError("terminated_by must be employer or employee") from err
        if not isinstance(self.reason_code, str) or not _REASON_CODE.fullmatch(self.reason_code):
            raise FormatError("reason_code is 1-64 characters of a-z, 0-9, _ . -")
        _require_text("reason", self.reason)
        if not isinstance(self.effective_date, str) or not _DATE.fullmatch(self.effective_date):
            raise FormatError("effective_date is YYYY-MM-DD")

    @property
    def signer_role(self) -> Role:
        """Which party signs this record."""
        if self.event is EventKind.EMPLOYER_SIGNED:
            return Role.EMPLOYER
        if self.event is EventKind.EMPLOYEE_SIGNED:
            return Role.EMPLOYEE
        assert self.terminated_by is not None  # checked when built
        return Role(self.terminated_by)

    @property
    def purpose(self) -> str:
        """The ``purpose`` claim a signature of this record carries."""
        return PURPOSE_PREFIX + self.event.value

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON members: common ones plus the kind's own (``/2``: and
        ``digest_alg``)."""
        result: dict[str, Any] = {"type": EVENT_RECORD_TYPE}
        if self.digest_alg is not HashAlgorithm.SHA256:
            result = {"type": EVENT_RECORD_TYPE_NAMED_DIGEST, "digest_alg": self.digest_alg.value}
        for name in (*_COMMON[1:], *_SPECIFIC[self.event]):
            value = getattr(self, name)
            result[name] = value.value if isinstance(value, enum.Enum) else value
        return result

    def canonical(self) -> bytes:
        """Canonical JSON bytes of the record."""
        return canonical_json_without_floats(self.to_dict())

    def digest(self) -> bytes:
        """The record digest: the record's hash over the canonical JSON."""
        return self.digest_alg.digest(self.canonical())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventRecord:
        """Parse a record; unknown or missing members are rejected. Raises `FormatError`."""
        if not isinstance(data, Mapping):
            raise FormatError("a record is a JSON object")
        named = data.get("type") == EVENT_RECORD_TYPE_NAMED_DIGEST
        if data.get("type") != EVENT_RECORD_TYPE and not named:
            raise FormatError(
                f"record type must be {EVENT_RECORD_TYPE!r} or {EVENT_RECORD_TYPE_NAMED_DIGEST!r}"
            )
        algorithm = _record_digest_alg(data) if named else HashAlgorithm.SHA256
        try:
            kind = EventKind(str(data.get("event")))
        except ValueError as err:
            raise FormatError(f"unknown event {data.get('event')!r}") from err
        expected = {*_COMMON, *_SPECIFIC[kind], *(("digest_alg",) if named else ())}
        if set(data) != expected:
            extra = sorted(set(data) - expected)
            missing = sorted(expected - set(data))
            raise FormatError(f"record members: unexpected {extra}, missing {missing}")
        fields = {name: value for name, value in data.items() if name != "type"}
        return cls(**{**fields, "digest_alg": algorithm})


def _record_digest_alg(data: Mapping[str, Any]) -> HashAlgorithm:
    """The hash an ``hrss-labour-event/2`` record names. Raises `FormatError` for an unknown
    one, and for SHA-256, whose records are ``/1`` (one encoding per record)."""
    if "digest_alg" not in data:
        raise FormatError(f"an {EVENT_RECORD_TYPE_NAMED_DIGEST!r} record names its digest_alg")
    try:
        algorithm = HashAlgorithm.from_name(str(data.get("digest_alg")))
    except UnsupportedAlgorithmError as err:
        raise FormatError(f"unknown record digest_alg {data.get('digest_alg')!r}") from err
    if algorithm is HashAlgorithm.SHA256:
        raise FormatError(f"a SHA-256 record is {EVENT_RECORD_TYPE!r}, without digest_alg")
    return algorithm


def contract_line(contract: Mapping[str, Any], *, party: str) -> str:
    """One line of a contract listing as the service answers it: id, state, latest version,
    the other party (the service's field `party`, e.g. ``employer_name``) and whose signature
    is pending. Both parties' command lines print it."""
    pending = contract["pending"]["role"] if contract["pending"] else "-"
    return (
        f"{contract['contract_id']}\t{contract['state']}\tv{contract['latest_version']}"
        f"\t{contract[party]}\tnext: {pending}"
    )


def pending_record(contract: Mapping[str, Any], *, role: Role, at: int) -> EventRecord:
    """The record `role` must sign now, from a contract as the service shows it (its
    ``pending`` member: ``{"role", "record", "purpose"}``), with the signing time `at` set.

    Raises `FormatError` when nothing waits for `role`'s signature or the record is malformed.
    """
    pending = contract.get("pending") if isinstance(contract, Mapping) else None
    if not isinstance(pending, Mapping) or pending.get("role") != role.value:
        waiting = pending.get("role") if isinstance(pending, Mapping) else None
        raise FormatError(
            f"nothing waits for the {role.value}'s signature"
            + (f" (the {waiting} signs next)" if waiting else "")
        )
    record = pending.get("record")
    if not isinstance(record, Mapping):
        raise FormatError("the pending record is not a JSON object")
    return EventRecord.from_dict({**record, "at": at})


def _require_did(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("did:jwk:") or len(value) > 512:
        raise FormatError("the employee is named by a did:jwk")
    return value


# ------------------------------------------------------------------------------ signatures


@dataclass(frozen=True, slots=True)
class EventSignature:
    """A party's signature of an event record.

    ``signer`` is the employer's entity id (0x hex) or the employee's ``did:jwk``; ``key_id``
    the employer's registered key id (RFC 7638 thumbprint, 0x hex) or ``<did>#0``;
    ``card_proof`` the employee's e-card proof (an SD-JWT presentation), employee only.
    Raises `FormatError` when a member is malformed.
    """

    role: Role
    signer: str
    key_id: str
    jws: str
    card_proof: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError as err:
            raise FormatError(f"unknown signer role {self.role!r}") from err
        if self.role is Role.EMPLOYER:
            _require_hex32("signer", self.signer)
            _require_hex32("key_id", self.key_id)
            if self.card_proof is not None:
                raise FormatError("an employer signature carries no card proof")
        else:
            _require_did(self.signer)
            if self.key_id != self.signer + "#0":
                raise FormatError("an employee key id is '<did>#0'")
        if not isinstance(self.jws, str) or self.jws.count(".") != 2 or len(self.jws) > 16384:
            raise FormatError("jws must be a compact JWS")
        if self.card_proof is not None and (
            not isinstance(self.card_proof, str)
            or "~" not in self.card_proof
            or len(self.card_proof) > _MAX_CARD_PROOF
        ):
            raise FormatError("card_proof must be an SD-JWT presentation")

    def to_dict(self) -> dict[str, str]:
        result = {
            "role": self.role.value,
            "signer": self.signer,
            "key_id": self.key_id,
            "jws": self.jws,
        }
        if self.card_proof is not None:
            result["card_proof"] = self.card_proof
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventSignature:
        required = {"role", "signer", "key_id", "jws"}
        if not isinstance(data, Mapping) or not required <= set(data) <= {*required, "card_proof"}:
            raise FormatError("a signature has exactly role, signer, key_id, jws and card_proof")
        return cls(**dict(data))


def event_digest(
    record_digest: bytes,
    jws: str,
    card_proof: str | None = None,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
) -> bytes:
    """The digest anchored for an event: the record's hash `algorithm` over the canonical seal
    ``{"type": "hrss-labour-event-seal/1", "record_digest": "0x..", "signature": jws}``, with
    ``"card_proof"`` when the signature carries one; for any hash but SHA-256 the seal is
    ``hrss-labour-event-seal/2`` and names it in ``"digest_alg"``."""
    seal = {"type": EVENT_SEAL_TYPE, "record_digest": _hex(record_digest), "signature": jws}
    if algorithm is not HashAlgorithm.SHA256:
        seal |= {"type": EVENT_SEAL_TYPE_NAMED_DIGEST, "digest_alg": algorithm.value}
    if card_proof is not None:
        seal["card_proof"] = card_proof
    return algorithm.digest(canonical_json_without_floats(seal))


def signature_claims(record: EventRecord, signer: str) -> dict[str, Any]:
    """The claims a signature of `record` by `signer` carries."""
    return {
        "iss": signer,
        "digest_alg": record.digest_alg.value,
        "digest": record.digest().hex(),
        "purpose": record.purpose,
        "iat": record.at,
    }


def sign_as_employer(record: EventRecord, *, key: Jwk, entity_id: bytes) -> EventSignature:
    """The employer's signature of `record` with its registered private `key`.

    The JWS ``kid`` is the key's RFC 7638 thumbprint (base64url), the key id under which the
    key is registered on chain. Raises `SignatureError` when the record is not the employer's
    to sign or the key has no private part.
    """
    if record.signer_role is not Role.EMPLOYER:
        raise SignatureError(f"the employer does not sign a {record.event} record of the employee")
    if not isinstance(entity_id, bytes) or len(entity_id) != 32:
        raise SignatureError("entity_id is 32 bytes")
    signer = _hex(entity_id)
    payload = canonical_json_without_floats(signature_claims(record, signer))
    jws = sign_compact(
        payload,
        key,
        headers={"typ": DIGEST_SIGNATURE_TYP, "kid": b64url_encode(key.thumbprint())},
    )
    return EventSignature(role=Role.EMPLOYER, signer=signer, key_id=_hex(key.thumbprint()), jws=jws)


class DigestSigner(Protocol):
    """What `sign_as_employee` needs of a wallet (`wallet_sdk.wallet.Wallet` is one)."""

    @property
    def did(self) -> str: ...

    @property
    def credential_key(self) -> Jwk: ...

    def sign_digest(
        self, digest: bytes, *, now: int, purpose: str = ..., algorithm: HashAlgorithm = ...
    ) -> Any: ...


def employee_card_nonce(record: EventRecord) -> str:
    """The key-binding nonce of the e-card proof that goes with a signature of `record`."""
    return card_nonce(CARD_PROOF_PURPOSE, record.digest())


def sign_as_employee(
    record: EventRecord, *, wallet: DigestSigner, card: str | None = None
) -> EventSignature:
    """The employee's signature of `record`, made by the wallet's ``did:jwk`` key over the
    record digest (``Wallet.sign_digest``). An acceptance (``employee_signed``) carries the
    proof of the e-card `card` (the wallet's SD-JWT e-card, bound to the same key) disclosing
    the name and ID number, bound to this record; a termination carries it when `card` is
    given. Raises `SignatureError` when the record is not the employee's to sign, names
    another ``did``, or an acceptance has no card; `PresentationError` when the card cannot
    be presented with the wallet's key."""
    if record.signer_role is not Role.EMPLOYEE:
        raise SignatureError(f"the employee does not sign a {record.event} record of the employer")
    if record.event is EventKind.EMPLOYEE_SIGNED and record.employee != wallet.did:
        raise SignatureError("the record names another employee")
    if record.event is EventKind.EMPLOYEE_SIGNED and card is None:
        raise SignatureError("an acceptance is signed with the e-card: the wallet holds none")
    signed = wallet.sign_digest(
        record.digest(), now=record.at, purpose=record.purpose, algorithm=record.digest_alg
    )
    jws = str(signed.jws)
    proof = None
    if card is not None:
        proof = present_card(
            card,
            holder_key=wallet.credential_key,
            disclose=EMPLOYEE_IDENTITY_CLAIMS,
            nonce=employee_card_nonce(record),
            audience=CONTRACT_CARD_AUDIENCE,
            issued_at=record.at,
        )
    return EventSignature(
        role=Role.EMPLOYEE, signer=wallet.did, key_id=wallet.did + "#0", jws=jws, card_proof=proof
    )
