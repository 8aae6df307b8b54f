"""Verifiable credentials: W3C VC Data Model 2.0 as ``vc+jwt`` and ``vc+sd-jwt`` (RFC 9901),
issued by accredited issuers whose keys, accreditation and credential statuses live on chain.

Modules by protocol role: `issuer` signs, `holder` presents, `verifier` runs the pipeline of
named checks; `types` holds the credential types (JSON Schemas), `trust_state` the chain state
the verifier reads (cached from events, or direct), `training_file` the lifelong training file.
"""

from wallet_sdk.credentials._model import (
    ENVELOPED_VC_PREFIX,
    KB_JWT_TYP,
    VC_JWT_TYP,
    VC_SD_JWT_TYP,
    VP_JWT_TYP,
    StatusRegistryRef,
    credential_digest,
    credential_id_from_uri,
    credential_uri,
    entity_id_from_uri,
    issuer_uri,
)
from wallet_sdk.credentials.holder import (
    PresentationError,
    disclosed_claim_names,
    present_sd_jwt,
    present_vc_jwt,
)
from wallet_sdk.credentials.issuer import (
    IssuanceError,
    IssuedCredential,
    build_credential,
    issue_sd_jwt,
    issue_vc_jwt,
)
from wallet_sdk.credentials.training_file import (
    TrainingFile,
    TrainingFileLink,
    TrainingFileReport,
    verify_training_file,
)
from wallet_sdk.credentials.trust_state import (
    CachedTrustState,
    DirectTrustView,
    RegisteredCredential,
    RegisteredKey,
    RegistryAddresses,
    TrustStateError,
    TrustView,
)
from wallet_sdk.credentials.types import (
    DIPLOMA,
    PROFESSIONAL_TITLE,
    SKILL_CERTIFICATE,
    TRAINING_RECORD,
    CredentialType,
    CredentialTypeRegistry,
    credential_type_id,
    default_registry,
)
from wallet_sdk.credentials.verifier import (
    CHECKS,
    CredentialReport,
    CredentialVerificationError,
    CredentialVerifier,
    PresentationReport,
    VerificationPolicy,
    VerifiedCredential,
)

__all__ = [
    "CHECKS",
    "DIPLOMA",
    "ENVELOPED_VC_PREFIX",
    "KB_JWT_TYP",
    "PROFESSIONAL_TITLE",
    "SKILL_CERTIFICATE",
    "TRAINING_RECORD",
    "VC_JWT_TYP",
    "VC_SD_JWT_TYP",
    "VP_JWT_TYP",
    "CachedTrustState",
    "CredentialReport",
    "CredentialType",
    "CredentialTypeRegistry",
    "CredentialVerificationError",
    "CredentialVerifier",
    "DirectTrustView",
    "IssuanceError",
    "IssuedCredential",
    "PresentationError",
    "PresentationReport",
    "RegisteredCredential",
    "RegisteredKey",
    "RegistryAddresses",
    "StatusRegistryRef",
    "TrainingFile",
    "TrainingFileLink",
    "TrainingFileReport",
    "TrustStateError",
    "TrustView",
    "VerificationPolicy",
    "VerifiedCredential",
    "build_credential",
    "credential_digest",
    "credential_id_from_uri",
    "credential_type_id",
    "credential_uri",
    "default_registry",
    "disclosed_claim_names",
    "entity_id_from_uri",
    "issue_sd_jwt",
    "issue_vc_jwt",
    "issuer_uri",
    "present_sd_jwt",
    "present_vc_jwt",
    "verify_training_file",
]
