"""Data-use consent: requests, commitments, EIP-712 grants and withdrawals, signed receipts.

The fields follow ISO/IEC TS 27560 (consent record information structure) and the Kantara
Initiative consent receipt: controller, purposes from a controlled vocabulary, personal-data
categories, validity, jurisdiction, legal basis, and how to withdraw.

What reaches the chain (``ConsentRegistry``) is only the EIP-712 ``Grant``: the holder's
pseudonymous address, the grantee's ledger id, and two *keyed commitments*::

    purposeHash = HMAC-SHA256(salt, "hrss-consent/1 purposes" 0x00 canonical-json(purposes))
    scopeHash   = HMAC-SHA256(salt, "hrss-consent/1 scope" 0x00
                              canonical-json({"data_categories": [...], "request": <digest>}))

with a fresh 32-byte ``salt`` per consent, chosen by the wallet. Purposes and categories come
from small vocabularies, so a plain hash would be reversed by enumeration; the salt makes the
commitments useless to anyone without the off-chain opening (`ConsentOpening`). The request
digest inside the scope binds the grant to the exact notice the cardholder was shown, which
may name the data subject: that never reaches the chain except through the keyed commitment.

Every public function raises only `wallet_sdk.errors.WalletError` subclasses: `FormatError`
for malformed input, `VerificationError` (naming the failed check) for failed verification,
`SignatureError` when a signature cannot be produced.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys.datatypes import Signature as EcdsaSignature
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as EthValidationError

from wallet_sdk.credentials.card_proof import (
    CardIdentity,
    card_nonce,
    identity_commitment,
    matches_commitment,
    new_commitment_salt,
    present_card,
    verify_card_proof,
)
from wallet_sdk.credentials.verifier import CredentialVerifier
from wallet_sdk.errors import (
    FormatError,
    JsonTooDeep,
    SignatureError,
    VerificationError,
    WalletError,
)
from wallet_sdk.jose import (
    SIGNING_ALGORITHMS,
    Jwk,
    b64url_decode,
    read_unverified_header,
    sign_compact,
    verify_compact,
)
from wallet_sdk.nesting import load_json
from wallet_sdk.qr import QrPayloadType, encode_qr_payload, parse_qr_payload

__all__ = [
    "CONSENT_DOMAIN_NAME",
    "CONSENT_DOMAIN_VERSION",
    "CONSENT_GRANT_PROOF",
    "CONSENT_RECEIPT_TYP",
    "CONSENT_RECEIPT_VERSION",
    "CONSENT_REQUEST_VERSION",
    "WALLET_AUDIENCE",
    "ConsentOnChain",
    "ConsentOpening",
    "ConsentReceipt",
    "ConsentRequest",
    "ConsentSubject",
    "ConsentView",
    "Controller",
    "DataCategory",
    "GrantTerms",
    "LegalBasis",
    "Purpose",
    "ReceiptEvent",
    "RegistryDomain",
    "SignedConsent",
    "SignedWithdrawal",
    "address_of_public_key",
    "encode_consent_request_qr",
    "grant_digest",
    "identity_proof_audience",
    "identity_proof_nonce",
    "issue_consent_receipt",
    "parse_consent_request_qr",
    "present_identity_proof",
    "purpose_commitment",
    "recover_grant_signer",
    "recover_withdrawal_signer",
    "scope_commitment",
    "sign_grant",
    "sign_withdrawal",
    "verify_consent_receipt",
    "verify_consent_receipt_on_chain",
    "verify_identity_proof",
    "withdrawal_digest",
]

CONSENT_REQUEST_VERSION = "hrss-consent-request/1"
CONSENT_RECEIPT_VERSION = "hrss-consent-receipt/1"
CONSENT_RECEIPT_TYP = "hrss-consent-receipt+jwt"
CONSENT_DOMAIN_NAME = "HRSS Consent"
CONSENT_DOMAIN_VERSION = "1"
WALLET_AUDIENCE = "urn:hrss:wallet"
"""Audience of QR payloads meant for any cardholder wallet."""
CONSENT_GRANT_PROOF = "consent-grant"
"""The `card_nonce` purpose of the e-card proof a grant carries."""
SUBJECT_CLAIMS = ("idNumber",)
"""What the subject of a request is named by, and what a grant's e-card proof discloses."""
_MAX_PROOF = 16_000
_SUBJECT_CHECK = "subject"

_SALT_BYTES = 32
_MAX_DURATION = 5 * 366 * 24 * 3600
_MAX_TEXT = 1000
_UINT64_MAX = 2**64 - 1
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_RECEIPT_ALGORITHMS = SIGNING_ALGORITHMS


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


class ReceiptEvent(enum.StrEnum):
    """What a consent receipt records."""

    GRANT = "grant"
    WITHDRAWAL = "withdrawal"


def _canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise FormatError(f"{name!r} must be a non-empty string of at most {_MAX_TEXT} chars")
    return value


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if type(value) is not int or not 0 <= value <= _UINT64_MAX:
        raise FormatError(f"{name!r} must be an unsigned 64-bit integer")
    return value


