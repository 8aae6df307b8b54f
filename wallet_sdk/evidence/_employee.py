"""The named employee of a labour contract: the e-card proof an employee's signature carries,
checked against the identity the employer named (``employee_identity`` in every offer).

One function serves the service (when it accepts a signature, status judged now) and the
evidence verifier (status judged at the time the chain witnessed the signature)."""

from __future__ import annotations

from dataclasses import dataclass

from wallet_sdk.credentials.card_proof import (
    ISSUER_ACTIVE_CHECK,
    CardIdentity,
    matches_commitment,
    verify_card_proof,
)
from wallet_sdk.credentials.verifier import CredentialVerifier
from wallet_sdk.errors import VerificationError
from wallet_sdk.evidence._records import (
    CONTRACT_CARD_AUDIENCE,
    EMPLOYEE_IDENTITY_CLAIMS,
    EventRecord,
    EventSignature,
    employee_card_nonce,
)
from wallet_sdk.wallet import did_jwk

__all__ = ["VerifiedEmployee", "mask_id_number", "verify_employee_proof"]

PROOF_CHECK = "card_proof"
ISSUER_CHECK = ISSUER_ACTIVE_CHECK  # raised by verify_card_proof
SIGNING_KEY_CHECK = "signing_key"
MISMATCH_CHECK = "employee_mismatch"


def mask_id_number(id_number: str) -> str:
    """A citizen ID number as a report shows it: the region (6) and the last 4 characters,
    the birth date masked (``110105********002X``)."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


@dataclass(frozen=True, slots=True)
class VerifiedEmployee:
    """Who signed, as the e-card proved it: the disclosed name and ID number, the card and
    its issuer (a card issuer's `TrustRegistry` id)."""

    name: str
    id_number: str
    credential_id: bytes
    card_issuer_id: bytes

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def to_dict(self) -> dict[str, str]:
        """The facts a report shows (the ID number masked)."""
        return {
            "name": self.name,
            "id_number_masked": self.masked_id_number,
            "card_id": "0x" + self.credential_id.hex(),
            "card_issuer": "0x" + self.card_issuer_id.hex(),
        }


def verify_employee_proof(
    verifier: CredentialVerifier,
    record: EventRecord,
    signature: EventSignature,
    *,
    commitment: str,
    salt: str,
    at: int,
) -> VerifiedEmployee:
    """The employee an e-card proof shows for `signature` of `record`, or `VerificationError`.

    The proof must be a presentation of an e-card (whole credential pipeline, the card's status
    and the key binding's freshness judged at `at`) key-bound to this record
    (`employee_card_nonce`, `CONTRACT_CARD_AUDIENCE`) disclosing the name and ID number; the
    card must be bound to the key that signed the record (the signer's ``did:jwk``), and the
    disclosed identity must be the one `commitment` (``0x`` hex, from the offer) commits to
    with `salt`.
    The error's ``check`` is ``card_proof`` (no proof), the card pipeline's check (``status``,
    ``issuer``, ``holder_binding``, ``card``, ...), ``issuer_active`` (the card issuer was
    suspended or revoked by `at`: the pipeline judges it at the card's issue time),
    ``signing_key`` or ``employee_mismatch``.
    """
    if signature.card_proof is None:
        raise VerificationError(PROOF_CHECK, "the employee's signature carries no e-card proof")
    identity: CardIdentity = verify_card_proof(
        verifier,
        signature.card_proof,
        nonce=employee_card_nonce(record),
        audience=CONTRACT_CARD_AUDIENCE,
        as_of=at,
        presented_at=at,
        require=EMPLOYEE_IDENTITY_CLAIMS,
    )
    if did_jwk(identity.holder_key) != signature.signer:
        raise VerificationError(
            SIGNING_KEY_CHECK, "the e-card is bound to another key than the one that signed"
        )
    if not matches_commitment(
        identity, commitment.removeprefix("0x"), salt, EMPLOYEE_IDENTITY_CLAIMS
    ):
        raise VerificationError(
            MISMATCH_CHECK, "the e-card's holder is not the employee the contract names"
        )
    return VerifiedEmployee(
        name=str(identity.claims["name"]),
        id_number=str(identity.claims["idNumber"]),
        credential_id=identity.credential_id,
        card_issuer_id=identity.issuer_id,
    )
