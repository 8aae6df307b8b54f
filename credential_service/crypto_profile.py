"""Cryptographic profiles: which algorithms the service uses for what it makes anew.

``international``  new keys Ed25519 (P-256 where a curve is required), trees and document
                   digests SHA-256, seals AES-256-GCM
``national``       the national algorithms the commercial cryptography assessment expects
                   (GB/T 39786-2021): new keys SM2, trees and digests SM3, seals SM4-GCM

A profile decides only what is produced. What is read stays open to both profiles' artefacts:
a sealed value records its algorithm (`credential_service.sealing`), a receipt its hash, a
token its ``alg``; which algorithms a verifier accepts is its own allowlist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from credential_service.sealing import SealAlgorithm
from wallet_sdk import HashAlgorithm, KeystoreCipher
from wallet_sdk.jose import Curve

__all__ = ["CryptoProfile", "ProfileAlgorithms"]


@dataclass(frozen=True, slots=True)
class ProfileAlgorithms:
    """The algorithms a profile produces with."""

    signing_curve: Curve
    """Curve of new signing keys (organisation, issuer, holder and e-card keys)."""
    hash_algorithm: HashAlgorithm
    """Hash of new anchoring trees and document digests."""
    seal_algorithm: SealAlgorithm
    """AEAD of new values sealed at rest."""
    keystore_cipher: KeystoreCipher
    """AEAD of keys the service generates into its keystores."""


class CryptoProfile(enum.StrEnum):
    """The deployment profile, set by ``HRSS_CRYPTO_PROFILE``."""

    INTERNATIONAL = "international"
    NATIONAL = "national"

    @property
    def algorithms(self) -> ProfileAlgorithms:
        """What this profile produces with."""
        return _ALGORITHMS[self]


_ALGORITHMS = {
    CryptoProfile.INTERNATIONAL: ProfileAlgorithms(
        signing_curve=Curve.ED25519,
        hash_algorithm=HashAlgorithm.SHA256,
        seal_algorithm=SealAlgorithm.AES_256_GCM,
        keystore_cipher=KeystoreCipher.AES_256_GCM,
    ),
    CryptoProfile.NATIONAL: ProfileAlgorithms(
        signing_curve=Curve.SM2,
        hash_algorithm=HashAlgorithm.SM3,
        seal_algorithm=SealAlgorithm.SM4_GCM,
        keystore_cipher=KeystoreCipher.SM4_GCM,
    ),
}