def _hex32(value: object, name: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str):
        try:
            raw = bytes.fromhex(value.removeprefix("0x"))
        except ValueError as err:
            raise FormatError(f"{name!r} is not hex") from err
    else:
        raise FormatError(f"{name!r} must be 32 bytes of hex")
    if len(raw) != 32:
        raise FormatError(f"{name!r} must be 32 bytes")
    return raw


def _address(value: object, name: str = "address") -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise FormatError(f"{name!r} must be a 0x-prefixed 20-byte hex address")
    return str(to_checksum_address(value))


def _enum_tuple(values: Iterable[Any], kind: type[enum.StrEnum], name: str) -> tuple[Any, ...]:
    items = []
    for value in values:
        try:
            items.append(kind(value))
        except (ValueError, TypeError) as err:
            allowed = ", ".join(member.value for member in kind)
            raise FormatError(
                f"{name}: {value!r} is not in the controlled vocabulary; allowed: {allowed}"
            ) from err
    if not items:
        raise FormatError(f"{name} must not be empty")
    if len(set(items)) != len(items):
        raise FormatError(f"{name} must not repeat a value")
    return tuple(sorted(items))


@dataclass(frozen=True, slots=True)
class RegistryDomain:
    """The EIP-712 domain of a deployed ``ConsentRegistry``."""

    chain_id: int
    address: str

    def __post_init__(self) -> None:
        if type(self.chain_id) is not int or self.chain_id <= 0:
            raise FormatError("chain_id must be a positive integer")
        object.__setattr__(self, "address", _address(self.address, "registry address"))

    def typed_domain(self) -> dict[str, Any]:
        """The ``EIP712Domain`` values."""
        return {
            "name": CONSENT_DOMAIN_NAME,
            "version": CONSENT_DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.address,
        }

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "address": self.address}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RegistryDomain:
        """Raises `FormatError` when malformed."""
        chain_id = data.get("chain_id")
        if type(chain_id) is not int:
            raise FormatError("'chain_id' must be an integer")
        return cls(chain_id=chain_id, address=_address(data.get("address"), "registry address"))


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
        object.__setattr__(self, "ledger_id", _hex32(self.ledger_id, "ledger_id"))
        if not isinstance(self.credit_code, str) or not _CREDIT_CODE.fullmatch(self.credit_code):
            raise FormatError("'credit_code' is not a unified social credit code")
        for name in ("name", "contact"):
            _text({name: getattr(self, name)}, name)

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
            ledger_id=_hex32(data.get("ledger_id"), "ledger_id"),
            credit_code=_text(data, "credit_code"),
            name=_text(data, "name"),
            contact=_text(data, "contact"),
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
        object.__setattr__(self, "purposes", _enum_tuple(self.purposes, Purpose, "purposes"))
        object.__setattr__(
            self,
            "data_categories",
            _enum_tuple(self.data_categories, DataCategory, "data_categories"),
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
            _int({name: getattr(self, name)}, name)
        if self.expires_at <= self.created_at:
            raise FormatError("the request expires before it is created")
        if not re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", str(self.jurisdiction)):
            raise FormatError("'jurisdiction' must be an ISO 3166 code")
        _text({"withdrawal_method": self.withdrawal_method}, "withdrawal_method")
        if not isinstance(self.notice, str) or len(self.notice) > _MAX_TEXT:
            raise FormatError(f"'notice' must be a string of at most {_MAX_TEXT} chars")
        if self.subject_reference is not None:
            _text({"subject_reference": self.subject_reference}, "subject_reference")
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
                request_id=_text(data, "request_id"),
                controller=Controller.from_json(data.get("controller")),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
                purposes=tuple(purposes),
                data_categories=tuple(categories),
                duration_seconds=duration,  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
                legal_basis=data.get("legal_basis"),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
                registry=RegistryDomain.from_json(registry),
                created_at=_int(data, "created_at"),
                expires_at=_int(data, "expires_at"),
                jurisdiction=_text(data, "jurisdiction"),
                withdrawal_method=_text(data, "withdrawal_method"),
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
        return hashlib.sha256(_canonical(self.to_json())).digest()


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


# ---------------------------------------------------------------------------------------------
# Commitments


def _check_salt(salt: bytes) -> bytes:
    if not isinstance(salt, bytes) or len(salt) != _SALT_BYTES:
        raise FormatError(f"a commitment salt is {_SALT_BYTES} random bytes")
    return salt


def purpose_commitment(salt: bytes, purposes: Iterable[Purpose | str]) -> bytes:
    """HMAC-SHA256 commitment to a set of purposes under a per-consent salt (32 bytes)."""
    codes = [p.value for p in _enum_tuple(purposes, Purpose, "purposes")]
    message = b"hrss-consent/1 purposes\x00" + _canonical(codes)
    return hmac.new(_check_salt(salt), message, hashlib.sha256).digest()


def scope_commitment(
    salt: bytes, data_categories: Iterable[DataCategory | str], request_digest: bytes
) -> bytes:
    """HMAC-SHA256 commitment to the data categories and the request they answer."""
    codes = [c.value for c in _enum_tuple(data_categories, DataCategory, "data_categories")]
    scope = {"data_categories": codes, "request": _hex32(request_digest, "request_digest").hex()}
    message = b"hrss-consent/1 scope\x00" + _canonical(scope)
    return hmac.new(_check_salt(salt), message, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class ConsentOpening:
    """The off-chain opening of a grant's commitments: never goes on chain."""

    salt: bytes = field(repr=False)
    purposes: tuple[Purpose, ...]
    data_categories: tuple[DataCategory, ...]
    request_digest: bytes

    def __post_init__(self) -> None:
        _check_salt(self.salt)
        object.__setattr__(self, "purposes", _enum_tuple(self.purposes, Purpose, "purposes"))
        object.__setattr__(
            self,
            "data_categories",
            _enum_tuple(self.data_categories, DataCategory, "data_categories"),
        )
        object.__setattr__(self, "request_digest", _hex32(self.request_digest, "request_digest"))

    @property
    def purpose_hash(self) -> bytes:
        return purpose_commitment(self.salt, self.purposes)

    @property
    def scope_hash(self) -> bytes:
        return scope_commitment(self.salt, self.data_categories, self.request_digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "salt": "0x" + self.salt.hex(),
            "purposes": [p.value for p in self.purposes],
            "data_categories": [c.value for c in self.data_categories],
            "request_digest": "0x" + self.request_digest.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsentOpening:
        """Raises `FormatError` when malformed."""
        if not isinstance(data, Mapping):
            raise FormatError("an opening must be an object")
        purposes, categories = data.get("purposes"), data.get("data_categories")
        if not isinstance(purposes, list | tuple) or not isinstance(categories, list | tuple):
            raise FormatError("'purposes' and 'data_categories' must be arrays")
        return cls(
            salt=_hex32(data.get("salt"), "salt"),
            purposes=tuple(purposes),
            data_categories=tuple(categories),
            request_digest=_hex32(data.get("request_digest"), "request_digest"),
        )


# ---------------------------------------------------------------------------------------------
# EIP-712 grants and withdrawals

_GRANT_TYPES = {
    "Grant": [
        {"name": "holder", "type": "address"},
        {"name": "grantee", "type": "bytes32"},
        {"name": "purposeHash", "type": "bytes32"},
        {"name": "scopeHash", "type": "bytes32"},
        {"name": "notBefore", "type": "uint64"},
        {"name": "notAfter", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
    ]
}
_WITHDRAWAL_TYPES = {
    "Withdrawal": [
        {"name": "consentId", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
    ]
}


@dataclass(frozen=True, slots=True)
class GrantTerms:
    """The EIP-712 ``Grant`` struct, exactly what ``ConsentRegistry.grant`` receives."""

    holder: str
    grantee: bytes
    purpose_hash: bytes
    scope_hash: bytes
    not_before: int
    not_after: int
    nonce: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "holder", _address(self.holder, "holder"))
        for name in ("grantee", "purpose_hash", "scope_hash"):
            object.__setattr__(self, name, _hex32(getattr(self, name), name))
        _int({"not_before": self.not_before}, "not_before")
        _int({"not_after": self.not_after}, "not_after")
        if self.not_before >= self.not_after:
            raise FormatError("'not_before' must be earlier than 'not_after'")
        if type(self.nonce) is not int or not 0 <= self.nonce < 2**256:
            raise FormatError("'nonce' must be a uint256")

    def typed_message(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "grantee": self.grantee,
            "purposeHash": self.purpose_hash,
            "scopeHash": self.scope_hash,
            "notBefore": self.not_before,
            "notAfter": self.not_after,
            "nonce": self.nonce,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "grantee": "0x" + self.grantee.hex(),
            "purpose_hash": "0x" + self.purpose_hash.hex(),
            "scope_hash": "0x" + self.scope_hash.hex(),
            "not_before": self.not_before,
            "not_after": self.not_after,
            "nonce": str(self.nonce),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GrantTerms:
        """Raises `FormatError` when malformed (``nonce`` is a decimal string)."""
        if not isinstance(data, Mapping):
            raise FormatError("grant terms must be an object")
        nonce = data.get("nonce")
        if not isinstance(nonce, str) or not nonce.isdigit() or len(nonce) > 78:
            raise FormatError("'nonce' must be a decimal string")
        return cls(
            holder=_address(data.get("holder"), "holder"),
            grantee=_hex32(data.get("grantee"), "grantee"),
            purpose_hash=_hex32(data.get("purpose_hash"), "purpose_hash"),
            scope_hash=_hex32(data.get("scope_hash"), "scope_hash"),
            not_before=_int(data, "not_before"),
            not_after=_int(data, "not_after"),
            nonce=int(nonce),
        )


def _signable(domain: RegistryDomain, types: dict[str, Any], primary: str, message: Any) -> Any:
    try:
        return encode_typed_data(
            domain_data=domain.typed_domain(), message_types=types, message_data=message
        )
    except (ValueError, TypeError, KeyError) as err:
        raise FormatError(f"cannot encode EIP-712 {primary}: {err}") from err


def eip712_digest(signable: SignableMessage) -> bytes:
    """The digest an EIP-712 signature signs: keccak256 of ``0x19 || version || domain
    separator || struct hash`` (EIP-191 version 0x01, spelled out from the public
    `SignableMessage` fields rather than through eth-account's private helper)."""
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def grant_digest(terms: GrantTerms, domain: RegistryDomain) -> bytes:
    """The EIP-712 digest of a grant: its ``consentId`` on chain."""
    return eip712_digest(_signable(domain, _GRANT_TYPES, "Grant", terms.typed_message()))


def withdrawal_digest(consent_id: bytes, nonce: int, domain: RegistryDomain) -> bytes:
    """The EIP-712 digest of a ``Withdrawal``."""
    message = {"consentId": _hex32(consent_id, "consent_id"), "nonce": nonce}
    return eip712_digest(_signable(domain, _WITHDRAWAL_TYPES, "Withdrawal", message))


def _sign(digest: bytes, private_key: bytes) -> bytes:
    try:
        signed = Account.unsafe_sign_hash(digest, private_key)
    except (ValueError, TypeError) as err:
        raise SignatureError(f"cannot sign: {err}") from err
    return bytes(signed.signature)


def _recover(digest: bytes, signature: bytes) -> str:
    # The registry rejects malleable (high-s) signatures; reject them here too, so an
    # off-chain check never accepts what the chain would refuse.
    if not isinstance(signature, bytes) or len(signature) != 65:
        raise VerificationError("signature", "an ECDSA signature is 65 bytes (r || s || v)")
    s = int.from_bytes(signature[32:64], "big")
    if s == 0 or s > _SECP256K1_N // 2 or signature[64] not in (27, 28):
        raise VerificationError("signature", "signature is malleable or malformed")
    r = int.from_bytes(signature[:32], "big")
    try:
        public_key = EcdsaSignature(
            vrs=(signature[64] - 27, r, s)
        ).recover_public_key_from_msg_hash(digest)
    except (BadSignature, EthValidationError, ValueError) as err:
        raise VerificationError("signature", "signature does not recover a signer") from err
    return str(public_key.to_checksum_address())


def recover_grant_signer(terms: GrantTerms, domain: RegistryDomain, signature: bytes) -> str:
    """The address that signed a grant. Raises `VerificationError` (check ``signature``)."""
    return _recover(grant_digest(terms, domain), signature)


def recover_withdrawal_signer(
    consent_id: bytes, nonce: int, domain: RegistryDomain, signature: bytes
) -> str:
    """The address that signed a withdrawal. Raises `VerificationError` (``signature``)."""
    return _recover(withdrawal_digest(consent_id, nonce, domain), signature)


def address_of_public_key(key: Jwk) -> str:
    """The Ethereum address of a secp256k1 key. Raises `FormatError` for other curves."""
    if key.curve.value != "secp256k1":
        raise FormatError("only secp256k1 keys have an Ethereum address")
    return str(to_checksum_address(keccak(key.raw_public_key()[1:])[-20:]))


@dataclass(frozen=True, slots=True)
class SignedConsent:
    """A signed grant ready to relay, with its domain, opening and consent id."""

    terms: GrantTerms
    domain: RegistryDomain
    signature: bytes
    opening: ConsentOpening
    request_id: str
    identity_proof: str | None = field(default=None, repr=False)
    """The cardholder's e-card proof that they are the request's subject: an SD-JWT
    presentation disclosing ``idNumber``, its key binding nonce over the consent id and its
    audience the data user (`identity_proof_nonce`, `identity_proof_audience`). Personal
    data: never on chain, sealed at rest, shown only to the data user and the holder."""

    def __post_init__(self) -> None:
        if self.identity_proof is not None and (
            not isinstance(self.identity_proof, str)
            or "~" not in self.identity_proof
            or len(self.identity_proof) > _MAX_PROOF
        ):
            raise FormatError(
                f"'identity_proof' must be an SD-JWT presentation of at most {_MAX_PROOF} chars"
            )

    @property
    def consent_id(self) -> bytes:
        return grant_digest(self.terms, self.domain)

    def without_identity_proof(self) -> SignedConsent:
        """The same grant without its e-card proof (what may be kept unsealed)."""
        return SignedConsent(
            terms=self.terms,
            domain=self.domain,
            signature=self.signature,
            opening=self.opening,
            request_id=self.request_id,
        )

    def to_json(self) -> dict[str, Any]:
        data = {
            "request_id": self.request_id,
            "registry": self.domain.to_json(),
            "grant": self.terms.to_json(),
            "signature": "0x" + self.signature.hex(),
            "opening": self.opening.to_json(),
            "consent_id": "0x" + self.consent_id.hex(),
        }
        if self.identity_proof is not None:
            data["identity_proof"] = self.identity_proof
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedConsent:
        """Parse a relayed grant. Raises `FormatError` when malformed.

        Parsing checks the form only; `verify` checks signature and commitments.
        """
        if not isinstance(data, Mapping):
            raise FormatError("a signed consent must be an object")
        registry = data.get("registry")
        if not isinstance(registry, Mapping):
            raise FormatError("'registry' must be an object")
        signed = cls(
            terms=GrantTerms.from_json(data.get("grant")),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
            domain=RegistryDomain.from_json(registry),
            signature=_hex_bytes(data.get("signature"), "signature", 65),
            opening=ConsentOpening.from_json(data.get("opening")),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
            request_id=_text(data, "request_id"),
            identity_proof=data.get("identity_proof"),
        )
        if "consent_id" in data and _hex32(data["consent_id"], "consent_id") != signed.consent_id:
            raise FormatError("'consent_id' does not match the grant")
        return signed

    def verify(self) -> None:
        """Check that the holder signed these terms and that the opening matches them.

        Raises `VerificationError` with check ``signature`` (forged, malleable or by someone
        other than the holder) or ``commitment`` (opening does not match the hashes).
        """
        # 1. the commitments open to the stated purposes and categories
        if not hmac.compare_digest(self.opening.purpose_hash, self.terms.purpose_hash):
            raise VerificationError("commitment", "purposes do not match the purpose commitment")
        if not hmac.compare_digest(self.opening.scope_hash, self.terms.scope_hash):
            raise VerificationError("commitment", "scope does not match the scope commitment")
        # 2. the holder signed exactly these terms
        signer = recover_grant_signer(self.terms, self.domain, self.signature)
        if signer != self.terms.holder:
            raise VerificationError("signature", "the grant is not signed by its holder")


@dataclass(frozen=True, slots=True)
class SignedWithdrawal:
    """A signed withdrawal ready to relay."""

    consent_id: bytes
    nonce: int
    domain: RegistryDomain
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "consent_id": "0x" + self.consent_id.hex(),
            "nonce": str(self.nonce),
            "registry": self.domain.to_json(),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedWithdrawal:
        """Raises `FormatError` when malformed."""
        if not isinstance(data, Mapping) or not isinstance(data.get("registry"), Mapping):
            raise FormatError("a signed withdrawal must be an object with a 'registry'")
        nonce = data.get("nonce")
        if not isinstance(nonce, str) or not nonce.isdigit() or len(nonce) > 78:
            raise FormatError("'nonce' must be a decimal string")
        return cls(
            consent_id=_hex32(data.get("consent_id"), "consent_id"),
            nonce=int(nonce),
            domain=RegistryDomain.from_json(data["registry"]),
            signature=_hex_bytes(data.get("signature"), "signature", 65),
        )

    def signer(self) -> str:
        """The address that signed. Raises `VerificationError` (``signature``)."""
        return recover_withdrawal_signer(self.consent_id, self.nonce, self.domain, self.signature)


def _hex_bytes(value: object, name: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise FormatError(f"{name!r} must be hex")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as err:
        raise FormatError(f"{name!r} is not hex") from err
    if len(raw) != length:
        raise FormatError(f"{name!r} must be {length} bytes")
    return raw


def sign_grant(
    request: ConsentRequest,
    *,
    private_key: bytes,
    now: int,
    purposes: Collection[Purpose | str] | None = None,
    data_categories: Collection[DataCategory | str] | None = None,
    not_before: int | None = None,
    not_after: int | None = None,
    salt: bytes | None = None,
    nonce: int | None = None,
) -> SignedConsent:
    """Sign a grant answering `request` with the holder's secp256k1 `private_key`.

    The cardholder may narrow the request: a subset of its purposes and categories, a later
    start or an earlier end; never more than asked. Defaults: everything asked, from `now`
    for the requested duration. A fresh salt and a random 128-bit nonce unless given.

    Raises `FormatError` when the choice exceeds the request or is malformed, and
    `VerificationError` (``expired``) when the request has expired.
    """
    if now > request.expires_at:
        raise VerificationError("expired", "the consent request has expired")
    chosen_purposes = _enum_tuple(
        request.purposes if purposes is None else purposes, Purpose, "purposes"
    )
    chosen_categories = _enum_tuple(
        request.data_categories if data_categories is None else data_categories,
        DataCategory,
        "data_categories",
    )
    for what, chosen, asked in (
        ("purposes", chosen_purposes, request.purposes),
        ("data categories", chosen_categories, request.data_categories),
    ):
        extra = sorted(set(chosen) - set(asked))
        if extra:
            raise FormatError(
                f"a grant cannot add {what} the request did not ask for: "
                f"{', '.join(extra)} (asked: {', '.join(asked)})"
            )
    start = now if not_before is None else not_before
    end = start + request.duration_seconds if not_after is None else not_after
    if end - start > request.duration_seconds:
        raise FormatError("a grant cannot last longer than the request asked")
    opening = ConsentOpening(
        salt=secrets.token_bytes(_SALT_BYTES) if salt is None else salt,
        purposes=chosen_purposes,
        data_categories=chosen_categories,
        request_digest=request.digest(),
    )
    try:
        holder = str(Account.from_key(private_key).address)
    except (ValueError, TypeError) as err:
        raise SignatureError("not a secp256k1 private key") from err
    terms = GrantTerms(
        holder=holder,
        grantee=request.controller.ledger_id,
        purpose_hash=opening.purpose_hash,
        scope_hash=opening.scope_hash,
        not_before=start,
        not_after=end,
        nonce=secrets.randbits(128) if nonce is None else nonce,
    )
    signature = _sign(grant_digest(terms, request.registry), private_key)
    return SignedConsent(
        terms=terms,
        domain=request.registry,
        signature=signature,
        opening=opening,
        request_id=request.request_id,
    )


def sign_withdrawal(
    consent_id: bytes, domain: RegistryDomain, *, private_key: bytes, nonce: int | None = None
) -> SignedWithdrawal:
    """Sign the withdrawal of a consent (random 128-bit nonce unless given)."""
    chosen = secrets.randbits(128) if nonce is None else nonce
    consent = _hex32(consent_id, "consent_id")
    signature = _sign(withdrawal_digest(consent, chosen, domain), private_key)
    return SignedWithdrawal(consent_id=consent, nonce=chosen, domain=domain, signature=signature)


# ---------------------------------------------------------------------------------------------
# The data subject's identity proof


def identity_proof_nonce(consent_id: bytes) -> str:
    """The key binding nonce of a grant's e-card proof: `card_nonce` over the consent id (the
    EIP-712 digest of the grant, which names the holder address). So the card's holder key
    vouches for this very grant by this very holder, and the proof serves no other."""
    return card_nonce(CONSENT_GRANT_PROOF, _hex32(consent_id, "consent_id"))


def identity_proof_audience(controller: Controller) -> str:
    """The audience of a grant's e-card proof: the data user that asked, by ledger id."""
    return "urn:hrss:data-user:0x" + controller.ledger_id.hex()


def present_identity_proof(
    card: str, *, holder_key: Jwk, consent: SignedConsent, controller: Controller, issued_at: int
) -> SignedConsent:
    """`consent` with the e-card proof of its grantor attached: `card` presented with
    `holder_key` (the credential key the card is bound to), disclosing only ``idNumber``, to
    the data user `controller`, key-bound to the consent id. Raises `PresentationError`."""
    proof = present_card(
        card,
        holder_key=holder_key,
        disclose=SUBJECT_CLAIMS,
        nonce=identity_proof_nonce(consent.consent_id),
        audience=identity_proof_audience(controller),
        issued_at=issued_at,
    )
    return SignedConsent(
        terms=consent.terms,
        domain=consent.domain,
        signature=consent.signature,
        opening=consent.opening,
        request_id=consent.request_id,
        identity_proof=proof,
    )


def verify_identity_proof(
    consent: SignedConsent,
    request: ConsentRequest,
    verifier: CredentialVerifier,
    *,
    as_of: int | None = None,
    presented_at: int | None = None,
) -> CardIdentity:
    """Check that the data subject the request names granted `consent`, and return the card
    identity the proof shows.

    Checks, in order: 1. the request names a subject (``subject``); 2. the grant carries an
    e-card proof (``subject``); 3. the proof, through the whole credential pipeline with the
    card's status as of `as_of` and the key binding's freshness at `presented_at` (for a
    receipt: the block time of the grant): an e-card from an accredited card issuer, active,
    disclosing ``idNumber`` (``card``, ``issuer``, ``status``, ...), key-bound to this grant's
    consent id and to the data user (``holder_binding``); 4. the disclosed ID number is the
    request's subject (``subject``). Raises `VerificationError` naming the failed check.
    """
    # 1. a request about someone
    if request.subject is None:
        raise VerificationError(_SUBJECT_CHECK, "the consent request names no data subject")
    # 2. a proof
    if consent.identity_proof is None:
        raise VerificationError(_SUBJECT_CHECK, "the grant carries no e-card proof of identity")
    # 3. the e-card, bound to this grant and this data user
    identity = verify_card_proof(
        verifier,
        consent.identity_proof,
        nonce=identity_proof_nonce(consent.consent_id),
        audience=identity_proof_audience(request.controller),
        as_of=as_of,
        presented_at=presented_at,
        require=SUBJECT_CLAIMS,
    )
    # 4. the subject named in the request
    if not matches_commitment(
        identity, request.subject.commitment, request.subject.salt, SUBJECT_CLAIMS
    ):
        raise VerificationError(
            _SUBJECT_CHECK, "the e-card proof is not the data subject the request names"
        )
    return identity


# ---------------------------------------------------------------------------------------------
# Consent receipts


@dataclass(frozen=True, slots=True)
class ConsentReceipt:
    """A verified consent receipt (grant or withdrawal), after ISO/IEC TS 27560 / Kantara."""

    receipt_id: str
    event: ReceiptEvent
    issuer: str
    issued_at: int
    consent: SignedConsent
    request: ConsentRequest
    transaction_hash: str
    block_number: int
    block_time: int
    withdrawal: SignedWithdrawal | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    withdrawn_by: str | None = None
    """The holder's successor (the person's later phone) that signed the withdrawal; ``None``
    when the holder did. `verify_consent_receipt_on_chain` checks the succession."""

    @property
    def consent_id(self) -> bytes:
        return self.consent.consent_id


def issue_consent_receipt(
    *,
    event: ReceiptEvent,
    consent: SignedConsent,
    request: ConsentRequest,
    issuer: str,
    key: Jwk,
    issued_at: int,
    transaction_hash: str,
    block_number: int,
    block_time: int,
    withdrawal: SignedWithdrawal | None = None,
    withdrawn_by: str | None = None,
) -> str:
    """Sign a consent receipt as a compact JWS (``typ`` ``hrss-consent-receipt+jwt``).
    `withdrawn_by` names the holder's successor (the person's later phone) that signed the
    withdrawal, once the registry accepted it from that successor.

    Raises `FormatError` when a withdrawal receipt lacks its withdrawal (or a grant receipt
    has one), `SignatureError` when `key` has no private part.
    """
    if (event is ReceiptEvent.WITHDRAWAL) != (withdrawal is not None):
        raise FormatError("a withdrawal receipt, and only one, carries the withdrawal")
    body: dict[str, Any] = {
        "version": CONSENT_RECEIPT_VERSION,
        "receipt_id": uuid.uuid4().hex,
        "event": ReceiptEvent(event).value,
        "iss": issuer,
        "iat": issued_at,
        "jurisdiction": request.jurisdiction,
        "legal_basis": request.legal_basis.value,
        "controller": request.controller.to_json(),
        "principal": {"holder": consent.terms.holder},
        "purposes": [{"code": p.value, "label": p.label} for p in consent.opening.purposes],
        "data_categories": [c.value for c in consent.opening.data_categories],
        "validity": {"not_before": consent.terms.not_before, "not_after": consent.terms.not_after},
        "withdrawal_method": request.withdrawal_method,
        "request": request.to_json(),
        "consent": consent.to_json(),
        "transaction": {
            "hash": transaction_hash,
            "block_number": block_number,
            "block_time": block_time,
        },
    }
    if withdrawal is not None:
        body["withdrawal"] = withdrawal.to_json()
    if withdrawn_by is not None:
        body["withdrawn_by"] = _address(withdrawn_by, "withdrawn_by")
    return sign_compact(_canonical(body), key, headers={"typ": CONSENT_RECEIPT_TYP})


def verify_consent_receipt(
    token: str,
    *,
    trusted_keys: Mapping[str, Sequence[Jwk]],
    card_verifier: CredentialVerifier | None = None,
) -> ConsentReceipt:
    """Verify a consent receipt and return it.

    Checks, in order: 1. the service's signature under a trusted key (``issuer``, ``key``,
    JWS checks); 2. the format (``format``); 3. the grant answers the embedded request
    (``request``); 4. the holder's EIP-712 signature and the commitments (``signature``,
    ``commitment``); 5. for a withdrawal, that the holder signed it, or the successor the
    receipt names as ``withdrawn_by`` (``withdrawal``; the succession itself is on chain,
    checked by `verify_consent_receipt_on_chain`); 6. for a grant, with a `card_verifier` (it
    reads the chain), when the request names a subject or the grant carries an e-card proof:
    `verify_identity_proof` with the card's status and the key binding judged at the grant's
    block time (``subject``, ``card``, ``status``, ...).
    Without one, checks 1-5 run offline and the identity proof rests on the service's word.
    Raises `VerificationError` naming the failed check.
    """
    try:
        header = read_unverified_header(token)
        issuer = load_json(b64url_decode(token.split(".")[1]), what="payload")["iss"]
    except JsonTooDeep as err:
        raise VerificationError("format", str(err)) from err
    except (WalletError, ValueError, KeyError, TypeError, IndexError) as err:
        raise VerificationError("format", "not a consent receipt") from err
    # 1. signature by a key the caller trusts for this issuer
    candidates = trusted_keys.get(issuer) if isinstance(issuer, str) else None
    if not candidates:
        raise VerificationError("issuer", f"issuer {issuer!r} is not trusted")
    kid = header.get("kid")
    key = next(
        (k for k in candidates if (k.kid if k.kid is not None else k.thumbprint_b64()) == kid),
        None,
    )
    if key is None:
        raise VerificationError("key", f"no trusted key {kid!r} for issuer {issuer!r}")
    verified = verify_compact(token, key, algorithms=_RECEIPT_ALGORITHMS, typ=CONSENT_RECEIPT_TYP)
    # 2. format
    try:
        body = verified.payload_json()
        if body.get("version") != CONSENT_RECEIPT_VERSION:
            raise FormatError(f"not a {CONSENT_RECEIPT_VERSION} receipt")
        event = ReceiptEvent(body["event"])
        consent = SignedConsent.from_json(body["consent"])
        request = ConsentRequest.from_json(body["request"])
        transaction = body["transaction"]
        withdrawal = (
            SignedWithdrawal.from_json(body["withdrawal"])
            if event is ReceiptEvent.WITHDRAWAL
            else None
        )
        receipt = ConsentReceipt(
            receipt_id=str(body["receipt_id"]),
            event=event,
            issuer=issuer,
            issued_at=_int(body, "iat"),
            consent=consent,
            request=request,
            transaction_hash=str(transaction["hash"]),
            block_number=_int(transaction, "block_number"),
            block_time=_int(transaction, "block_time"),
            withdrawal=withdrawal,
            raw=body,
            withdrawn_by=(
                None if body.get("withdrawn_by") is None else _address(body["withdrawn_by"])
            ),
        )
    except (WalletError, ValueError, KeyError, TypeError) as err:
        raise VerificationError("format", f"malformed consent receipt: {err}") from err
    # 3. the grant answers the request it embeds
    if (
        consent.opening.request_digest != request.digest()
        or consent.terms.grantee != request.controller.ledger_id
        or consent.domain != request.registry
        or consent.request_id != request.request_id
    ):
        raise VerificationError("request", "the grant does not answer the embedded request")
    # 4. holder signature and commitments
    consent.verify()
    # 5. withdrawal signed by the same holder (or the successor named), for this consent
    if withdrawal is not None and (
        withdrawal.consent_id != consent.consent_id
        or withdrawal.domain != consent.domain
        or withdrawal.signer() not in (consent.terms.holder, receipt.withdrawn_by)
    ):
        raise VerificationError(
            "withdrawal", "the withdrawal is not the holder's, for this consent"
        )
    # 6. the data subject's e-card proof, as of the block that recorded the grant (a
    # withdrawal receipt's block is the withdrawal's: its grant receipt carries the check)
    if (
        card_verifier is not None
        and event is ReceiptEvent.GRANT
        and (request.subject is not None or consent.identity_proof is not None)
    ):
        verify_identity_proof(
            consent,
            request,
            card_verifier,
            as_of=receipt.block_time,
            presented_at=receipt.block_time,
        )
    return receipt


# ---------------------------------------------------------------------------------------------
# Against the chain


@dataclass(frozen=True, slots=True)
class ConsentOnChain:
    """A consent as ``ConsentRegistry.consentOf`` returns it; ``withdrawn_at == 0`` while valid."""

    holder: str
    grantee: bytes
    purpose_hash: bytes
    scope_hash: bytes
    not_before: int
    not_after: int
    withdrawn_at: int


class ConsentView(Protocol):
    """Read access to ``ConsentRegistry`` on some node (`wallet_sdk.consent_chain` offers one
    over ``node_adapter``). Methods may raise anything when the chain cannot answer; the
    verification then fails closed."""

    def chain_id(self) -> int: ...

    def consent_of(self, registry: str, consent_id: bytes) -> ConsentOnChain | None: ...

    def is_successor_of(self, registry: str, holder: str, candidate: str) -> bool: ...


def verify_consent_receipt_on_chain(receipt: ConsentReceipt, view: ConsentView) -> ConsentOnChain:
    """Check a verified receipt against the chain itself, trusting no service.

    Checks, in order: 1. the view is on the receipt's chain (``chain``); 2. the registry
    holds the consent (``recorded``); 3. holder, grantee, commitments and validity are the
    signed terms (``terms``); 4. a withdrawal receipt's consent is withdrawn on chain
    (``withdrawn``); 5. a withdrawal by a successor: the registry records the succession
    (``succession``). Raises `VerificationError` naming the check; a chain that cannot answer
    fails check ``chain``.
    """
    domain = receipt.consent.domain
    terms = receipt.consent.terms
    # 1. the right chain
    try:
        chain_id = view.chain_id()
        on_chain = view.consent_of(domain.address, receipt.consent_id)
    except Exception as err:  # the view's own failures: fail closed, whatever they are
        raise VerificationError("chain", f"the chain cannot answer: {err}") from err
    if chain_id != domain.chain_id:
        raise VerificationError("chain", f"the view is on chain {chain_id}, not {domain.chain_id}")
    # 2. recorded
    if on_chain is None:
        raise VerificationError("recorded", "the registry holds no such consent")
    # 3. the signed terms
    if (
        to_checksum_address(on_chain.holder) != terms.holder
        or on_chain.grantee != terms.grantee
        or on_chain.purpose_hash != terms.purpose_hash
        or on_chain.scope_hash != terms.scope_hash
        or (on_chain.not_before, on_chain.not_after) != (terms.not_before, terms.not_after)
    ):
        raise VerificationError("terms", "the registry holds other terms for this consent")
    # 4. withdrawn, when the receipt says so
    if receipt.event is ReceiptEvent.WITHDRAWAL and on_chain.withdrawn_at == 0:
        raise VerificationError("withdrawn", "the registry does not show the withdrawal")
    # 5. the successor that withdrew succeeds the holder
    if receipt.withdrawn_by is not None:
        try:
            succeeds = view.is_successor_of(domain.address, terms.holder, receipt.withdrawn_by)
        except Exception as err:  # fail closed, as in 1.
            raise VerificationError("chain", f"the chain cannot answer: {err}") from err
        if not succeeds:
            raise VerificationError(
                "succession", "the registry holds no succession from the holder to the signer"
            )
    return on_chain
