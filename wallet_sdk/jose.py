"""JSON Web Keys and compact JWS with pinned algorithms.

Keys: OKP Ed25519 (RFC 8037), EC P-256, P-384, P-521 (RFC 7518 §6.2), secp256k1 (RFC 8812)
and SM2 (GB/T 32918). Each curve signs with exactly one algorithm (EdDSA, ES256, ES384, ES512,
ES256K, SM2SM3), so a key pins its algorithm. ECDSA signatures are the fixed-width ``r || s``
of RFC 7518 §3.4 (64, 96 and 132 bytes for P-256, P-384 and P-521) over SHA-256, SHA-384 and
SHA-512.

Each curve also has its code in ``TrustRegistry.registerKey`` (`Curve.registry_code`), and
`Jwk.from_public_bytes` reads the public key bytes registered there: this module is the one
table from curve to JOSE algorithm to registry code.

SM2 has no IANA-registered JOSE names; this package uses ``kty`` ``EC`` with ``crv`` ``SM2``
(``x``, ``y``, ``d`` 32 bytes each, as for P-256) and ``alg`` ``SM2SM3``: an SM2 signature
(GB/T 32918.2) over ``SM3(Z || signing input)``, Z per GM/T 0009 with the default identity
``1234567812345678``, encoded as ``r || s`` (64 bytes). Like every algorithm it verifies only
where the caller's allowlist names it.

Verification takes the algorithm allowlist from the caller, never from the token, and fails
closed, naming the check that failed:

``size``            token longer than the configured maximum
``format``          not three base64url segments, header not a JSON object, duplicate members
``algorithm``       ``alg`` missing, ``none``, not in the allowlist, or the allowlist is empty
``key_type``        ``alg`` does not belong to the verification key's curve (key confusion)
``crit``            any ``crit`` or ``b64`` header: no extension is understood
``embedded_key``    ``jwk``, ``jku``, ``x5c`` or ``x5u`` headers: keys in a token are not trusted
``typ``             ``typ`` differs from the one the caller requires
``signature``       the signature does not verify
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from wallet_sdk._sm2 import Sm2PrivateKey, Sm2PublicKey, Sm2SignatureInvalid
from wallet_sdk._strict_json import reject_duplicates
from wallet_sdk.errors import FormatError, SignatureError, VerificationError
from wallet_sdk.nesting import check_json_depth

__all__ = [
    "DEFAULT_MAX_TOKEN_BYTES",
    "SIGNING_ALGORITHMS",
    "Curve",
    "Jwk",
    "JwsAlgorithm",
    "VerifiedJws",
    "b64url_decode",
    "b64url_encode",
    "read_unverified_header",
    "read_unverified_payload",
    "sign_compact",
    "verify_compact",
]

DEFAULT_MAX_TOKEN_BYTES = 64 * 1024
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_UNTRUSTED_KEY_HEADERS = ("jwk", "jku", "x5c", "x5u")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: rejects padding, other alphabets, non-canonical tails.

    Raises `FormatError` on any deviation.
    """
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise FormatError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise FormatError("not unpadded base64url") from err
    if b64url_encode(data) != text:
        raise FormatError("non-canonical base64url")
    return data


class JwsAlgorithm(enum.StrEnum):
    """JWS algorithms this package signs and verifies. No HMAC, no RSA, never ``none``."""

    EDDSA = "EdDSA"
    ES256 = "ES256"
    ES256K = "ES256K"
    ES384 = "ES384"
    ES512 = "ES512"
    SM2SM3 = "SM2SM3"  # not IANA-registered: SM2 with SM3 and the default identity

    @property
    def curve(self) -> Curve:
        """The one curve whose keys sign with this algorithm."""
        return _ALG_CURVE[self]


