"""Credential issuance, status and issuer keys: the domain functions the routes call (no HTTP
here), gathered from the modules of each concern:

- `issuers`: who issues what, and the accreditation of issuers for credential types;
- `keys`: issuers' credential-signing keys;
- `issuance`: signing a batch, registering it in `StatusRegistry`, submitting its digests to
  the anchoring outbox;
- `idempotency`: issuance with an idempotency key;
- `status`: suspending, reinstating, revoking and reading a credential's status;
- `verification`: verification reports of credentials and presentations.

They reach the chain through the `CredentialLedger` port (`credentials.ledger`), implemented
over ``node_adapter`` in `credentials.chain`. Every function takes keyword-only arguments and
raises only `ServiceError` subclasses: `InvalidInput`, `Forbidden`, `NotFound`, `Conflict`,
`Unprocessable`, `LedgerRejected`, `LedgerUnavailable`.
"""

from __future__ import annotations

from credential_service.credentials.idempotency import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IssuanceAnswer,
    check_idempotency_key,
    issue_credentials_idempotently,
    request_digest,
)
from credential_service.credentials.issuance import (
    FILE_ENTRY_BATCH,
    STATUS_BATCH,
    issue_credentials,
)
from credential_service.credentials.issuers import accredit_credential_type
from credential_service.credentials.keys import (
    current_signing_key,
    list_signing_keys,
    revoke_signing_key,
    rotate_signing_key,
)
from credential_service.credentials.status import change_credential_status, credential_status
from credential_service.credentials.verification import (
    parse_receipt,
    verify_credential,
    verify_presentation,
)

__all__ = [
    "FILE_ENTRY_BATCH",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "STATUS_BATCH",
    "IssuanceAnswer",
    "accredit_credential_type",
    "change_credential_status",
    "check_idempotency_key",
    "credential_status",
    "current_signing_key",
    "issue_credentials",
    "issue_credentials_idempotently",
    "list_signing_keys",
    "parse_receipt",
    "request_digest",
    "revoke_signing_key",
    "rotate_signing_key",
    "verify_credential",
    "verify_presentation",
]
