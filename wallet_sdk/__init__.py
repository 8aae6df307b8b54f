"""hrss-trust wallet SDK: formats and cryptography for cardholders' wallets and verifiers.

Chain-independent: this package never imports web3, FastAPI or `credential_service`. The
on-chain part of verification goes through the `ChainView` protocol, which `node_adapter`
implements.
"""

from wallet_sdk.errors import (
    FormatError,
    KeystoreError,
    SignatureError,
    UnsupportedAlgorithmError,
    VerificationError,
    WalletError,
)
from wallet_sdk.jose import (
    DEFAULT_MAX_TOKEN_BYTES,
    Curve,
    Jwk,
    JwsAlgorithm,
    VerifiedJws,
    b64url_decode,
    b64url_encode,
    read_unverified_header,
    sign_compact,
    verify_compact,
)
from wallet_sdk.keystore import KEYSTORE_FORMAT, Keystore, KeystoreCipher, KeystoreEntry
from wallet_sdk.merkle import (
    HashAlgorithm,
    InclusionProof,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_inclusion,
)
from wallet_sdk.privacy import (
    ChainReadError,
    PersonalValue,
    PrivacyHit,
    PrivacyScanReport,
    ValueKind,
    scan_chain_for,
)
from wallet_sdk.qr import (
    QR_JWS_TYPE,
    QR_URI_PREFIX,
    QrPayload,
    QrPayloadType,
    encode_qr_payload,
    parse_qr_payload,
    render_qr_png,
    render_qr_text,
)
from wallet_sdk.receipt import (
    RECEIPT_CHECKS,
    RECEIPT_VERSION,
    AnchorReceipt,
    AnchorRecord,
    ChainView,
    CheckResult,
    CheckStatus,
    ReceiptVerification,
    verify_receipt,
    verify_receipt_offline,
)

__all__ = [
    "DEFAULT_MAX_TOKEN_BYTES",
    "KEYSTORE_FORMAT",
    "QR_JWS_TYPE",
    "QR_URI_PREFIX",
    "RECEIPT_CHECKS",
    "RECEIPT_VERSION",
    "AnchorReceipt",
    "AnchorRecord",
    "ChainReadError",
    "ChainView",
    "CheckResult",
    "CheckStatus",
    "Curve",
    "FormatError",
    "HashAlgorithm",
    "InclusionProof",
    "Jwk",
    "JwsAlgorithm",
    "Keystore",
    "KeystoreCipher",
    "KeystoreEntry",
    "KeystoreError",
    "MerkleTree",
    "PersonalValue",
    "PrivacyHit",
    "PrivacyScanReport",
    "QrPayload",
    "QrPayloadType",
    "ReceiptVerification",
    "SignatureError",
    "UnsupportedAlgorithmError",
    "ValueKind",
    "VerificationError",
    "VerifiedJws",
    "WalletError",
    "b64url_decode",
    "b64url_encode",
    "encode_qr_payload",
    "leaf_hash",
    "node_hash",
    "parse_qr_payload",
    "read_unverified_header",
    "render_qr_png",
    "render_qr_text",
    "scan_chain_for",
    "sign_compact",
    "verify_compact",
    "verify_inclusion",
    "verify_receipt",
    "verify_receipt_offline",
]
