"""Enumerations shared with the contracts (`contracts/Types.sol`)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CredentialStatus", "EntityStatus", "KeyAlgorithm", "KeyPurpose", "Kind"]


class Kind(IntEnum):
    """Kind of an accredited entity in `TrustRegistry`."""

    NONE = 0
    MINISTRY = 1
    PROVINCE = 2
    ISSUER = 3
    EMPLOYER = 4
    DATA_USER = 5
    COURT = 6
    CARD_ISSUER = 7
    """Card service platform (under the Ministry) or provincial card centre (under a province)."""


class EntityStatus(IntEnum):
    """Status of an entity in `TrustRegistry`; `REVOKED` is terminal."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class CredentialStatus(IntEnum):
    """Status of a credential in `StatusRegistry`; `REVOKED` is terminal."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class KeyAlgorithm(IntEnum):
    """Key algorithm codes of `TrustRegistry.registerKey`, named by their JOSE ``alg``.

    The curve of each code is `wallet_sdk.Curve.registry_code`'s table; a test pins the two.
    """

    EDDSA = 1  # Ed25519, 32-byte raw public key
    ES256 = 2  # P-256, 65-byte uncompressed SEC1 point
    ES256K = 3  # secp256k1, 65-byte uncompressed SEC1 point
    ES384 = 4  # P-384, 97-byte uncompressed SEC1 point
    ES512 = 5  # P-521, 133-byte uncompressed SEC1 point
    SM2SM3 = 6  # SM2 (GB/T 32918) with SM3, 65-byte uncompressed SEC1 point


class KeyPurpose(IntEnum):
    """What a key registered in `TrustRegistry` may be used for (`contracts/Types.sol`)."""

    NONE = 0
    CLIENT_AUTHENTICATION = 1  # OAuth client assertions (private_key_jwt) of the organisation
    CREDENTIAL_SIGNING = 2  # verifiable credentials issued by the entity
    DOCUMENT_SIGNING = 3  # labour contracts and other signed documents
    ANCHORING = 4
