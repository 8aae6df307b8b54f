"""The cardholder's wallet: keys, identifiers, consents, credentials and QR login.

A wallet is a directory::

    keystore.json   hrss-keystore/1 (scrypt, then AES-256-GCM or SM4-GCM): three private keys
    store.json      hrss-wallet-store/1: credentials and consents, AES-256-GCM or SM4-GCM sealed

Keys, each for one job so that one identifier cannot be linked to the other:

``holder-secp256k1``  signs consent grants and withdrawals (EIP-712) and login answers; its
                      Ethereum address is the holder on ``ConsentRegistry``.
``holder-ed25519``    the credential holder key, identified as ``did:jwk``; binds
                      presentations, proves e-card activation and signs document digests
                      (labour contracts). Ed25519, or SM2 in the national profile (the key id
                      stays, so that wallets made before profiles keep opening).
``store-seal``        a random 32-byte secret kept in the keystore; HKDF-SHA256 (HKDF-SM3 in
                      the national profile) derives from it the key that seals ``store.json``.
                      Credentials and consent openings are personal data, so they never sit on
                      disk in the clear.

The profile (`WalletProfile`) is chosen at creation and recorded by the wallet itself: the
credential key's curve says it, and ``store.json`` names its cipher (``"cipher": "SM4-GCM"``;
without the member it is AES-256-GCM, as is every store written before SM4).

Every method raises only `WalletError` subclasses (`KeystoreError` for the keystore and the
store, `FormatError`, `VerificationError`, `SignatureError`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wallet_sdk._sm4 import SM4GCM
from wallet_sdk.card_activation import create_activation_proof
from wallet_sdk.consent import (
    ConsentReceipt,
    ConsentRequest,
    DataCategory,
    Purpose,
    RegistryDomain,
    SignedConsent,
    SignedWithdrawal,
    address_of_public_key,
    parse_consent_request_qr,
    present_identity_proof,
    sign_grant,
    sign_withdrawal,
    verify_consent_receipt,
)
from wallet_sdk.credentials import (
    SOCIAL_SECURITY_CARD_VCT,
    VC_JWT_TYP,
    VC_SD_JWT_TYP,
    CredentialReport,
    CredentialVerifier,
    present_sd_jwt,
    present_vc_jwt,
)
from wallet_sdk.credentials.card_proof import (
    card_nonce,
    held_card_claims,
    present_card,
    present_with_card,
)
from wallet_sdk.errors import (
    CardMissing,
    FormatError,
    KeystoreError,
    VerificationError,
    WalletError,
)
from wallet_sdk.jcs import canonical_json
from wallet_sdk.jose import (
    Curve,
    Jwk,
    b64url_decode,
    b64url_encode,
    read_unverified_payload,
    sign_compact,
    verify_compact,
)
from wallet_sdk.keystore import DEFAULT_SCRYPT_N, Keystore, KeystoreCipher
from wallet_sdk.login import create_login_response
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.nesting import load_json
from wallet_sdk.profile import HOLDER_ALGORITHMS, WalletProfile
from wallet_sdk.qr import QrPayloadType, parse_qr_payload

__all__ = [
    "DIGEST_SIGNATURE_TYP",
    "STORE_FORMAT",
    "DigestSignature",
    "StoredConsent",
    "StoredCredential",
    "Wallet",
    "did_jwk",
    "verify_digest_signature",
]

STORE_FORMAT = "hrss-wallet-store/1"
DIGEST_SIGNATURE_TYP = "hrss-digest-sig+jwt"
_HOLDER_KEY = "holder-secp256k1"
_CREDENTIAL_KEY = "holder-ed25519"
_SEAL_KEY = "store-seal"
_KEYSTORE_FILE = "keystore.json"
_STORE_FILE = "store.json"


def did_jwk(key: Jwk) -> str:
    """The ``did:jwk`` of a public key (its required JWK members, sorted, base64url)."""
    members = {k: v for k, v in key.public_jwk().items() if k not in ("kid", "alg")}
    return "did:jwk:" + b64url_encode(
        json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8")
    )


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A credential as received, kept verbatim."""

    credential_id: str
    format: str
    token: str
    received_at: int


