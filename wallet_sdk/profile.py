"""A wallet's cryptographic profile: what its credential key signs with and what seals it.

``international``  credential key Ed25519 (``EdDSA``); keystore and store AES-256-GCM
``national``       credential key SM2 (``SM2SM3``); keystore and store SM4-GCM: the national
                   algorithms the commercial cryptography assessment expects (GB/T 39786-2021)

In both profiles the holder account is secp256k1 (``ES256K``): ``ConsentRegistry`` checks
grants and withdrawals with ``ecrecover`` and the EVM has no SM2 precompile.

A profile decides only what a wallet makes. Whoever checks what a wallet signed (card
activation, presentations' key binding, document digests) accepts the credential key of
either profile, each verified with its own curve's one algorithm: `HOLDER_ALGORITHMS`.
"""

from __future__ import annotations

import enum

from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, JwsAlgorithm
from wallet_sdk.keystore import KeystoreCipher

__all__ = ["HOLDER_ALGORITHMS", "WalletProfile"]


class WalletProfile(enum.StrEnum):
    """The profile a wallet is created in, recorded by its credential key's curve."""

    INTERNATIONAL = "international"
    NATIONAL = "national"

    @property
    def signing_curve(self) -> Curve:
        """The curve of the keys this profile makes (the wallet's credential key)."""
        return _PROFILES[self][0]

    @property
    def cipher(self) -> KeystoreCipher:
        """The AEAD this profile seals keys and stored data with."""
        return _PROFILES[self][1]

    @classmethod
    def parse(cls, value: WalletProfile | str) -> WalletProfile:
        """The profile named `value`. Raises `FormatError` naming the profiles otherwise."""
        try:
            return cls(value)
        except ValueError as err:
            names = ", ".join(profile.value for profile in cls)
            raise FormatError(f"unknown profile {value!r}; profiles: {names}") from err

    @classmethod
    def of_curve(cls, curve: Curve) -> WalletProfile:
        """The profile whose credential keys are on `curve`. Raises `FormatError` for a curve
        no profile makes credential keys on."""
        for profile, (profile_curve, _) in _PROFILES.items():
            if profile_curve is curve:
                return profile
        raise FormatError(f"no wallet profile has {curve} credential keys")


_PROFILES: dict[WalletProfile, tuple[Curve, KeystoreCipher]] = {
    WalletProfile.INTERNATIONAL: (Curve.ED25519, KeystoreCipher.AES_256_GCM),
    WalletProfile.NATIONAL: (Curve.SM2, KeystoreCipher.SM4_GCM),
}

HOLDER_ALGORITHMS: frozenset[JwsAlgorithm] = frozenset(
    curve.algorithm for curve, _ in _PROFILES.values()
)
"""What a wallet's credential key signs with: ``EdDSA`` and ``SM2SM3``. A verifier of a
holder's signature accepts a key whose algorithm is in this set and then only that key's own
algorithm (never the token's ``alg`` alone); a P-256 or secp256k1 credential key is refused."""