class Curve(enum.StrEnum):
    """Key curves, by their JWK ``crv`` name."""

    ED25519 = "Ed25519"
    P256 = "P-256"
    SECP256K1 = "secp256k1"
    P384 = "P-384"
    P521 = "P-521"
    SM2 = "SM2"

    @property
    def algorithm(self) -> JwsAlgorithm:
        """The one JWS algorithm a key on this curve signs with."""
        return _CURVES[self][0]

    @property
    def registry_code(self) -> int:
        """The key's algorithm code in ``TrustRegistry.registerKey`` (``node_adapter``'s
        ``KeyAlgorithm`` names the same codes)."""
        return _CURVES[self][1]

    @classmethod
    def from_registry_code(cls, code: int) -> Curve:
        """The curve of a ``TrustRegistry`` algorithm code.

        Raises `FormatError` when no curve has that code."""
        curve = _REGISTRY_CURVE.get(code) if isinstance(code, int) and code is not True else None
        if curve is None:
            raise FormatError(f"key algorithm {code!r} is not supported")
        return curve


# Curve -> (its one JWS algorithm, its TrustRegistry code). A new curve is one line here (and
# one in _EC_CURVES when it is a Weierstrass curve that `cryptography` implements).
_CURVES: dict[Curve, tuple[JwsAlgorithm, int]] = {
    Curve.ED25519: (JwsAlgorithm.EDDSA, 1),
    Curve.P256: (JwsAlgorithm.ES256, 2),
    Curve.SECP256K1: (JwsAlgorithm.ES256K, 3),
    Curve.P384: (JwsAlgorithm.ES384, 4),
    Curve.P521: (JwsAlgorithm.ES512, 5),
    Curve.SM2: (JwsAlgorithm.SM2SM3, 6),
}
SIGNING_ALGORITHMS: frozenset[JwsAlgorithm] = frozenset(
    {
        JwsAlgorithm.EDDSA,
        JwsAlgorithm.ES256,
        JwsAlgorithm.ES384,
        JwsAlgorithm.ES512,
        JwsAlgorithm.SM2SM3,
    }
)
"""What organisation, issuer and holder keys sign with, so what verifiers of credentials,
presentations, documents, receipts and client assertions accept by default: every curve but
secp256k1, whose keys are the wallets' chain accounts (ES256K signs logins only)."""
_ALG_CURVE = {alg: curve for curve, (alg, _) in _CURVES.items()}
_REGISTRY_CURVE = {code: curve for curve, (_, code) in _CURVES.items()}
_EC_CURVES: dict[Curve, tuple[ec.EllipticCurve, int, hashes.HashAlgorithm]] = {
    Curve.P256: (ec.SECP256R1(), 32, hashes.SHA256()),
    Curve.SECP256K1: (ec.SECP256K1(), 32, hashes.SHA256()),
    Curve.P384: (ec.SECP384R1(), 48, hashes.SHA384()),
    Curve.P521: (ec.SECP521R1(), 66, hashes.SHA512()),
}

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | Sm2PublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | Sm2PrivateKey


def _coordinate_size(curve: Curve) -> int:
    """Bytes of a coordinate or private scalar (Ed25519: the seed)."""
    if curve in (Curve.ED25519, Curve.SM2):
        return 32
    return _EC_CURVES[curve][1]


def _parse_curve(value: object) -> Curve:
    try:
        return Curve(str(value))
    except ValueError as err:
        raise FormatError(f"unsupported curve {value!r}") from err