@dataclass(frozen=True, slots=True)
class StoredConsent:
    """A consent this wallet signed, with the request it answered and its receipts."""

    consent: SignedConsent
    request: ConsentRequest
    receipts: tuple[str, ...]
    withdrawal: SignedWithdrawal | None

    @property
    def consent_id(self) -> bytes:
        return self.consent.consent_id


@dataclass(frozen=True, slots=True)
class DigestSignature:
    """A holder's signature over a document digest: a compact JWS by the ``did:jwk`` key."""

    jws: str
    signer: str
    digest: bytes


def _unverified_claims(jws: str) -> dict[str, Any]:
    try:
        return read_unverified_payload(jws)
    except WalletError as err:
        raise FormatError("the credential is not a readable JWT") from err


def verify_digest_signature(
    jws: str,
    *,
    digest: bytes,
    signer: str,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
) -> DigestSignature:
    """Verify a digest signature made by `Wallet.sign_digest` for `signer` (a ``did:jwk``)
    over `digest`, a digest of `algorithm` (the verifier's, never the signature's choice).

    The signer's key is a wallet's credential key (`HOLDER_ALGORITHMS`: Ed25519 or SM2) and
    the signature must be in that key's one algorithm (``EdDSA`` or ``SM2SM3``), whatever the
    header says. Raises `VerificationError`: ``key`` (the signer is not a public did:jwk
    Ed25519 or SM2 key), the JWS checks of `verify_compact` (``algorithm`` for an ``alg``
    other than the key's), ``digest`` (signs another digest, a digest of another hash, or for
    another signer).
    """
    if not signer.startswith("did:jwk:"):
        raise VerificationError("key", "signer must be a did:jwk")
    try:
        members = load_json(b64url_decode(signer.removeprefix("did:jwk:")), what="did:jwk")
        key = Jwk.from_jwk(members)
    except (WalletError, ValueError) as err:
        raise VerificationError("key", "signer is not a readable did:jwk") from err
    if key.algorithm not in HOLDER_ALGORITHMS or key.has_private:
        raise VerificationError("key", "digest signatures are by a public Ed25519 or SM2 key")
    claims = verify_compact(
        jws, key, algorithms=(key.algorithm,), typ=DIGEST_SIGNATURE_TYP
    ).payload_json()
    if claims.get("digest") != digest.hex() or claims.get("iss") != signer:
        raise VerificationError("digest", "the signature is over another digest or signer")
    if claims.get("digest_alg") != algorithm.value:
        raise VerificationError(
            "digest",
            f"the signature is over a {claims.get('digest_alg')} digest, not {algorithm.value}",
        )
    return DigestSignature(jws=jws, signer=signer, digest=digest)


