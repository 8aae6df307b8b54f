"""Consent requests: the vocabularies, the data user and registry a request names, the
data subject, and the signed QR code that carries a request to the cardholder's wallet."""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wallet_sdk.consent._fields import (
    MAX_TEXT,
    checksum_address,
    hex32,
    text_field,
    uint64_field,
    vocabulary_tuple,
)
from wallet_sdk.credentials.card_proof import identity_commitment, new_commitment_salt
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.jcs import canonical_json
from wallet_sdk.jose import Jwk
from wallet_sdk.qr import QrPayloadType, encode_qr_payload, parse_qr_payload

__all__ = [
    "CONSENT_REQUEST_VERSION",
    "WALLET_AUDIENCE",
    "ConsentRequest",
    "ConsentSubject",
    "Controller",
    "DataCategory",
    "LegalBasis",
    "Purpose",
    "RegistryDomain",
    "encode_consent_request_qr",
    "parse_consent_request_qr",
]

CONSENT_REQUEST_VERSION = "hrss-consent-request/1"
WALLET_AUDIENCE = "urn:hrss:wallet"
"""Audience of QR payloads meant for any cardholder wallet."""
_MAX_DURATION = 5 * 366 * 24 * 3600
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


class Purpose(enum.StrEnum):
    """The controlled vocabulary of data-use purposes (codes are stable; labels may change)."""

    EMPLOYMENT_VERIFICATION = "employment-verification"
    RECRUITMENT = "recruitment"
    SOCIAL_INSURANCE_ENROLMENT = "social-insurance-enrolment"
    BENEFIT_ELIGIBILITY = "benefit-eligibility"
    SKILL_VERIFICATION = "skill-verification"
    TRAINING_SUBSIDY = "training-subsidy"
    JOB_MATCHING = "job-matching"
    LABOUR_DISPUTE_HANDLING = "labour-dispute-handling"
    STATISTICS = "statistics"

    @property
    def label(self) -> str:
        """A bilingual label to show the cardholder."""
        return _PURPOSE_LABELS[self]


_PURPOSE_LABELS = {
    Purpose.EMPLOYMENT_VERIFICATION: "就业核验 / employment verification",
    Purpose.RECRUITMENT: "招聘录用 / recruitment",
    Purpose.SOCIAL_INSURANCE_ENROLMENT: "社保参保登记 / social insurance enrolment",
    Purpose.BENEFIT_ELIGIBILITY: "待遇资格认证 / benefit eligibility",
    Purpose.SKILL_VERIFICATION: "职业技能核验 / skill certificate verification",
    Purpose.TRAINING_SUBSIDY: "职业培训补贴 / vocational training subsidy",
    Purpose.JOB_MATCHING: "就业岗位推荐 / job matching",
    Purpose.LABOUR_DISPUTE_HANDLING: "劳动人事争议处理 / labour dispute handling",
    Purpose.STATISTICS: "统计分析（去标识化）/ de-identified statistics",
}


class DataCategory(enum.StrEnum):
    """Categories of personal data a consent may cover."""

    IDENTITY = "identity"
    CONTACT = "contact"
    SOCIAL_INSURANCE_RECORD = "social-insurance-record"
    EMPLOYMENT_HISTORY = "employment-history"
    LABOUR_CONTRACT = "labour-contract"
    SKILL_CERTIFICATE = "skill-certificate"
    EDUCATION = "education"
    TRAINING_RECORD = "training-record"
    BENEFIT_PAYMENT = "benefit-payment"
    BANK_ACCOUNT = "bank-account"

    @property
    def sensitive(self) -> bool:
        """Sensitive personal information under PIPL Art. 28 (needs separate consent)."""
        return self is DataCategory.BANK_ACCOUNT


class LegalBasis(enum.StrEnum):
    """Legal basis of the processing (PIPL)."""

    CONSENT = "pipl-art13-consent"
    SEPARATE_CONSENT = "pipl-art29-separate-consent"


