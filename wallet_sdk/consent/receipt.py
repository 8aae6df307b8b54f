"""Consent receipts (after ISO/IEC TS 27560 and the Kantara consent receipt): signed by the
service once the registry recorded a grant or a withdrawal, verified offline by anyone."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wallet_sdk.consent._fields import checksum_address, uint64_field
from wallet_sdk.consent.identity import verify_identity_proof
from wallet_sdk.consent.request import ConsentRequest
from wallet_sdk.consent.signing import SignedConsent, SignedWithdrawal
from wallet_sdk.credentials.verifier import CredentialVerifier
from wallet_sdk.errors import FormatError, JsonTooDeep, VerificationError, WalletError
from wallet_sdk.jcs import canonical_json
from wallet_sdk.jose import (
    SIGNING_ALGORITHMS,
    Jwk,
    b64url_decode,
    read_unverified_header,
    sign_compact,
    verify_compact,
)
from wallet_sdk.nesting import load_json

__all__ = [
    "CONSENT_RECEIPT_TYP",
    "CONSENT_RECEIPT_VERSION",
    "ConsentReceipt",
    "ReceiptEvent",
    "issue_consent_receipt",
    "verify_consent_receipt",
]

CONSENT_RECEIPT_VERSION = "hrss-consent-receipt/1"
CONSENT_RECEIPT_TYP = "hrss-consent-receipt+jwt"
_RECEIPT_ALGORITHMS = SIGNING_ALGORITHMS


class ReceiptEvent(enum.StrEnum):
    """What a consent receipt records."""

    GRANT = "grant"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True, slots=True)
class ConsentReceipt:
    """A verified consent receipt (grant or withdrawal), after ISO/IEC TS 27560 / Kantara."""

    receipt_id: str
    event: ReceiptEvent
    issuer: str
    issued_at: int
    consent: SignedConsent
    request: ConsentRequest
    transaction_hash: str
    block_number: int
    block_time: int
    withdrawal: SignedWithdrawal | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    withdrawn_by: str | None = None
    """The holder's successor (the person's later phone) that signed the withdrawal; ``None``
    when the holder did. `verify_consent_receipt_on_chain` checks the succession."""

    @property
    def consent_id(self) -> bytes:
        return self.consent.consent_id


def issue_consent_receipt(
    *,
    event: ReceiptEvent,
    consent: SignedConsent,
    request: ConsentRequest,
    issuer: str,
    key: Jwk,
    issued_at: int,
    transaction_hash: str,
    block_number: int,
    block_time: int,
    withdrawal: SignedWithdrawal | None = None,
    withdrawn_by: str | None = None,
) -> str:
    """Sign a consent receipt as a compact JWS (``typ`` ``hrss-consent-receipt+jwt``).
    `withdrawn_by` names the holder's successor (the person's later phone) that signed the
    withdrawal, once the registry accepted it from that successor.

    Raises `FormatError` when a withdrawal receipt lacks its withdrawal (or a grant receipt
    has one), `SignatureError` when `key` has no private part.
    """
    if (event is ReceiptEvent.WITHDRAWAL) != (withdrawal is not None):
        raise FormatError("a withdrawal receipt, and only one, carries the withdrawal")
    body: dict[str, Any] = {
        "version": CONSENT_RECEIPT_VERSION,
        "receipt_id": uuid.uuid4().hex,
        "event": ReceiptEvent(event).value,
        "iss": issuer,
        "iat": issued_at,
        "jurisdiction": request.jurisdiction,
        "legal_basis": request.legal_basis.value,
        "controller": request.controller.to_json(),
        "principal": {"holder": consent.terms.holder},
        "purposes": [{"code": p.value, "label": p.label} for p in consent.opening.purposes],
        "data_categories": [c.value for c in consent.opening.data_categories],
        "validity": {"not_before": consent.terms.not_before, "not_after": consent.terms.not_after},
        "withdrawal_method": request.withdrawal_method,
        "request": request.to_json(),
        "consent": consent.to_json(),
        "transaction": {
            "hash": transaction_hash,
            "block_number": block_number,
            "block_time": block_time,
        },
    }
    if withdrawal is not None:
        body["withdrawal"] = withdrawal.to_json()
    if withdrawn_by is not None:
        body["withdrawn_by"] = checksum_address(withdrawn_by, "withdrawn_by")
    return sign_compact(canonical_json(body), key, headers={"typ": CONSENT_RECEIPT_TYP})


def verify_consent_receipt(
    token: str,
    *,
    trusted_keys: Mapping[str, Sequence[Jwk]],
    card_verifier: CredentialVerifier | None = None,
) -> ConsentReceipt:
    """Verify a consent receipt and return it.

    Checks, in order: 1. the service's signature under a trusted key (``issuer``, ``key``,
    JWS checks); 2. the format (``format``); 3. the grant answers the embedded request
    (``request``); 4. the holder's EIP-712 signature and the commitments (``signature``,
    ``commitment``); 5. for a withdrawal, that the holder signed it, or the successor the
    receipt names as ``withdrawn_by`` (``withdrawal``; the succession itself is on chain,
    checked by `verify_consent_receipt_on_chain`); 6. for a grant, with a `card_verifier` (it
    reads the chain), when the request names a subject or the grant carries an e-card proof:
    `verify_identity_proof` with the card's status and the key binding judged at the grant's
    block time (``subject``, ``card``, ``status``, ...).
    Without one, checks 1-5 run offline and the identity proof rests on the service's word.
    Raises `VerificationError` naming the failed check.
    """
    try:
        header = read_unverified_header(token)
        issuer = load_json(b64url_decode(token.split(".")[1]), what="payload")["iss"]
    except JsonTooDeep as err:
        raise VerificationError("format", str(err)) from err
    except (WalletError, ValueError, KeyError, TypeError, IndexError) as err:
        raise VerificationError("format", "not a consent receipt") from err
    # 1. signature by a key the caller trusts for this issuer
    candidates = trusted_keys.get(issuer) if isinstance(issuer, str) else None
    if not candidates:
        raise VerificationError("issuer", f"issuer {issuer!r} is not trusted")
    kid = header.get("kid")
    key = next(
        (k for k in candidates if (k.kid if k.kid is not None else k.thumbprint_b64()) == kid),
        None,
    )
    if key is None:
        raise VerificationError("key", f"no trusted key {kid!r} for issuer {issuer!r}")
    verified = verify_compact(token, key, algorithms=_RECEIPT_ALGORITHMS, typ=CONSENT_RECEIPT_TYP)
    # 2. format
    try:
        body = verified.payload_json()
        if body.get("version") != CONSENT_RECEIPT_VERSION:
            raise FormatError(f"not a {CONSENT_RECEIPT_VERSION} receipt")
        event = ReceiptEvent(body["event"])
        consent = SignedConsent.from_json(body["consent"])
        request = ConsentRequest.from_json(body["request"])
        transaction = body["transaction"]
        withdrawal = (
            SignedWithdrawal.from_json(body["withdrawal"])
            if event is ReceiptEvent.WITHDRAWAL
            else None
        )
        receipt = ConsentReceipt(
            receipt_id=str(body["receipt_id"]),
            event=event,
            issuer=issuer,
            issued_at=uint64_field(body, "iat"),
            consent=consent,
            request=request,
            transaction_hash=str(transaction["hash"]),
            block_number=uint64_field(transaction, "block_number"),
            block_time=uint64_field(transaction, "block_time"),
            withdrawal=withdrawal,
            raw=body,
            withdrawn_by=(
                None if body.get("withdrawn_by") is None else checksum_address(body["withdrawn_by"])
            ),
        )
    except (WalletError, ValueError, KeyError, TypeError) as err:
        raise VerificationError("format", f"malformed consent receipt: {err}") from err
    # 3. the grant answers the request it embeds
    if (
        consent.opening.request_digest != request.digest()
        or consent.terms.grantee != request.controller.ledger_id
        or consent.domain != request.registry
        or consent.request_id != request.request_id
    ):
        raise VerificationError("request", "the grant does not answer the embedded request")
    # 4. holder signature and commitments
    consent.verify()
    # 5. withdrawal signed by the same holder (or the successor named), for this consent
    if withdrawal is not None and (
        withdrawal.consent_id != consent.consent_id
        or withdrawal.domain != consent.domain
        or withdrawal.signer() not in (consent.terms.holder, receipt.withdrawn_by)
    ):
        raise VerificationError(
            "withdrawal", "the withdrawal is not the holder's, for this consent"
        )
    # 6. the data subject's e-card proof, as of the block that recorded the grant (a
    # withdrawal receipt's block is the withdrawal's: its grant receipt carries the check)
    if (
        card_verifier is not None
        and event is ReceiptEvent.GRANT
        and (request.subject is not None or consent.identity_proof is not None)
    ):
        verify_identity_proof(
            consent,
            request,
            card_verifier,
            as_of=receipt.block_time,
            presented_at=receipt.block_time,
        )
    return receipt