class Wallet:
    """An open cardholder wallet. Build with `create`, `import_key` or `open`."""

    __slots__ = ("_credential_key", "_directory", "_holder_key", "_profile", "_seal", "_state")

    def __init__(self, directory: Path, holder_key: Jwk, credential_key: Jwk, seal: bytes) -> None:
        """Internal: use `Wallet.create`, `Wallet.import_key` or `Wallet.open`.

        Raises `KeystoreError` when the credential key is on no profile's curve."""
        try:
            self._profile = WalletProfile.of_curve(credential_key.curve)
        except FormatError as err:
            raise KeystoreError(f"the wallet's credential key: {err}") from err
        self._directory = directory
        self._holder_key = holder_key
        self._credential_key = credential_key
        self._seal = seal
        self._state = self._read_store()

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        passphrase: str,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        profile: WalletProfile | str = WalletProfile.INTERNATIONAL,
    ) -> Wallet:
        """Create a wallet with fresh keys in `directory` (created; must hold no wallet), in
        `profile`: ``national`` makes an SM2 credential key and seals with SM4-GCM.

        Raises `FormatError` for an unknown profile, `KeystoreError` when a wallet exists
        there or the passphrase is empty.
        """
        return cls._create(Path(directory), passphrase, scrypt_n, None, profile)

    @classmethod
    def import_key(
        cls,
        directory: str | os.PathLike[str],
        passphrase: str,
        *,
        holder_private_key: bytes,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        profile: WalletProfile | str = WalletProfile.INTERNATIONAL,
    ) -> Wallet:
        """Create a wallet around an existing 32-byte secp256k1 holder key (e.g. a card's
        key moved to a new phone), so consents signed before stay withdrawable.

        Raises `FormatError` for an invalid key or profile, `KeystoreError` as `create` does.
        """
        holder = Jwk.from_private_bytes(Curve.SECP256K1, holder_private_key)
        return cls._create(Path(directory), passphrase, scrypt_n, holder, profile)

    @classmethod
    def _create(
        cls,
        directory: Path,
        passphrase: str,
        n: int,
        holder: Jwk | None,
        profile: WalletProfile | str,
    ) -> Wallet:
        chosen = WalletProfile.parse(profile)
        cipher = chosen.cipher
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as err:
            raise KeystoreError(f"cannot create {directory}: {err.strerror}") from err
        store = Keystore.create(directory / _KEYSTORE_FILE, passphrase, scrypt_n=n, cipher=cipher)
        if holder is None:
            holder_key = store.generate_key(Curve.SECP256K1, kid=_HOLDER_KEY, cipher=cipher)
        else:
            store.add_key(holder, kid=_HOLDER_KEY, cipher=cipher)
            holder_key = holder.with_kid(_HOLDER_KEY)
        credential_key = store.generate_key(
            chosen.signing_curve, kid=_CREDENTIAL_KEY, cipher=cipher
        )
        # A random 32-byte secret, kept as an Ed25519 seed (any 32 bytes are one).
        seal = store.generate_key(Curve.ED25519, kid=_SEAL_KEY, cipher=cipher)
        wallet = cls(directory, holder_key, credential_key, seal.private_bytes())
        wallet._write_store()
        return wallet

    @classmethod
    def open(cls, directory: str | os.PathLike[str], passphrase: str) -> Wallet:
        """Open an existing wallet. Raises `KeystoreError` (wrong passphrase, tampering...)."""
        path = Path(directory)
        store = Keystore.load(path / _KEYSTORE_FILE, passphrase)
        return cls(
            path,
            store.get(_HOLDER_KEY),
            store.get(_CREDENTIAL_KEY),
            store.get(_SEAL_KEY).private_bytes(),
        )

    # -- identifiers ------------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def address(self) -> str:
        """The holder's Ethereum address: the pseudonymous holder on ``ConsentRegistry``."""
        return address_of_public_key(self._holder_key)

    @property
    def profile(self) -> WalletProfile:
        """The profile the wallet was created in (its credential key's curve)."""
        return self._profile

    @property
    def did(self) -> str:
        """The credential holder identifier: ``did:jwk`` of the credential key (Ed25519, or
        SM2 in the national profile)."""
        return did_jwk(self._credential_key)

    @property
    def holder_public_key(self) -> Jwk:
        return self._holder_key.public()

    @property
    def credential_key(self) -> Jwk:
        """The credential holder key (private): for presentations and key binding."""
        return self._credential_key

    def card_activation_proof(self, code: str, *, now: int) -> str:
        """The proof that redeems an e-card activation `code`: signed by the credential key
        the card will bind, naming and proving the holder address (so that the card desk can
        record the holder succession when the card later moves to a new phone).

        Raises `FormatError` as `create_activation_proof` does."""
        return create_activation_proof(
            code, key=self._credential_key, now=now, holder_key=self._holder_key
        )

    # -- QR login ---------------------------------------------------------------------------

    def answer_login(
        self, qr_text: str, *, trusted_keys: Mapping[str, Sequence[Jwk]], audience: str, now: int
    ) -> str:
        """Verify a scanned login challenge and return the signed answer to post back: signed
        by the holder key, carrying a proof of the wallet's e-card (`social_security_card`).

        Raises `VerificationError` when the QR is forged, expired, for another audience or not
        a login challenge, and `CardMissing` when the wallet holds no e-card.
        """
        payload = parse_qr_payload(qr_text, trusted_keys=trusted_keys, now=now, audience=audience)
        if payload.type is not QrPayloadType.LOGIN_CHALLENGE:
            raise VerificationError("type", f"QR payload is a {payload.type}, not a login")
        card = self.social_security_card()
        try:
            return create_login_response(
                payload,
                key=self._holder_key,
                card=card.token,
                card_key=self._credential_key,
                now=now,
            )
        except FormatError as err:
            raise VerificationError("expired", str(err)) from err

    # -- consent ----------------------------------------------------------------------------

    def review_consent(
        self, qr_text: str, *, trusted_keys: Mapping[str, Sequence[Jwk]], now: int
    ) -> ConsentRequest:
        """Verify and parse a scanned consent request about this wallet's cardholder, to show
        it to them.

        Raises `VerificationError` as `parse_consent_request_qr` does, and as
        `require_subject` does when the request is not about this cardholder.
        """
        request = parse_consent_request_qr(qr_text, trusted_keys=trusted_keys, now=now)
        self.require_subject(request)
        return request

    def card_token(self) -> str | None:
        """The e-card (``SocialSecurityCard`` SD-JWT) this wallet holds, the latest received
        when there are several (a replaced card stays until removed); None without one."""
        try:
            return self.social_security_card().token
        except FormatError:
            return None

    def require_subject(self, request: ConsentRequest) -> str:
        """The e-card of this wallet's cardholder when `request` is about them. Raises
        `VerificationError`: check ``subject`` when the request names no subject ("the request
        names no data subject") or another person ("this request is about someone else"),
        ``card`` when the wallet holds no e-card."""
        if request.subject is None:
            raise VerificationError("subject", "the request names no data subject")
        card = self.card_token()
        claims = held_card_claims(card) if card is not None else None
        if card is None or claims is None:
            raise VerificationError(
                "card", "this wallet holds no e-card (activate one: hrss-wallet card activate)"
            )
        if not request.subject.names(claims.get("idNumber")):
            raise VerificationError("subject", "this request is about someone else")
        return card

    def grant_consent(
        self,
        request: ConsentRequest,
        *,
        now: int,
        purposes: Collection[Purpose | str] | None = None,
        data_categories: Collection[DataCategory | str] | None = None,
        not_before: int | None = None,
        not_after: int | None = None,
    ) -> SignedConsent:
        """Sign a grant for `request` (optionally narrowed), attach the e-card proof that the
        cardholder is the request's subject, and remember it.

        The proof discloses only ``idNumber``, to the data user (`identity_proof_audience`),
        key-bound to the grant's consent id (`identity_proof_nonce`). Raises as
        `require_subject` does before signing anything, as `wallet_sdk.consent.sign_grant`
        does, `PresentationError` when the card cannot be presented and `KeystoreError` when
        the store cannot be written.
        """
        card = self.require_subject(request)
        signed = sign_grant(
            request,
            private_key=self._holder_key.private_bytes(),
            now=now,
            purposes=purposes,
            data_categories=data_categories,
            not_before=not_before,
            not_after=not_after,
        )
        signed = present_identity_proof(
            card,
            holder_key=self._credential_key,
            consent=signed,
            controller=request.controller,
            issued_at=now,
        )
        self._state["consents"].append(
            {"consent": signed.to_json(), "request": request.to_json(), "receipts": []}
        )
        self._write_store()
        return signed

    def withdraw_consent(self, consent_id: bytes) -> SignedWithdrawal:
        """Sign the withdrawal of one of this wallet's consents and remember it.

        Raises `FormatError` when the consent is unknown to this wallet.
        """
        entry = self._consent_entry(consent_id)
        consent = SignedConsent.from_json(entry["consent"])
        withdrawal = sign_withdrawal(
            consent.consent_id, consent.domain, private_key=self._holder_key.private_bytes()
        )
        entry["withdrawal"] = withdrawal.to_json()
        self._write_store()
        return withdrawal

    def withdraw_earlier_consent(
        self, consent_id: bytes, domain: RegistryDomain
    ) -> SignedWithdrawal:
        """Sign, with this wallet's holder key, the withdrawal of a consent granted with an
        earlier phone of the person (not in this wallet): ``ConsentRegistry`` accepts it from
        the holder's successor once a card issuer recorded the succession.

        Raises `FormatError` when `consent_id` is not 32 bytes."""
        return sign_withdrawal(consent_id, domain, private_key=self._holder_key.private_bytes())

    def add_consent_receipt(
        self, token: str, *, trusted_keys: Mapping[str, Sequence[Jwk]]
    ) -> ConsentReceipt:
        """Verify a consent receipt for one of this wallet's consents and keep it.

        Raises `VerificationError` when it does not verify, or (check ``holder``) when it is
        about a consent this wallet did not sign.
        """
        receipt = verify_consent_receipt(token, trusted_keys=trusted_keys)
        if receipt.consent.terms.holder != self.address:
            raise VerificationError("holder", "the receipt is for another holder")
        try:
            entry = self._consent_entry(receipt.consent_id)
        except FormatError as err:
            raise VerificationError("holder", "the receipt is for an unknown consent") from err
        if receipt.consent.signature.hex() != entry["consent"]["signature"].removeprefix("0x"):
            raise VerificationError("holder", "the receipt carries another signature")
        entry["receipts"].append(token)
        self._write_store()
        return receipt

    def consents(self) -> tuple[StoredConsent, ...]:
        """The consents this wallet signed, oldest first."""
        result = []
        for entry in self._state["consents"]:
            withdrawal = entry.get("withdrawal")
            result.append(
                StoredConsent(
                    consent=SignedConsent.from_json(entry["consent"]),
                    request=ConsentRequest.from_json(entry["request"]),
                    receipts=tuple(entry["receipts"]),
                    withdrawal=SignedWithdrawal.from_json(withdrawal) if withdrawal else None,
                )
            )
        return tuple(result)

    def has_consent(self, consent_id: bytes) -> bool:
        """Whether this wallet signed the consent `consent_id`."""
        wanted = "0x" + bytes(consent_id).hex()
        return any(entry["consent"]["consent_id"] == wanted for entry in self._state["consents"])

    def _consent_entry(self, consent_id: bytes) -> dict[str, Any]:
        wanted = "0x" + bytes(consent_id).hex()
        for entry in self._state["consents"]:
            if entry["consent"]["consent_id"] == wanted:
                stored: dict[str, Any] = entry
                return stored
        raise FormatError(f"consent {wanted} is not in this wallet")

    # -- credentials ------------------------------------------------------------------------

    def receive_credential(
        self, token: str, *, format: str | None = None, now: int
    ) -> StoredCredential:
        """Keep a credential (``vc+jwt`` or ``vc+sd-jwt`` with its disclosures) as received.

        The format is read from the token (an SD-JWT is the issuer's JWT followed by
        ``~``-separated disclosures); a `format` given must agree with it. A credential bound
        to a holder key (``cnf``) must be bound to this wallet's credential key. Signature,
        issuer and status are checked by `verify_credential`, which needs the chain. Raises
        `FormatError` for an unknown or contradicted format (naming the allowed ones), an
        unreadable token, a credential bound to another key, or one already in the wallet.
        """
        allowed = (VC_JWT_TYP, VC_SD_JWT_TYP)
        if format is not None and format not in allowed:
            raise FormatError(
                f"unknown credential format {format!r}; allowed: {', '.join(allowed)}"
            )
        if not isinstance(token, str) or not token:
            raise FormatError("a credential is a non-empty vc+jwt or vc+sd-jwt token")
        detected = VC_SD_JWT_TYP if "~" in token else VC_JWT_TYP
        if format is not None and format != detected:
            raise FormatError(f"the token is a {detected} credential, not {format}")
        format = detected
        claims = _unverified_claims(token.split("~", 1)[0])
        cnf = claims.get("cnf")
        if cnf is not None:
            bound = cnf.get("jwk") if isinstance(cnf, dict) else None
            if not isinstance(bound, dict) or not self._is_credential_key(bound):
                raise FormatError("the credential is bound to another holder key")
        elif format == VC_SD_JWT_TYP:
            raise FormatError("an SD-JWT credential must be bound to the holder key (cnf)")
        credential_id = hashlib.sha256(token.encode("utf-8")).hexdigest()
        if any(c["credential_id"] == credential_id for c in self._state["credentials"]):
            raise FormatError("this credential is already in the wallet")
        stored = StoredCredential(
            credential_id=credential_id, format=format, token=token, received_at=now
        )
        self._state["credentials"].append(
            {"credential_id": credential_id, "format": format, "token": token, "received_at": now}
        )
        self._write_store()
        return stored

    def _is_credential_key(self, jwk: dict[str, Any]) -> bool:
        try:
            bound = Jwk.from_jwk(jwk)
        except WalletError:
            return False
        return bound.thumbprint() == self._credential_key.thumbprint()

    def _credential(self, credential_id: str) -> StoredCredential:
        for stored in self.credentials():
            if stored.credential_id == credential_id:
                return stored
        raise FormatError(f"no credential {credential_id}")

    def verify_credential(
        self, credential_id: str, *, verifier: CredentialVerifier, as_of: int | None = None
    ) -> CredentialReport:
        """Verify a held credential with `verifier` (issuer accreditation, key, status and
        validity from the chain). Raises `FormatError` for an unknown id and
        `CredentialVerificationError` naming the failed check."""
        return verifier.verify_credential(self._credential(credential_id).token, as_of=as_of)

    def present(
        self,
        credential_ids: Sequence[str],
        *,
        nonce: str,
        audience: str,
        now: int,
        disclose: Collection[str] = (),
        with_card: bool = False,
        card_disclose: Collection[str] = (),
    ) -> str:
        """A presentation bound to a verifier's `nonce` and `audience`, signed by the holder
        key: one SD-JWT with only the `disclose` claims and key binding, or a ``vp+jwt`` of
        ``vc+jwt`` credentials. `with_card`: one ``vp+jwt`` of the one credential chosen and
        this wallet's e-card (`card`) showing only `card_disclose`
        (`wallet_sdk.credentials.card_proof.present_with_card`). Raises `FormatError` for
        unknown ids, a mix of formats or no e-card, `PresentationError` when the presentation
        cannot be built."""
        chosen = [self._credential(i) for i in credential_ids]
        if not chosen:
            raise FormatError("choose at least one credential")
        if with_card:
            if len(chosen) != 1:
                raise FormatError("present one credential with the e-card")
            return present_with_card(
                chosen[0].token,
                self.social_security_card().token,
                holder_key=self._credential_key,
                disclose=disclose,
                card_disclose=card_disclose,
                nonce=nonce,
                audience=audience,
                issued_at=now,
            )
        if all(c.format == VC_SD_JWT_TYP for c in chosen) and len(chosen) == 1:
            return present_sd_jwt(
                chosen[0].token,
                disclose=disclose,
                holder_key=self._credential_key,
                nonce=nonce,
                audience=audience,
                issued_at=now,
            )
        if any(c.format != VC_JWT_TYP for c in chosen) or disclose:
            raise FormatError("present one SD-JWT, or any number of vc+jwt without disclosures")
        return present_vc_jwt(
            [c.token for c in chosen],
            holder_key=self._credential_key,
            nonce=nonce,
            audience=audience,
            issued_at=now,
            holder=self.did,
        )

    def social_security_card(self) -> StoredCredential:
        """The e-card (``SocialSecurityCard``) this wallet logs in and proves who it is with:
        the one received last. Raises `CardMissing` when the wallet holds none."""
        for stored in reversed(self.credentials()):
            if stored.format != VC_SD_JWT_TYP:
                continue
            claims = _unverified_claims(stored.token.split("~", 1)[0])
            if claims.get("vct") == SOCIAL_SECURITY_CARD_VCT:
                return stored
        raise CardMissing()

    def credentials(self) -> tuple[StoredCredential, ...]:
        """The credentials in the wallet, oldest first."""
        return tuple(StoredCredential(**entry) for entry in self._state["credentials"])

    def prove_card(
        self,
        *,
        purpose: str,
        challenge: str,
        audience: str,
        disclose: Collection[str],
        now: int,
    ) -> str:
        """An e-card proof (`wallet_sdk.credentials.card_proof.present_card`) disclosing
        `disclose`, bound to `audience` and to ``card_nonce(purpose, challenge)``. Raises
        `FormatError` (no e-card, bad purpose or challenge), `PresentationError`."""
        return present_card(
            self.social_security_card().token,
            holder_key=self._credential_key,
            disclose=disclose,
            nonce=card_nonce(purpose, challenge),
            audience=audience,
            issued_at=now,
        )

    def remove_credential(self, credential_id: str) -> None:
        """Forget a credential. Raises `FormatError` when it is not in the wallet."""
        before = len(self._state["credentials"])
        self._state["credentials"] = [
            c for c in self._state["credentials"] if c["credential_id"] != credential_id
        ]
        if len(self._state["credentials"]) == before:
            raise FormatError(f"no credential {credential_id}")
        self._write_store()

    # -- document signatures ----------------------------------------------------------------

    def sign_digest(
        self,
        digest: bytes,
        *,
        now: int,
        purpose: str = "sign",
        algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    ) -> DigestSignature:
        """Sign a document digest (e.g. a labour contract record's) under `algorithm`
        (SHA-256 or SM3, named in the ``digest_alg`` claim) with the did:jwk key, in its one
        algorithm (``EdDSA``, or ``SM2SM3`` in the national profile).

        Raises `FormatError` when `digest` is not a digest of `algorithm`.
        """
        if not isinstance(algorithm, HashAlgorithm):
            raise FormatError(f"the digest's algorithm must be a HashAlgorithm, not {algorithm!r}")
        if not isinstance(digest, bytes) or len(digest) != algorithm.digest_size:
            raise FormatError(
                f"a document digest is {algorithm.digest_size} bytes ({algorithm.label})"
            )
        claims = {
            "iss": self.did,
            "digest_alg": algorithm.value,
            "digest": digest.hex(),
            "purpose": purpose,
            "iat": now,
        }
        jws = sign_compact(
            canonical_json(claims),
            self._credential_key,
            headers={"typ": DIGEST_SIGNATURE_TYP, "kid": self.did + "#0"},
        )
        return DigestSignature(jws=jws, signer=self.did, digest=digest)

    # -- sealed store -----------------------------------------------------------------------

    def _store_aead(self, cipher: KeystoreCipher) -> tuple[AESGCM | SM4GCM, bytes]:
        """The AEAD sealing ``store.json`` with `cipher`, and its associated data."""
        if cipher is KeystoreCipher.AES_256_GCM:
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=STORE_FORMAT.encode()
            ).derive(self._seal)
            return AESGCM(key), STORE_FORMAT.encode()
        purpose = f"{STORE_FORMAT} {cipher.value}".encode()
        return SM4GCM.derived(self._seal, purpose), purpose

    def _read_store(self) -> dict[str, Any]:
        path = self._directory / _STORE_FILE
        if not path.exists():
            return {"credentials": [], "consents": []}
        try:
            sealed = json.loads(path.read_bytes())
            if sealed.get("format") != STORE_FORMAT:
                raise KeystoreError(f"{path} is not an {STORE_FORMAT} file")
            cipher = KeystoreCipher(sealed.get("cipher", KeystoreCipher.AES_256_GCM.value))
            aead, associated = self._store_aead(cipher)
            plain = aead.decrypt(
                b64url_decode(sealed["nonce"]), b64url_decode(sealed["ciphertext"]), associated
            )
            state: dict[str, Any] = json.loads(plain)
            if not isinstance(state.get("credentials"), list) or not isinstance(
                state.get("consents"), list
            ):
                raise KeystoreError("wallet store is malformed")
            return state
        except KeystoreError:
            raise
        except (OSError, ValueError, KeyError, TypeError, InvalidTag, WalletError) as err:
            raise KeystoreError("wallet store cannot be read or was tampered with") from err

    def _write_store(self) -> None:
        nonce = secrets.token_bytes(12)
        plain = json.dumps(self._state, sort_keys=True, ensure_ascii=False).encode("utf-8")
        cipher = self._profile.cipher
        aead, associated = self._store_aead(cipher)
        document = {
            "format": STORE_FORMAT,
            "nonce": b64url_encode(nonce),
            "ciphertext": b64url_encode(aead.encrypt(nonce, plain, associated)),
        }
        if cipher is not KeystoreCipher.AES_256_GCM:
            document["cipher"] = cipher.value
        target = self._directory / _STORE_FILE
        try:
            fd, temp = tempfile.mkstemp(prefix=".store-", dir=self._directory)
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(json.dumps(document).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except OSError as err:
            raise KeystoreError(f"cannot write {target}: {err.strerror}") from err
