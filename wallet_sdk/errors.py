"""Exceptions raised by `wallet_sdk`.

Every public function of the package raises only subclasses of `WalletError`; errors from
`cryptography`, `json` or `jsonschema` are wrapped with ``from err`` at the boundary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wallet_sdk.receipt import ReceiptVerification

__all__ = [
    "CardMissing",
    "ChainReadError",
    "FormatError",
    "JsonTooDeep",
    "KeystoreError",
    "SignatureError",
    "UnsupportedAlgorithmError",
    "VerificationError",
    "WalletError",
]


class WalletError(Exception):
    """Root of every exception raised by `wallet_sdk`."""


class FormatError(WalletError):
    """Input could not be parsed into a well-formed object (receipt, JWK, JSON, QR text)."""


class CardMissing(FormatError):
    """The wallet holds no e-card (``SocialSecurityCard``), which every citizen action (QR
    login, a contract signature, a consent grant) presents."""

    def __init__(self) -> None:
        super().__init__(
            "this wallet holds no e-card: activate your e-card first: "
            "hrss-wallet card activate CODE"
        )


class JsonTooDeep(FormatError):
    """JSON text nests arrays and objects deeper than the limit (`wallet_sdk.nesting`).

    Raised before the text is parsed: a decoder recursing once per level would otherwise
    run out of stack on a few hundred kilobytes of brackets."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} nests arrays and objects deeper than {limit} levels")
        self.limit = limit


class UnsupportedAlgorithmError(WalletError):
    """An algorithm was named that this version does not implement (e.g. SHA-512 for a
    receipt, or SM3 where the platform has no SM3 at all)."""


class KeystoreError(WalletError):
    """A keystore could not be created, read, decrypted or written.

    A wrong passphrase and a tampered file give the same error on purpose: AES-GCM cannot
    tell them apart, and an attacker should not learn which it was.
    """


class ChainReadError(WalletError):
    """The chain could not be read (no node answered, a block is missing): whatever was
    reading it stopped and proves nothing. The reader's own error is chained (``from err``)."""


class SignatureError(WalletError):
    """A signature could not be produced (key without private part, key and algorithm differ)."""


class VerificationError(WalletError):
    """A verification failed; `check` names the first check that failed.

    `report` carries the whole step-by-step report when the verifier produces one
    (see `wallet_sdk.receipt.verify_receipt`), otherwise it is ``None``.
    """

    def __init__(
        self, check: str, message: str, *, report: ReceiptVerification | None = None
    ) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message
        self.report = report
