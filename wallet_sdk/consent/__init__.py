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

The package, by concern: `request` (vocabularies, the request and its QR code),
`commitments` (the keyed commitments and their opening), `signing` (EIP-712 grants and
withdrawals, over `node_adapter.consent_format`), `identity` (the data subject's e-card proof),
`receipt` (signed consent receipts) and `chain` (a receipt checked against the registry).
Importing it loads no web3: `wallet_sdk.consent_chain` reads the registry over
``node_adapter``.
"""

from __future__ import annotations

from wallet_sdk.consent.chain import ConsentOnChain, ConsentView, verify_consent_receipt_on_chain
from wallet_sdk.consent.commitments import ConsentOpening, purpose_commitment, scope_commitment
from wallet_sdk.consent.identity import (
    CONSENT_GRANT_PROOF,
    identity_proof_audience,
    identity_proof_nonce,
    present_identity_proof,
    verify_identity_proof,
)
from wallet_sdk.consent.receipt import (
    CONSENT_RECEIPT_TYP,
    CONSENT_RECEIPT_VERSION,
    ConsentReceipt,
    ReceiptEvent,
    issue_consent_receipt,
    verify_consent_receipt,
)
from wallet_sdk.consent.request import (
    CONSENT_REQUEST_VERSION,
    WALLET_AUDIENCE,
    ConsentRequest,
    ConsentSubject,
    Controller,
    DataCategory,
    LegalBasis,
    Purpose,
    RegistryDomain,
    encode_consent_request_qr,
    parse_consent_request_qr,
)
from wallet_sdk.consent.signing import (
    CONSENT_DOMAIN_NAME,
    CONSENT_DOMAIN_VERSION,
    GrantTerms,
    SignedConsent,
    SignedWithdrawal,
    address_of_public_key,
    grant_digest,
    recover_grant_signer,
    recover_withdrawal_signer,
    sign_grant,
    sign_withdrawal,
    withdrawal_digest,
)

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
