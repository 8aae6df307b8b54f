"""hrss-trust wallet SDK: formats and cryptography for cardholders' wallets and verifiers.

Chain-independent: this package never imports web3, FastAPI or `credential_service`. The
on-chain part of verification goes through the `ChainView` protocol, which `node_adapter`
implements.

The exports load on first use, so a command-line module (`wallet_sdk.verify_cli`, which
``hrss`` registers too) imports nothing but click until a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wallet_sdk._lazy import lazy_exports

if TYPE_CHECKING:
    from wallet_sdk.errors import (
        FormatError,
        JsonTooDeep,
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
    "JsonTooDeep",
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

__getattr__ = lazy_exports(
    __name__,
    {
        "AnchorReceipt": "wallet_sdk.receipt",
        "AnchorRecord": "wallet_sdk.receipt",
        "ChainReadError": "wallet_sdk.privacy",
        "ChainView": "wallet_sdk.receipt",
        "CheckResult": "wallet_sdk.receipt",
        "CheckStatus": "wallet_sdk.receipt",
        "Curve": "wallet_sdk.jose",
        "DEFAULT_MAX_TOKEN_BYTES": "wallet_sdk.jose",
        "FormatError": "wallet_sdk.errors",
        "HashAlgorithm": "wallet_sdk.merkle",
        "InclusionProof": "wallet_sdk.merkle",
        "JsonTooDeep": "wallet_sdk.errors",
        "Jwk": "wallet_sdk.jose",
        "JwsAlgorithm": "wallet_sdk.jose",
        "KEYSTORE_FORMAT": "wallet_sdk.keystore",
        "Keystore": "wallet_sdk.keystore",
        "KeystoreCipher": "wallet_sdk.keystore",
        "KeystoreEntry": "wallet_sdk.keystore",
        "KeystoreError": "wallet_sdk.errors",
        "MerkleTree": "wallet_sdk.merkle",
        "PersonalValue": "wallet_sdk.privacy",
        "PrivacyHit": "wallet_sdk.privacy",
        "PrivacyScanReport": "wallet_sdk.privacy",
        "QR_JWS_TYPE": "wallet_sdk.qr",
        "QR_URI_PREFIX": "wallet_sdk.qr",
        "QrPayload": "wallet_sdk.qr",
        "QrPayloadType": "wallet_sdk.qr",
        "RECEIPT_CHECKS": "wallet_sdk.receipt",
        "RECEIPT_VERSION": "wallet_sdk.receipt",
        "ReceiptVerification": "wallet_sdk.receipt",
        "SignatureError": "wallet_sdk.errors",
        "UnsupportedAlgorithmError": "wallet_sdk.errors",
        "ValueKind": "wallet_sdk.privacy",
        "VerificationError": "wallet_sdk.errors",
        "VerifiedJws": "wallet_sdk.jose",
        "WalletError": "wallet_sdk.errors",
        "b64url_decode": "wallet_sdk.jose",
        "b64url_encode": "wallet_sdk.jose",
        "encode_qr_payload": "wallet_sdk.qr",
        "leaf_hash": "wallet_sdk.merkle",
        "node_hash": "wallet_sdk.merkle",
        "parse_qr_payload": "wallet_sdk.qr",
        "read_unverified_header": "wallet_sdk.jose",
        "render_qr_png": "wallet_sdk.qr",
        "render_qr_text": "wallet_sdk.qr",
        "scan_chain_for": "wallet_sdk.privacy",
        "sign_compact": "wallet_sdk.jose",
        "verify_compact": "wallet_sdk.jose",
        "verify_inclusion": "wallet_sdk.merkle",
        "verify_receipt": "wallet_sdk.receipt",
        "verify_receipt_offline": "wallet_sdk.receipt",
    },
)
