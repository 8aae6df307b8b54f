"""Local secp256k1 accounts that sign transactions, EIP-712 data and digests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32

from .errors import ConfigurationError

__all__ = ["Signer"]


class Signer:
    """A local Ethereum account (eth-account).

    Build with `Signer.generate()` or `Signer.from_key(...)`. The private key is available as
    `.key` (32 bytes) for the keystore, and never appears in `repr`. Keystore encryption is done
    elsewhere (`wallet_sdk`, the service's signer store).
    """

    __slots__ = ("_account",)

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @classmethod
    def generate(cls) -> Signer:
        """A fresh random account (from the OS CSPRNG)."""
        return cls(Account.create())

    @classmethod
    def from_key(cls, key: str | bytes) -> Signer:
        """An account from a 32-byte private key, as bytes or hex (with or without `0x`).

        Raises `ConfigurationError` when the key is not a valid secp256k1 private key.
        """
        try:
            if isinstance(key, str):
                raw = bytes.fromhex(key.removeprefix("0x"))
            else:
                raw = bytes(key)
            if len(raw) != 32:
                raise ValueError(f"private key must be 32 bytes, got {len(raw)}")
            return cls(Account.from_key(raw))
        except (ValueError, TypeError) as err:
            raise ConfigurationError(f"invalid private key: {err}") from err

    @property
    def address(self) -> str:
        """The EIP-55 checksummed address."""
        return str(self._account.address)

    @property
    def key(self) -> bytes:
        """The 32-byte private key. Handle with care."""
        return bytes(self._account.key)

    def sign_typed_data(
        self,
        domain: Mapping[str, Any],
        types: Mapping[str, Any],
        message: Mapping[str, Any],
    ) -> bytes:
        """Sign EIP-712 typed data; returns the 65-byte `r || s || v` signature (v = 27/28).

        `types` are the struct types; an `EIP712Domain` entry, if present, is ignored (the
        domain type is derived from `domain`). Raises `ConfigurationError` when the data does
        not match the types.
        """
        message_types = {k: list(v) for k, v in types.items() if k != "EIP712Domain"}
        try:
            signable = encode_typed_data(
                domain_data=dict(domain),
                message_types=message_types,
                message_data=dict(message),
            )
            signed = self._account.sign_message(signable)
        except (ValueError, TypeError, KeyError) as err:
            raise ConfigurationError(f"cannot encode EIP-712 data: {err}") from err
        return bytes(signed.signature)

    def sign_hash(self, digest: bytes) -> bytes:
        """Sign a 32-byte digest as-is (no prefix); returns the 65-byte `r || s || v` signature.

        Raises `ConfigurationError` when `digest` is not 32 bytes.
        """
        if len(digest) != 32:
            raise ConfigurationError(f"digest must be 32 bytes, got {len(digest)}")
        signed = self._account.unsafe_sign_hash(Hash32(digest))
        return bytes(signed.signature)

    def sign_transaction(self, transaction: Mapping[str, Any]) -> tuple[bytes, str]:
        """Sign a transaction dict; returns `(raw_transaction, tx_hash_hex)`.

        Raises `ConfigurationError` when the fields are invalid.
        """
        try:
            signed = self._account.sign_transaction(dict(transaction))
        except (ValueError, TypeError, KeyError) as err:
            raise ConfigurationError(f"cannot sign transaction: {err}") from err
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()

    def __repr__(self) -> str:
        return f"Signer(address={self.address!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signer) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)
