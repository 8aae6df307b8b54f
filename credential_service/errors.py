"""The service's one exception root and its catalogue of stable error codes.

Domain services raise these; ``credential_service.api.errors`` maps each family to an HTTP
status and the stable body ``{code, message, detail}``. Codes never change once released.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every stable error code the service answers with."""

    # request shape
    VALIDATION_FAILED = "validation_failed"
    REQUEST_BODY_TOO_LARGE = "request_body_too_large"
    TOO_DEEP = "too_deep"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    BAD_REQUEST = "bad_request"
    INTERNAL_ERROR = "internal_error"
    # token endpoint (RFC 6749 section 5.2 plus these)
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    INVALID_TOKEN_REQUEST = "invalid_token_request"
    INVALID_SCOPE = "invalid_scope"
    ASSERTION_MALFORMED = "assertion_malformed"
    ASSERTION_ALG_NONE = "assertion_alg_none"
    ASSERTION_ALG_NOT_ALLOWED = "assertion_alg_not_allowed"
    ASSERTION_EXPIRED = "assertion_expired"
    ASSERTION_NOT_YET_VALID = "assertion_not_yet_valid"
    ASSERTION_LIFETIME_TOO_LONG = "assertion_lifetime_too_long"
    ASSERTION_WRONG_AUDIENCE = "assertion_wrong_audience"
    ASSERTION_ISSUER_MISMATCH = "assertion_issuer_mismatch"
    ASSERTION_REPLAYED = "assertion_replayed"
    ASSERTION_SIGNATURE_INVALID = "assertion_signature_invalid"
    ASSERTION_KEY_NOT_REGISTERED = "assertion_key_not_registered"
    ASSERTION_HEADER_NOT_ALLOWED = "assertion_header_not_allowed"
    ASSERTION_KEY_WRONG_PURPOSE = "assertion_key_wrong_purpose"
    CLIENT_UNKNOWN = "client_unknown"
    CLIENT_SUSPENDED = "client_suspended"
    CLIENT_REVOKED = "client_revoked"
    # resource endpoints
    UNAUTHENTICATED = "unauthenticated"
    SCOPE_MISSING = "scope_missing"
    TENANT_FORBIDDEN = "tenant_forbidden"
    ACCREDITATION_NOT_ALLOWED = "accreditation_not_allowed"
    # organisations and keys
    ORGANISATION_NOT_FOUND = "organisation_not_found"
    ORGANISATION_EXISTS = "organisation_exists"
    CREDIT_CODE_INVALID = "credit_code_invalid"
    REGION_OUTSIDE_PROVINCE = "region_outside_province"
    STATUS_TRANSITION_INVALID = "status_transition_invalid"
    JWK_INVALID = "jwk_invalid"
    JWK_PRIVATE_MATERIAL = "jwk_private_material"
    KEY_EXISTS = "key_exists"
    KEY_VALIDITY_INVALID = "key_validity_invalid"
    # chain
    CHAIN_UNAVAILABLE = "chain_unavailable"
    CHAIN_REJECTED = "chain_rejected"
    # keystore and audit (CLI, startup)
    KEYSTORE_LOCKED = "keystore_locked"
    KEYSTORE_CORRUPT = "keystore_corrupt"
    KEY_NOT_IN_KEYSTORE = "key_not_in_keystore"
    AUDIT_CHAIN_BROKEN = "audit_chain_broken"
    CONFIGURATION_INVALID = "configuration_invalid"
    NOT_READY = "not_ready"
    DATABASE_UNAVAILABLE = "database_unavailable"
    STORAGE_FULL = "storage_full"
    # consent and cardholder login (credential_service.consent, credential_service.login)
    CONSENT_REQUEST_NOT_FOUND = "consent_request_not_found"
    CONSENT_REQUEST_EXPIRED = "consent_request_expired"
    CONSENT_REQUEST_INVALID = "consent_request_invalid"
    CONSENT_GRANT_INVALID = "consent_grant_invalid"
    CONSENT_SIGNATURE_INVALID = "consent_signature_invalid"
    CONSENT_REPLAYED = "consent_replayed"
    CONSENT_NOT_FOUND = "consent_not_found"
    CONSENT_ALREADY_WITHDRAWN = "consent_already_withdrawn"
    CONSENT_HOLDER_MISMATCH = "consent_holder_mismatch"
    CONSENT_SUBJECT_INVALID = "consent_subject_invalid"
    LOGIN_FAILED = "login_failed"
    LOGIN_CHALLENGE_EXPIRED = "login_challenge_expired"
    LOGIN_CHALLENGE_REPLAYED = "login_challenge_replayed"
    # credentials (credential_service.credentials)
    CREDENTIAL_TYPE_UNKNOWN = "credential_type_unknown"
    CREDENTIAL_SUBJECT_INVALID = "credential_subject_invalid"
    ISSUER_NOT_ACCREDITED = "issuer_not_accredited"
    CREDENTIAL_NOT_FOUND = "credential_not_found"
    SIGNING_KEY_NOT_FOUND = "signing_key_not_found"
    CREDENTIAL_MALFORMED = "credential_malformed"
    CREDENTIAL_FORMAT_NOT_ALLOWED = "credential_format_not_allowed"
    # credential types published at run time (credential_service.credentials.type_registry)
    CREDENTIAL_TYPE_INVALID = "credential_type_invalid"
    CREDENTIAL_TYPE_EXISTS = "credential_type_exists"
    SCHEMA_NOT_FOUND = "schema_not_found"
    # the electronic social security card (wallet_sdk.credentials.social_security_card)
    CARD_ISSUER_REQUIRED = "card_issuer_required"
    CARD_FORMAT_NOT_ALLOWED = "card_format_not_allowed"
    CARD_SUBJECT_INVALID = "card_subject_invalid"
    CARD_ACTIVATION_PROOF_INVALID = "card_activation_proof_invalid"
    ACTIVATION_CODE_UNKNOWN = "activation_code_unknown"
    ACTIVATION_CODE_USED = "activation_code_used"
    ACTIVATION_CODE_EXPIRED = "activation_code_expired"
    # issuance requiring the e-card (wallet_sdk.credentials.card_proof)
    CARD_PROOF_REQUIRED = "card_proof_required"
    CARD_PROOF_INVALID = "card_proof_invalid"
    CARD_SUBJECT_MISMATCH = "card_subject_mismatch"
    CARD_HOLDER_MISMATCH = "card_holder_mismatch"
    # QR login with the e-card
    CARD_REQUIRED = "card_required"
    # labour contracts signed by the named employee
    EMPLOYEE_IDENTITY_INVALID = "employee_identity_invalid"
    EMPLOYEE_MISMATCH = "employee_mismatch"
    CARD_NOT_ACTIVE = "card_not_active"
    # training files (wallet_sdk.credentials.training_file)
    TRAINING_FILE_INVALID = "training_file_invalid"
    TRAINING_DATES_INVALID = "training_dates_invalid"
    TRAINING_FILE_SEQUENCE_TAKEN = "training_file_sequence_taken"
    TRAINING_FILE_NOT_HEAD = "training_file_not_head"
    # the public registry view (credential_service.services.registry)
    REGISTRY_REFERENCE_INVALID = "registry_reference_invalid"
    # the W3C VC API paths: a credential or presentation that failed verification
    CREDENTIAL_NOT_VERIFIED = "credential_not_verified"
    PRESENTATION_NOT_VERIFIED = "presentation_not_verified"
    # ending and revoking organisations' client keys (credential_service.services.organisations)
    KEY_NOT_FOUND = "key_not_found"
    LAST_ACTIVE_KEY = "last_active_key"
    CLIENT_KEY_EXPIRED = "client_key_expired"
    CLIENT_KEY_REVOKED = "client_key_revoked"
    # idempotent issuance (the Idempotency-Key header)
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_FLIGHT = "idempotency_key_in_flight"
    IDEMPOTENCY_ANSWER_UNREADABLE = "idempotency_answer_unreadable"


