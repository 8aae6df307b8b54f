"""The data subject's identity proof: the cardholder's e-card, presented key-bound to one
grant and one data user, showing that the person the request names granted it."""

from __future__ import annotations

from wallet_sdk.consent._fields import hex32
from wallet_sdk.consent.request import ConsentRequest, Controller
from wallet_sdk.consent.signing import SignedConsent
from wallet_sdk.credentials.card_proof import (
    CardIdentity,
    card_nonce,
    matches_commitment,
    present_card,
    verify_card_proof,
)
from wallet_sdk.credentials.verifier import CredentialVerifier
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Jwk

__all__ = [
    "CONSENT_GRANT_PROOF",
    "SUBJECT_CLAIMS",
    "identity_proof_audience",
    "identity_proof_nonce",
    "present_identity_proof",
    "verify_identity_proof",
]

CONSENT_GRANT_PROOF = "consent-grant"
"""The `card_nonce` purpose of the e-card proof a grant carries."""
SUBJECT_CLAIMS = ("idNumber",)
"""What the subject of a request is named by, and what a grant's e-card proof discloses."""
_SUBJECT_CHECK = "subject"


def identity_proof_nonce(consent_id: bytes) -> str:
    """The key binding nonce of a grant's e-card proof: `card_nonce` over the consent id (the
    EIP-712 digest of the grant, which names the holder address). So the card's holder key
    vouches for this very grant by this very holder, and the proof serves no other."""
    return card_nonce(CONSENT_GRANT_PROOF, hex32(consent_id, "consent_id"))


def identity_proof_audience(controller: Controller) -> str:
    """The audience of a grant's e-card proof: the data user that asked, by ledger id."""
    return "urn:hrss:data-user:0x" + controller.ledger_id.hex()


def present_identity_proof(
    card: str, *, holder_key: Jwk, consent: SignedConsent, controller: Controller, issued_at: int
) -> SignedConsent:
    """`consent` with the e-card proof of its grantor attached: `card` presented with
    `holder_key` (the credential key the card is bound to), disclosing only ``idNumber``, to
    the data user `controller`, key-bound to the consent id. Raises `PresentationError`."""
    proof = present_card(
        card,
        holder_key=holder_key,
        disclose=SUBJECT_CLAIMS,
        nonce=identity_proof_nonce(consent.consent_id),
        audience=identity_proof_audience(controller),
        issued_at=issued_at,
    )
    return SignedConsent(
        terms=consent.terms,
        domain=consent.domain,
        signature=consent.signature,
        opening=consent.opening,
        request_id=consent.request_id,
        identity_proof=proof,
    )


def verify_identity_proof(
    consent: SignedConsent,
    request: ConsentRequest,
    verifier: CredentialVerifier,
    *,
    as_of: int | None = None,
    presented_at: int | None = None,
) -> CardIdentity:
    """Check that the data subject the request names granted `consent`, and return the card
    identity the proof shows.

    Checks, in order: 1. the request names a subject (``subject``); 2. the grant carries an
    e-card proof (``subject``); 3. the proof, through the whole credential pipeline with the
    card's status as of `as_of` and the key binding's freshness at `presented_at` (for a
    receipt: the block time of the grant): an e-card from an accredited card issuer, active,
    disclosing ``idNumber`` (``card``, ``issuer``, ``status``, ...), key-bound to this grant's
    consent id and to the data user (``holder_binding``); 4. the disclosed ID number is the
    request's subject (``subject``). Raises `VerificationError` naming the failed check.
    """
    # 1. a request about someone
    if request.subject is None:
        raise VerificationError(_SUBJECT_CHECK, "the consent request names no data subject")
    # 2. a proof
    if consent.identity_proof is None:
        raise VerificationError(_SUBJECT_CHECK, "the grant carries no e-card proof of identity")
    # 3. the e-card, bound to this grant and this data user
    identity = verify_card_proof(
        verifier,
        consent.identity_proof,
        nonce=identity_proof_nonce(consent.consent_id),
        audience=identity_proof_audience(request.controller),
        as_of=as_of,
        presented_at=presented_at,
        require=SUBJECT_CLAIMS,
    )
    # 4. the subject named in the request
    if not matches_commitment(
        identity, request.subject.commitment, request.subject.salt, SUBJECT_CLAIMS
    ):
        raise VerificationError(
            _SUBJECT_CHECK, "the e-card proof is not the data subject the request names"
        )
    return identity