@dataclass(frozen=True, slots=True)
class RegistryDomain:
    """The EIP-712 domain of a deployed ``ConsentRegistry``."""

    chain_id: int
    address: str

    def __post_init__(self) -> None:
        if type(self.chain_id) is not int or self.chain_id <= 0:
            raise FormatError("chain_id must be a positive integer")
        object.__setattr__(self, "address", checksum_address(self.address, "registry address"))

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "address": self.address}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RegistryDomain:
        """Raises `FormatError` when malformed."""
        chain_id = data.get("chain_id")
        if type(chain_id) is not int:
            raise FormatError("'chain_id' must be an integer")
        return cls(
            chain_id=chain_id, address=checksum_address(data.get("address"), "registry address")
        )


@dataclass(frozen=True, slots=True)
class Controller:
    """The data user (PII controller) as accredited on chain.

    `ledger_id` is its ``TrustRegistry`` entity id (the grantee of a consent).
    """

    ledger_id: bytes
    credit_code: str
    name: str
    contact: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "ledger_id", hex32(self.ledger_id, "ledger_id"))
        if not isinstance(self.credit_code, str) or not _CREDIT_CODE.fullmatch(self.credit_code):
            raise FormatError("'credit_code' is not a unified social credit code")
        for name in ("name", "contact"):
            text_field({name: getattr(self, name)}, name)

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger_id": "0x" + self.ledger_id.hex(),
            "credit_code": self.credit_code,
            "name": self.name,
            "contact": self.contact,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Controller:
        """Raises `FormatError` when malformed."""
        if not isinstance(data, Mapping):
            raise FormatError("'controller' must be an object")
        return cls(
            ledger_id=hex32(data.get("ledger_id"), "ledger_id"),
            credit_code=text_field(data, "credit_code"),
            name=text_field(data, "name"),
            contact=text_field(data, "contact"),
        )