def _member(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise FormatError(f"JWK member {name!r} is missing or not a string")
    return value


def _fixed(jwk: Mapping[str, Any], name: str, length: int) -> bytes:
    value = b64url_decode(_member(jwk, name))
    if len(value) != length:
        raise FormatError(f"JWK member {name!r} must be {length} bytes")
    return value


@dataclass(frozen=True, slots=True)
class Jwk:
    """A public or private signing key with its curve and optional key id.

    Build with `Jwk.generate`, `Jwk.from_jwk` or `Jwk.from_private_bytes`. The private part
    never appears in ``repr``.
    """

    curve: Curve
    public_key: PublicKey = field(repr=False)
    private_key: PrivateKey | None = field(default=None, repr=False, compare=False)
    kid: str | None = None

    @classmethod
    def generate(cls, curve: Curve, *, kid: str | None = None) -> Jwk:
        """Generate a new private key on `curve`."""
        private: PrivateKey
        if curve is Curve.ED25519:
            private = ed25519.Ed25519PrivateKey.generate()
        elif curve is Curve.SM2:
            private = Sm2PrivateKey.generate()
        else:
            private = ec.generate_private_key(_EC_CURVES[curve][0])
        return cls(curve=curve, public_key=private.public_key(), private_key=private, kid=kid)

    @classmethod
    def from_private_bytes(cls, curve: Curve, secret: bytes, *, kid: str | None = None) -> Jwk:
        """Load a private key from its raw scalar (EC) or seed (Ed25519).

        Raises `FormatError` when the bytes are not a valid private key for `curve`.
        """
        try:
            private: PrivateKey
            if curve is Curve.ED25519:
                if len(secret) != 32:
                    raise FormatError("an Ed25519 seed is 32 bytes")
                private = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
            elif curve is Curve.SM2:
                private = Sm2PrivateKey.from_scalar(secret)
            else:
                ec_curve, size, _ = _EC_CURVES[curve]
                if len(secret) != size:
                    raise FormatError(f"a {curve} private key is {size} bytes")
                private = ec.derive_private_key(int.from_bytes(secret, "big"), ec_curve)
        except ValueError as err:
            raise FormatError(f"invalid {curve} private key") from err
        return cls(curve=curve, public_key=private.public_key(), private_key=private, kid=kid)

    @classmethod
    def from_public_bytes(cls, curve: Curve, raw: bytes, *, kid: str | None = None) -> Jwk:
        """Load a public key from the bytes `raw_public_key` gives (as registered on chain):
        32 raw bytes for Ed25519, the uncompressed SEC 1 point ``0x04 || x || y`` otherwise.

        Raises `FormatError` when the length, the prefix or the point is wrong for `curve`.
        """
        raw = bytes(raw)
        public: PublicKey
        try:
            if curve is Curve.ED25519:
                if len(raw) != 32:
                    raise FormatError("an Ed25519 public key is 32 bytes")
                public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            else:
                length = 1 + 2 * _coordinate_size(curve)
                if len(raw) != length or raw[0] != 4:
                    raise FormatError(f"a {curve} public key is a {length}-byte uncompressed point")
                if curve is Curve.SM2:
                    public = Sm2PublicKey.from_point(raw)
                else:
                    public = ec.EllipticCurvePublicKey.from_encoded_point(_EC_CURVES[curve][0], raw)
        except ValueError as err:
            raise FormatError(f"not a valid {curve} public key") from err
        return cls(curve=curve, public_key=public, kid=kid)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str) -> Jwk:
        """Import a JWK (object or JSON text), public or private.

        Checks ``kty`` against ``crv``, coordinate lengths, that the point is on the curve, that
        a private ``d`` matches the public part, and that an ``alg`` member, if present, is the
        curve's algorithm. Raises `FormatError` on any failure, including unsupported key types
        (``RSA``, ``oct``).
        """
        if isinstance(jwk, str):
            jwk = _loads_object(jwk, "JWK")
        if not isinstance(jwk, Mapping):
            raise FormatError("a JWK must be a JSON object")
        kty = jwk.get("kty")
        curve = _parse_curve(jwk.get("crv"))
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise FormatError("JWK member 'kid' must be a string")
        alg = jwk.get("alg")
        if alg is not None and alg != curve.algorithm.value:
            raise FormatError(f"JWK 'alg' {alg!r} does not match curve {curve}")
        try:
            if curve is Curve.ED25519:
                if kty != "OKP":
                    raise FormatError(f"curve Ed25519 needs kty 'OKP', not {kty!r}")
                public: PublicKey = ed25519.Ed25519PublicKey.from_public_bytes(_fixed(jwk, "x", 32))
            else:
                if kty != "EC":
                    raise FormatError(f"curve {curve} needs kty 'EC', not {kty!r}")
                size = _coordinate_size(curve)
                point = b"\x04" + _fixed(jwk, "x", size) + _fixed(jwk, "y", size)
                if curve is Curve.SM2:
                    public = Sm2PublicKey.from_point(point)
                else:
                    ec_curve = _EC_CURVES[curve][0]
                    public = ec.EllipticCurvePublicKey.from_encoded_point(ec_curve, point)
        except ValueError as err:
            raise FormatError(f"JWK is not a valid {curve} public key") from err
        if "d" not in jwk:
            return cls(curve=curve, public_key=public, kid=kid)
        size = _coordinate_size(curve)
        loaded = cls.from_private_bytes(curve, _fixed(jwk, "d", size), kid=kid)
        if loaded.raw_public_key() != _raw_public(curve, public):
            raise FormatError("JWK private part 'd' does not match its public part")
        return loaded

    @property
    def algorithm(self) -> JwsAlgorithm:
        """The JWS algorithm this key signs and verifies with."""
        return self.curve.algorithm

    @property
    def has_private(self) -> bool:
        """Whether the private part is present."""
        return self.private_key is not None

    def public(self) -> Jwk:
        """The same key without its private part."""
        return Jwk(curve=self.curve, public_key=self.public_key, kid=self.kid)

    def with_kid(self, kid: str | None) -> Jwk:
        """The same key under another key id."""
        return Jwk(self.curve, self.public_key, self.private_key, kid)

    def _required_members(self) -> dict[str, str]:
        raw = self.raw_public_key()
        if self.curve is Curve.ED25519:
            return {"crv": self.curve.value, "kty": "OKP", "x": b64url_encode(raw)}
        size = _coordinate_size(self.curve)
        return {
            "crv": self.curve.value,
            "kty": "EC",
            "x": b64url_encode(raw[1 : 1 + size]),
            "y": b64url_encode(raw[1 + size :]),
        }

    def public_jwk(self) -> dict[str, str]:
        """Public JWK members (plus ``kid`` when set, and ``alg``)."""
        result = self._required_members()
        result["alg"] = self.algorithm.value
        if self.kid is not None:
            result["kid"] = self.kid
        return result

    def private_jwk(self) -> dict[str, str]:
        """Private JWK members including ``d``.

        Raises `SignatureError` when the key has no private part.
        """
        result = self.public_jwk()
        result["d"] = b64url_encode(self.private_bytes())
        return result

    def private_bytes(self) -> bytes:
        """Raw private key: Ed25519 seed (32 bytes) or big-endian EC scalar.

        Raises `SignatureError` when the key has no private part.
        """
        private = self.private_key
        if private is None:
            raise SignatureError("key has no private part")
        if isinstance(private, ed25519.Ed25519PrivateKey):
            return private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        if isinstance(private, Sm2PrivateKey):
            return private.scalar()
        size = _EC_CURVES[self.curve][1]
        return private.private_numbers().private_value.to_bytes(size, "big")

    def thumbprint(self) -> bytes:
        """RFC 7638 JWK thumbprint (SHA-256), 32 bytes: fits a ``bytes32`` on chain."""
        members = self._required_members()
        canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).digest()

    def thumbprint_b64(self) -> str:
        """RFC 7638 JWK thumbprint, base64url: the default ``kid``."""
        return b64url_encode(self.thumbprint())

    def raw_public_key(self) -> bytes:
        """Public key bytes for on-chain registration.

        Ed25519: 32 bytes. EC curves: SEC 1 uncompressed point ``0x04 || x || y`` (65 bytes for
        P-256, secp256k1 and SM2, 97 for P-384, 133 for P-521). `from_public_bytes` reads it.
        """
        return _raw_public(self.curve, self.public_key)


