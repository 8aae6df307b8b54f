"""E-card activation (电子社保卡激活).

1. A card issuer, after its own real-name check, asks for an activation
   (`request_activation`): the card's subject is checked (schema and `check_card_subject`),
   sealed at rest, and a one-time code valid for `ACTIVATION_LIFETIME` seconds is returned
   with a signed ``card_activation`` QR payload. The row keeps only the code's HMAC and the
   person's keyed commitment (HMAC-SHA256 of the ID number), never the number in clear.
2. The wallet redeems the code (`redeem_activation`) with a proof signed by its credential key
   (`wallet_sdk.card_activation`). The code is marked used in one conditional ``UPDATE``
   (single use under concurrency), the e-card is issued as ``vc+sd-jwt`` bound to that key,
   the sealed subject is erased, and the person's previous e-card, if any, is revoked on
   ``StatusRegistry`` with reason `CardStatusReason.REPLACED`: one active e-card per person.
3. A person, not a phone: when the wallet proved its holder address (the holder of its
   consents on ``ConsentRegistry``) and the replaced card's wallet had too, the card issuer's
   controller records the holder succession (old address → new address) on
   ``ConsentRegistry`` and in ``holder_succession``. The new wallet then lists and withdraws
   the consents, and lists the contracts, of the earlier phones. Only the link between two
   pseudonymous addresses goes on chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, text, update
from sqlmodel import Session, col, select

from credential_service.cards.ledger import CardLedger
from credential_service.cards.models import (
    CardActivation,
    CardActivationCreate,
    CardActivationPublic,
    CardHolding,
    CardIssuedPublic,
    HolderSuccessionRecord,
)
from credential_service.credentials.issuance import issue_uncommitted
from credential_service.credentials.issuers import entity_id, issue_time, require_card_issuer
from credential_service.credentials.keys import current_signing_key
from credential_service.credentials.models import (
    CredentialRecord,
    CredentialRequest,
    CredentialState,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from credential_service.keystore import FileKeystore
from credential_service.models import Organisation, utc_now
from credential_service.sealing import SealAlgorithm, open_sealed, seal
from wallet_sdk.card_activation import verify_activation_proof
from wallet_sdk.credentials import (
    SOCIAL_SECURITY_CARD,
    CardStatusReason,
    check_card_subject,
)
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.qr import QrPayloadType, encode_qr_payload

log = logging.getLogger(__name__)

__all__ = [
    "ACTIVATION_LIFETIME",
    "CardDesk",
    "holder_predecessors",
    "person_commitment",
    "redeem_activation",
    "request_activation",
]

ACTIVATION_LIFETIME = 600
"""Seconds an activation code can be redeemed."""

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed
_CODE_LENGTH = 12  # 60 bits
_SUBJECT_INFO = b"hrss-card-activation-subject/1"
_PERSON_KEY = "service/card-person-commitment"
_CODE_KEY = "service/card-activation-code"
_SEALING_KEY = "service/card-activation-sealing"


@dataclass(frozen=True)
class CardDesk:
    """The secrets of e-card activation, from the service keystore (created on first use)."""

    person_secret: bytes = field(repr=False)
    code_secret: bytes = field(repr=False)
    sealing_secret: bytes = field(repr=False)
    qr_issuer: str
    qr_key: Jwk = field(repr=False)
    seal_algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM
    """What new activation subjects are sealed with (the profile's; both open)."""

    @classmethod
    def from_keystore(
        cls,
        keystore: FileKeystore,
        *,
        qr_issuer: str,
        qr_key: Jwk,
        seal_algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
    ) -> CardDesk:
        """Raises ``KeystoreError`` when the keystore cannot be written."""

        def secret(name: str) -> bytes:
            return keystore.ensure(name, Curve.ED25519).private_bytes()

        return cls(
            person_secret=secret(_PERSON_KEY),
            code_secret=secret(_CODE_KEY),
            sealing_secret=secret(_SEALING_KEY),
            qr_issuer=qr_issuer,
            qr_key=qr_key,
            seal_algorithm=seal_algorithm,
        )


def person_commitment(desk: CardDesk, id_number: str) -> str:
    """The keyed commitment (HMAC-SHA256, hex) by which the service knows a person."""
    return hmac.new(desk.person_secret, id_number.encode(), hashlib.sha256).hexdigest()


def _code_hmac(desk: CardDesk, code: str) -> str:
    return hmac.new(desk.code_secret, code.encode(), hashlib.sha256).hexdigest()


def request_activation(
    *,
    session: Session,
    runtime: CredentialRuntime,
    desk: CardDesk,
    issuer: Organisation,
    subject: CardActivationCreate,
    now: int,
) -> CardActivationPublic:
    """A one-time activation code for the card described by `subject`.

    Raises `Forbidden` (``card_issuer_required``) when the caller is not a card issuer, and
    `InvalidInput` (``card_subject_invalid``) when the subject does not pass the type's schema
    or `check_card_subject` (e.g. a wrong ID check digit)."""
    require_card_issuer(issuer, SOCIAL_SECURITY_CARD)
    claims = subject.model_dump()
    try:
        runtime.types.get(SOCIAL_SECURITY_CARD).validate_subject(claims)
        check_card_subject(claims)
    except FormatError as err:
        raise InvalidInput(str(err), code=ErrorCode.CARD_SUBJECT_INVALID) from err
    assert issuer.id is not None
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    code_hmac = _code_hmac(desk, code)
    row = CardActivation(
        code_hmac=code_hmac,
        organisation_id=issuer.id,
        person=person_commitment(desk, subject.idNumber),
        subject_sealed=seal(
            desk.sealing_secret,
            json.dumps(claims, ensure_ascii=False).encode(),
            info=_SUBJECT_INFO,
            aad=code_hmac.encode(),
            algorithm=desk.seal_algorithm,
        ),
        created_at=now,
        expires_at=now + ACTIVATION_LIFETIME,
    )
    session.add(row)
    session.commit()
    qr = encode_qr_payload(
        type=QrPayloadType.CARD_ACTIVATION,
        issuer=desk.qr_issuer,
        audience="urn:hrss:wallet",
        issued_at=now,
        expires_at=row.expires_at,
        body={"activation_code": code},
        key=desk.qr_key,
    )
    return CardActivationPublic(activation_code=code, qr=qr, expires_at=row.expires_at)


def redeem_activation(
    *,
    session: Session,
    runtime: CredentialRuntime,
    ledger: CardLedger,
    desk: CardDesk,
    proof: str,
    now: datetime,
) -> CardIssuedPublic:
    """Redeem an activation code with the wallet's proof of its credential key; the e-card
    (the replaced card's revocation and the holder succession go through `ledger`).

    Raises `InvalidInput` (``card_activation_proof_invalid``, naming the failed check),
    `NotFound` (``activation_code_unknown``), `Conflict` (``activation_code_used``),
    `Forbidden` (``activation_code_expired``), and the ledger's errors."""
    at = int(now.timestamp())
    try:
        verified = verify_activation_proof(proof, now=at)
    except VerificationError as err:
        raise InvalidInput(
            f"activation proof: {err}",
            code=ErrorCode.CARD_ACTIVATION_PROOF_INVALID,
            detail={"check": err.check},
        ) from err
    code_hmac = _code_hmac(desk, verified.code.strip().upper())
    row = session.exec(select(CardActivation).where(CardActivation.code_hmac == code_hmac)).first()
    if row is None:
        raise NotFound("no such activation code", code=ErrorCode.ACTIVATION_CODE_UNKNOWN)
    if row.used_at is not None:
        raise Conflict("the activation code was used already", code=ErrorCode.ACTIVATION_CODE_USED)
    if at > row.expires_at:
        raise Forbidden("the activation code has expired", code=ErrorCode.ACTIVATION_CODE_EXPIRED)
    issuer = session.get(Organisation, row.organisation_id)
    assert issuer is not None
    # The issuer's first credential creates its signing key and commits; do that now, so the
    # claim below, the person lock and the issuance stay one transaction.
    current_signing_key(
        session=session, runtime=runtime, issuer=issuer, at=issue_time(runtime, now)
    )
    session.commit()
    claimed = session.exec(
        update(CardActivation)
        .where(col(CardActivation.id) == row.id, col(CardActivation.used_at).is_(None))
        .values(used_at=at)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise Conflict("the activation code was used already", code=ErrorCode.ACTIVATION_CODE_USED)
    _lock_person(session, row.person)
    assert row.subject_sealed is not None
    subject = json.loads(
        open_sealed(
            desk.sealing_secret, row.subject_sealed, info=_SUBJECT_INFO, aad=code_hmac.encode()
        )
    )
    request = CredentialRequest(
        type=SOCIAL_SECURITY_CARD,
        format="vc+sd-jwt",
        subject=subject,
        holder_jwk=verified.holder_key.public_jwk(),
    )
    (issued,) = issue_uncommitted(
        session=session, runtime=runtime, issuer=issuer, requests=[request], now=now
    )
    replaced = _replace_holding(
        session=session,
        ledger=ledger,
        person=row.person,
        issuer=issuer,
        new=issued.id,
        holder_address=verified.holder_address,
        at=at,
    )
    session.execute(
        update(CardActivation)
        .where(col(CardActivation.id) == row.id)
        .values(subject_sealed=None, credential_id=issued.id)
    )
    session.commit()
    return CardIssuedPublic(id=issued.id, credential=issued.credential, replaced=replaced)


def _lock_person(session: Session, person: str) -> None:
    """Serialise activations of one person, so that two phones activating at once leave one
    active card and revoke the other: on PostgreSQL a transaction-scoped advisory lock on the
    person's commitment; on SQLite the write this transaction already made holds the database
    lock until commit."""
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = hashlib.sha256(f"card-holder\0{person}".encode()).digest()[:8]
    session.execute(
        text("SELECT pg_advisory_xact_lock(:lock)"),
        {"lock": int.from_bytes(lock, "big", signed=True)},
    )


def _replace_holding(
    *,
    session: Session,
    ledger: CardLedger,
    person: str,
    issuer: Organisation,
    new: str,
    holder_address: str | None,
    at: int,
) -> str | None:
    """Make `new` the person's one active e-card; the previous one is revoked on chain with
    reason ``replaced`` (by its own issuer's controller) and in the database, and the previous
    wallet's holder address is succeeded by `holder_address` (`_record_succession`). The
    previous card's id, if any."""
    assert issuer.id is not None
    holding = session.get(CardHolding, person)
    if holding is None:
        session.add(
            CardHolding(
                person=person,
                credential_id=new,
                organisation_id=issuer.id,
                activated_at=at,
                holder_address=holder_address,
            )
        )
        return None
    old = holding.credential_id
    record = session.get(CredentialRecord, old)
    old_issuer = session.get(Organisation, holding.organisation_id)
    if record is not None and old_issuer is not None and record.state != CredentialState.REVOKED:
        ledger.revoke_card(
            actor=old_issuer.credit_code,
            credential_id=bytes.fromhex(old.removeprefix("0x")),
            reason=CardStatusReason.REPLACED,
        )
        record.state = CredentialState.REVOKED
        record.state_reason = CardStatusReason.REPLACED
        record.updated_at = utc_now()
        session.add(record)
    if holding.holder_address is not None and holder_address is not None:
        _record_succession(
            session=session,
            ledger=ledger,
            issuer=issuer,
            predecessor=holding.holder_address,
            successor=holder_address,
        )
    holding.credential_id = new
    holding.organisation_id = issuer.id
    holding.activated_at = at
    # A wallet that did not prove its address ends the line: nothing later succeeds it.
    holding.holder_address = holder_address
    session.add(holding)
    return old


def _record_succession(
    *,
    session: Session,
    ledger: CardLedger,
    issuer: Organisation,
    predecessor: str,
    successor: str,
) -> None:
    """Record on ``ConsentRegistry``, by `issuer`'s controller (the card issuer that knows both
    cards are the person's), that `successor` succeeds `predecessor`, settled like the other
    writes, and keep it in ``holder_succession`` (the chain's link when a retry finds it there).
    Nothing when the address did not change (a wallet that kept its holder key), and a logged
    warning, never a failed activation, when the chain holds another successor or the link
    would close a cycle (the card back on an earlier phone)."""
    if predecessor == successor:
        return
    on_chain = ledger.successor_of(predecessor)
    if on_chain is not None and on_chain.successor != successor:
        log.warning("holder %s has another successor on chain; none recorded", predecessor)
        return
    if on_chain is None and ledger.is_successor_of(successor, predecessor):
        # The card came back to an earlier phone: a link back would make a cycle.
        log.warning("holder %s succeeds %s already; none recorded", predecessor, successor)
        return
    if on_chain is None:
        recorded = ledger.record_succession(
            actor=issuer.credit_code,
            card_issuer=entity_id(issuer),
            predecessor=predecessor,
            successor=successor,
        )
        block_time, transaction = recorded.block_time, recorded.tx_hash
    else:
        block_time, transaction = on_chain.at, ""
    assert issuer.id is not None
    session.merge(
        HolderSuccessionRecord(
            predecessor=predecessor,
            successor=successor,
            organisation_id=issuer.id,
            recorded_at=block_time,
            transaction_hash=transaction,
        )
    )


def holder_predecessors(*, session: Session, holder: str) -> list[str]:
    """The holder addresses of the person's earlier phones, newest first: those `holder`
    succeeds, directly or through later successions, as this service recorded them."""
    found: list[str] = []
    current = holder
    while True:
        row = session.exec(
            select(HolderSuccessionRecord).where(
                func.lower(HolderSuccessionRecord.successor) == current.lower()
            )
        ).first()
        if row is None or row.predecessor in found or row.predecessor.lower() == holder.lower():
            return found
        found.append(row.predecessor)
        current = row.predecessor