@dataclass(frozen=True, slots=True)
class ConsentSubject:
    """Who a consent request is about: a salted commitment to the data subject's citizen ID
    number (`wallet_sdk.credentials.card_proof.identity_commitment` of ``{"idNumber": ...}``)
    and its salt, which travels with the request so the subject's wallet can tell that the
    request is about its cardholder. Never the number itself; never on chain (only inside the
    grant's keyed scope commitment, through the request digest)."""

    commitment: str
    salt: str

    def __post_init__(self) -> None:
        if not isinstance(self.commitment, str) or not re.fullmatch(
            r"[0-9a-f]{64}", self.commitment
        ):
            raise FormatError("the subject commitment is 64 lowercase hex digits")
        if not isinstance(self.salt, str) or not re.fullmatch(r"[A-Za-z0-9_-]{22,86}", self.salt):
            raise FormatError("the subject salt is 16 to 64 bytes of base64url")

    @classmethod
    def for_id_number(cls, id_number: str, *, salt: str | None = None) -> ConsentSubject:
        """The subject with ID number `id_number` under a fresh salt (or `salt`). Raises
        `FormatError` when it is not a valid GB 11643 number (naming the problem, never the
        number)."""
        chosen = new_commitment_salt() if salt is None else salt
        return cls(commitment=identity_commitment({"idNumber": id_number}, chosen), salt=chosen)

    def names(self, id_number: object) -> bool:
        """Whether this is the subject with ID number `id_number` (False for anything that is
        not a valid ID number)."""
        if not isinstance(id_number, str):
            return False
        try:
            expected = identity_commitment({"idNumber": id_number}, self.salt)
        except FormatError:
            return False
        return hmac.compare_digest(expected, self.commitment)

    def to_json(self) -> dict[str, str]:
        return {"commitment": self.commitment, "salt": self.salt}

    @classmethod
    def from_json(cls, data: object) -> ConsentSubject:
        """Raises `FormatError` when malformed."""
        if not isinstance(data, Mapping):
            raise FormatError("'subject' must be an object {commitment, salt}")
        return cls(commitment=data.get("commitment"), salt=data.get("salt"))  # type: ignore[arg-type]  # values from JSON, checked by __post_init__


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A data user's request for consent, as shown to the cardholder.

    Validated when built: purposes and categories from the vocabularies (sorted, unique, non
    empty), a duration between one minute and five years, sensitive categories only under
    separate consent. Raises `FormatError` otherwise.
    """

    request_id: str
    controller: Controller
    purposes: tuple[Purpose, ...]
    data_categories: tuple[DataCategory, ...]
    duration_seconds: int
    legal_basis: LegalBasis
    registry: RegistryDomain
    created_at: int
    expires_at: int
    jurisdiction: str = "CN"
    withdrawal_method: str = "hrss-wallet: consent withdraw, or the e-card app (电子社保卡)"
    notice: str = ""
    subject_reference: str | None = None
    """The data user's own reference to the person asked (free text; personal data): shown
    to the cardholder, kept off chain, committed to only inside the keyed scope commitment."""
    subject: ConsentSubject | None = None
    """The data subject, by a salted commitment to their ID number. The service always names
    one; a wallet refuses a request without one, or about someone else."""

    def __post_init__(self) -> None:
        if not isinstance(self.request_id, str) or not re.fullmatch(
            r"[A-Za-z0-9_-]{8,64}", self.request_id
        ):
            raise FormatError("'request_id' must be 8-64 characters of [A-Za-z0-9_-]")
        if not isinstance(self.controller, Controller):
            raise FormatError("'controller' must be a Controller")
        if not isinstance(self.registry, RegistryDomain):
            raise FormatError("'registry' must be a RegistryDomain")
        object.__setattr__(self, "purposes", vocabulary_tuple(self.purposes, Purpose, "purposes"))
        object.__setattr__(
            self,
            "data_categories",
            vocabulary_tuple(self.data_categories, DataCategory, "data_categories"),
        )
        try:
            object.__setattr__(self, "legal_basis", LegalBasis(self.legal_basis))
        except ValueError as err:
            raise FormatError(f"unknown legal basis {self.legal_basis!r}") from err
        if type(self.duration_seconds) is not int or not (
            60 <= self.duration_seconds <= _MAX_DURATION
        ):
            raise FormatError("'duration_seconds' must be between 60 s and five years")
        for name in ("created_at", "expires_at"):
            uint64_field({name: getattr(self, name)}, name)
        if self.expires_at <= self.created_at:
            raise FormatError("the request expires before it is created")
        if not re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", str(self.jurisdiction)):
            raise FormatError("'jurisdiction' must be an ISO 3166 code")
        text_field({"withdrawal_method": self.withdrawal_method}, "withdrawal_method")
        if not isinstance(self.notice, str) or len(self.notice) > MAX_TEXT:
            raise FormatError(f"'notice' must be a string of at most {MAX_TEXT} chars")
        if self.subject_reference is not None:
            text_field({"subject_reference": self.subject_reference}, "subject_reference")
        if self.subject is not None and not isinstance(self.subject, ConsentSubject):
            raise FormatError("'subject' must be a ConsentSubject")
        if (
            any(c.sensitive for c in self.data_categories)
            and self.legal_basis is not LegalBasis.SEPARATE_CONSENT
        ):
            raise FormatError("sensitive data categories need separate consent (PIPL Art. 29)")

    @classmethod
    def new(
        cls,
        *,
        controller: Controller,
        purposes: Iterable[Purpose | str],
        data_categories: Iterable[DataCategory | str],
        duration_seconds: int,
        legal_basis: LegalBasis | str,
        registry: RegistryDomain,
        now: int,
        lifetime_seconds: int = 600,
        notice: str = "",
        subject_reference: str | None = None,
        subject: ConsentSubject | None = None,
    ) -> ConsentRequest:
        """A new request with a random id, valid for `lifetime_seconds` from `now`."""
        return cls(
            request_id=uuid.uuid4().hex,
            controller=controller,
            purposes=tuple(purposes),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
            data_categories=tuple(data_categories),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
            duration_seconds=duration_seconds,
            legal_basis=legal_basis,  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
            registry=registry,
            created_at=now,
            expires_at=now + lifetime_seconds,
            notice=notice,
            subject_reference=subject_reference,
            subject=subject,
        )

    def to_json(self) -> dict[str, Any]:
        """The request as a JSON object (the body of its QR payload)."""
        data: dict[str, Any] = {
            "version": CONSENT_REQUEST_VERSION,
            "request_id": self.request_id,
            "controller": self.controller.to_json(),
            "purposes": [p.value for p in self.purposes],
            "data_categories": [c.value for c in self.data_categories],
            "duration_seconds": self.duration_seconds,
            "legal_basis": self.legal_basis.value,
            "jurisdiction": self.jurisdiction,
            "withdrawal_method": self.withdrawal_method,
            "notice": self.notice,
            "registry": self.registry.to_json(),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }
        if self.subject_reference is not None:
            data["subject_reference"] = self.subject_reference
        if self.subject is not None:
            data["subject"] = self.subject.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsentRequest:
        """Parse and validate a request. Raises `FormatError` when malformed."""
        if not isinstance(data, Mapping):
            raise FormatError("a consent request must be a JSON object")
        if data.get("version") != CONSENT_REQUEST_VERSION:
            raise FormatError(f"not a {CONSENT_REQUEST_VERSION} request")
        try:
            purposes = data.get("purposes")
            categories = data.get("data_categories")
            if not isinstance(purposes, list | tuple) or not isinstance(categories, list | tuple):
                raise FormatError("'purposes' and 'data_categories' must be arrays")
            registry = data.get("registry")
            if not isinstance(registry, Mapping):
                raise FormatError("'registry' must be an object")
            duration = data.get("duration_seconds")
            return cls(
                request_id=text_field(data, "request_id"),
                controller=Controller.from_json(data.get("controller")),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
                purposes=tuple(purposes),
                data_categories=tuple(categories),
                duration_seconds=duration,  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
                legal_basis=data.get("legal_basis"),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
                registry=RegistryDomain.from_json(registry),
                created_at=uint64_field(data, "created_at"),
                expires_at=uint64_field(data, "expires_at"),
                jurisdiction=text_field(data, "jurisdiction"),
                withdrawal_method=text_field(data, "withdrawal_method"),
                notice=str(data.get("notice", "")),
                subject_reference=data.get("subject_reference"),
                subject=(
                    None
                    if data.get("subject") is None
                    else ConsentSubject.from_json(data["subject"])
                ),
            )
        except WalletError:
            raise
        except (TypeError, ValueError, AttributeError) as err:
            raise FormatError(f"malformed consent request: {err}") from err

    def digest(self) -> bytes:
        """SHA-256 of the canonical JSON of the request: what a grant's scope binds to."""
        return hashlib.sha256(canonical_json(self.to_json())).digest()