class ServiceError(Exception):
    """Root of every error the service raises on purpose."""

    default_code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, code: ErrorCode | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code or self.default_code
        self.message = message
        self.detail = detail


class InvalidInput(ServiceError):
    """The request is well formed but its content is unacceptable (HTTP 400)."""

    default_code = ErrorCode.BAD_REQUEST


class TokenRequestError(ServiceError):
    """A token request fails; ``oauth_error`` is the RFC 6749 section 5.2 error name."""

    default_code = ErrorCode.INVALID_TOKEN_REQUEST
    oauth_error = "invalid_request"


class UnsupportedGrantType(TokenRequestError):
    default_code = ErrorCode.UNSUPPORTED_GRANT_TYPE
    oauth_error = "unsupported_grant_type"


class InvalidScope(TokenRequestError):
    default_code = ErrorCode.INVALID_SCOPE
    oauth_error = "invalid_scope"


class ClientAuthenticationFailed(TokenRequestError):
    """The client assertion does not authenticate the client (HTTP 401, ``invalid_client``)."""

    default_code = ErrorCode.ASSERTION_MALFORMED
    oauth_error = "invalid_client"


class NotAuthenticated(ServiceError):
    """A resource request carries no valid access token. Always one opaque answer."""

    default_code = ErrorCode.UNAUTHENTICATED

    def __init__(self) -> None:
        super().__init__("authentication required")


class Forbidden(ServiceError):
    """The caller is authenticated but may not do this (HTTP 403)."""

    default_code = ErrorCode.SCOPE_MISSING


class NotFound(ServiceError):
    default_code = ErrorCode.NOT_FOUND


class Conflict(ServiceError):
    """The request contradicts the current state (HTTP 409)."""

    default_code = ErrorCode.ORGANISATION_EXISTS


class Unprocessable(ServiceError):
    """The request is valid on its own but cannot be carried out as sent, e.g. an idempotency
    key already used for a different request (HTTP 422)."""

    default_code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class LedgerUnavailable(ServiceError):
    """No chain node answers (HTTP 503)."""

    default_code = ErrorCode.CHAIN_UNAVAILABLE


class LedgerRejected(ServiceError):
    """The chain reverted a transaction the service sent (HTTP 409); ``detail`` names the
    contract error."""

    default_code = ErrorCode.CHAIN_REJECTED

    @property
    def contract_error(self) -> str | None:
        """The name of the contract error that reverted (``detail["error"]``), ``None`` when
        the revert could not be decoded or the rejection names none."""
        error = self.detail.get("error") if isinstance(self.detail, dict) else None
        return error if isinstance(error, str) else None


class KeystoreError(ServiceError):
    default_code = ErrorCode.KEYSTORE_CORRUPT


class AuditChainBroken(ServiceError):
    """A row of the audit trail does not hash to what it claims; ``detail`` has its seq."""

    default_code = ErrorCode.AUDIT_CHAIN_BROKEN


class ConfigurationError(ServiceError):
    default_code = ErrorCode.CONFIGURATION_INVALID