def _raw_public(curve: Curve, key: PublicKey) -> bytes:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if isinstance(key, Sm2PublicKey):
        return key.point()
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _loads_object(text: str | bytes, what: str) -> dict[str, Any]:
    check_json_depth(text, what=what)
    try:
        # JWS headers and payloads are UTF-8 (RFC 7515 §2, RFC 8259 §8.1); `json.loads` would
        # also take UTF-16 and UTF-32 bytes, which the verifier's own parser refuses.
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, object_pairs_hook=reject_duplicates)
    except FormatError:
        raise
    except (ValueError, RecursionError) as err:
        raise FormatError(f"{what} is not valid JSON") from err
    if not isinstance(value, dict):
        raise FormatError(f"{what} must be a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class VerifiedJws:
    """A compact JWS whose signature verified under a pinned algorithm."""

    header: Mapping[str, Any]
    payload: bytes
    algorithm: JwsAlgorithm
    key: Jwk

    def payload_json(self) -> dict[str, Any]:
        """The payload decoded as a JSON object. Raises `FormatError` otherwise."""
        return _loads_object(self.payload, "JWS payload")


def _sign_raw(key: Jwk, message: bytes) -> bytes:
    private = key.private_key
    if private is None:
        raise SignatureError("key has no private part")
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(message)
    if isinstance(private, Sm2PrivateKey):
        return private.sign(message)
    _, size, digest = _EC_CURVES[key.curve]
    r, s = decode_dss_signature(private.sign(message, ec.ECDSA(digest)))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _verify_raw(key: Jwk, message: bytes, signature: bytes) -> None:
    public = key.public_key
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            if len(signature) != 64:
                raise VerificationError("signature", "an EdDSA signature is 64 bytes")
            public.verify(signature, message)
            return
        if isinstance(public, Sm2PublicKey):
            try:
                public.verify(signature, message)
            except Sm2SignatureInvalid as err:
                raise VerificationError("signature", "signature does not verify") from err
            except ValueError as err:
                raise VerificationError("signature", f"{err}") from err
            return
        _, size, digest = _EC_CURVES[key.curve]
        if len(signature) != 2 * size:
            raise VerificationError(
                "signature", f"an {key.algorithm} signature is {2 * size} bytes"
            )
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        public.verify(encode_dss_signature(r, s), message, ec.ECDSA(digest))
    except InvalidSignature as err:
        raise VerificationError("signature", "signature does not verify") from err


def sign_compact(
    payload: bytes,
    key: Jwk,
    *,
    headers: Mapping[str, Any] | None = None,
    include_kid: bool = True,
) -> str:
    """Sign `payload` as a compact JWS with the key's own algorithm.

    ``kid`` is the key's ``kid`` (or its RFC 7638 thumbprint) unless `headers` sets it or
    `include_kid` is false. The header is serialised with sorted keys and no whitespace.
    `headers` may not set ``alg``, ``crit``, ``b64`` or embedded-key headers. Raises
    `SignatureError` when the key has no private part or a forbidden header is given.
    """
    extra = dict(headers or {})
    forbidden = {"alg", "crit", "b64", *_UNTRUSTED_KEY_HEADERS} & extra.keys()
    if forbidden:
        raise SignatureError(f"headers may not set {sorted(forbidden)}")
    header: dict[str, Any] = {"alg": key.algorithm.value}
    if include_kid:
        header["kid"] = key.kid if key.kid is not None else key.thumbprint_b64()
    header.update(extra)
    try:
        header_json = json.dumps(header, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as err:
        raise SignatureError("headers must be JSON-serialisable") from err
    signing_input = f"{b64url_encode(header_json.encode())}.{b64url_encode(payload)}"
    signature = _sign_raw(key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _split(token: str, max_size: int) -> tuple[str, str, str]:
    if not isinstance(token, str):
        raise VerificationError("format", "token must be a string")
    if len(token) > max_size:
        raise VerificationError("size", f"token is longer than {max_size} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        raise VerificationError("format", "compact JWS has exactly three segments")
    return parts[0], parts[1], parts[2]


def _decode_header(encoded: str) -> dict[str, Any]:
    try:
        return _loads_object(b64url_decode(encoded), "JWS header")
    except FormatError as err:
        raise VerificationError("format", f"header: {err}") from err


def read_unverified_header(
    token: str, *, max_size: int = DEFAULT_MAX_TOKEN_BYTES
) -> Mapping[str, Any]:
    """The protected header of a compact JWS, NOT verified: use it only to pick a key.

    Raises `VerificationError` (``size`` or ``format``) when the token is malformed.
    """
    encoded_header, _, _ = _split(token, max_size)
    return MappingProxyType(_decode_header(encoded_header))


def read_unverified_payload(
    token: str, *, max_size: int = DEFAULT_MAX_TOKEN_BYTES
) -> dict[str, Any]:
    """The payload of a compact JWS as a JSON object, NOT verified: use it only to find who
    claims to have signed it (e.g. a client assertion's ``iss``), never to trust a claim.

    Raises `VerificationError` (``size`` or ``format``) when the token is malformed or its
    payload is not a JSON object.
    """
    _, encoded_payload, _ = _split(token, max_size)
    try:
        return _loads_object(b64url_decode(encoded_payload), "JWS payload")
    except FormatError as err:
        raise VerificationError("format", f"payload: {err}") from err


def verify_compact(
    token: str,
    key: Jwk,
    *,
    algorithms: Collection[JwsAlgorithm | str],
    typ: str | None = None,
    max_size: int = DEFAULT_MAX_TOKEN_BYTES,
) -> VerifiedJws:
    """Verify a compact JWS with `key`, accepting only the caller's `algorithms`.

    The token's ``alg`` must be in `algorithms` AND be the key's algorithm; `typ`, when
    given, must equal the header's ``typ``. Raises `VerificationError` whose ``check`` is one
    of ``size``, ``format``, ``algorithm``, ``key_type``, ``crit``, ``embedded_key``, ``typ``,
    ``signature`` (see the module docstring).
    """
    allowed: set[JwsAlgorithm] = set()
    for name in algorithms:
        try:
            allowed.add(JwsAlgorithm(name))
        except ValueError as err:
            raise VerificationError("algorithm", f"{name!r} is not a supported algorithm") from err
    if not allowed:
        raise VerificationError("algorithm", "the algorithm allowlist is empty")
    encoded_header, encoded_payload, encoded_signature = _split(token, max_size)
    header = _decode_header(encoded_header)
    try:
        payload = b64url_decode(encoded_payload)
        signature = b64url_decode(encoded_signature)
    except FormatError as err:
        raise VerificationError("format", f"payload or signature: {err}") from err
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise VerificationError("algorithm", "header has no 'alg'")
    if alg.lower() == "none":
        raise VerificationError("algorithm", "alg 'none' is never accepted")
    if alg not in {a.value for a in allowed}:
        raise VerificationError("algorithm", f"alg {alg!r} is not in the allowlist")
    if alg != key.algorithm.value:
        raise VerificationError(
            "key_type", f"alg {alg!r} does not match the {key.curve} verification key"
        )
    if "crit" in header or "b64" in header:
        raise VerificationError("crit", "critical header extensions are not supported")
    embedded = [name for name in _UNTRUSTED_KEY_HEADERS if name in header]
    if embedded:
        raise VerificationError("embedded_key", f"header carries untrusted key data {embedded}")
    if typ is not None and header.get("typ") != typ:
        raise VerificationError("typ", f"typ {header.get('typ')!r} is not {typ!r}")
    signing_input = f"{encoded_header}.{encoded_payload}".encode("ascii")
    _verify_raw(key, signing_input, signature)
    return VerifiedJws(
        header=MappingProxyType(header),
        payload=payload,
        algorithm=JwsAlgorithm(alg),
        key=key,
    )