def encode_consent_request_qr(
    request: ConsentRequest, *, issuer: str, key: Jwk, audience: str = WALLET_AUDIENCE
) -> str:
    """The request as a signed QR payload (``hrss:`` + JWS), expiring with the request.

    Raises `FormatError` when it does not fit a QR code, `SignatureError` without a private key.
    """
    return encode_qr_payload(
        type=QrPayloadType.CONSENT_REQUEST,
        issuer=issuer,
        audience=audience,
        issued_at=request.created_at,
        expires_at=request.expires_at,
        body=request.to_json(),
        key=key,
        nonce=request.request_id,
    )


def parse_consent_request_qr(
    text: str,
    *,
    trusted_keys: Mapping[str, Sequence[Jwk]],
    now: int,
    audience: str = WALLET_AUDIENCE,
) -> ConsentRequest:
    """Verify a scanned consent-request QR and parse its request.

    Raises `VerificationError` as `parse_qr_payload` does, with check ``type`` when the QR is
    not a consent request and ``format`` when the body is not a valid request.
    """
    payload = parse_qr_payload(text, trusted_keys=trusted_keys, now=now, audience=audience)
    if payload.type is not QrPayloadType.CONSENT_REQUEST:
        raise VerificationError("type", f"QR payload is a {payload.type}, not a consent request")
    try:
        return ConsentRequest.from_json(_thaw(payload.body))
    except FormatError as err:
        raise VerificationError("format", str(err)) from err


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value
