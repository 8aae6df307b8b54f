"""Data-use consent: requests, relayed grants and withdrawals, checks before use, the logs.

Domain services only (no HTTP). Formats come from `wallet_sdk.consent`; the chain is reached
through a `ConsentLedger`. Times are unix seconds.

The check before use (`check_consent`) reads the chain at the latest block and evaluates
``isValid`` at ``max(now, block time)``: the state is the chain's latest, the time is the
present, never earlier than the latest block. (On chains that mine only on demand the latest
block can be old; judging by its time alone would keep an expired consent alive.) Every
check, allowed or denied, is written to ``data_use_check`` before the answer leaves.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from credential_service.consent.ledger import ConsentLedger
from credential_service.consent.models import (
    CheckReason,
    ConsentCheckPublic,
    ConsentPublic,
    ConsentReceiptPublic,
    ConsentReceiptRecord,
    ConsentRecord,
    ConsentRequestCreate,
    ConsentRequestPublic,
    ConsentRequestRecord,
    ConsentState,
    DataUseCheck,
    DataUsePublic,
)
from credential_service.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    LedgerRejected,
    NotFound,
    ServiceError,
)
from credential_service.models import Organisation, OrganisationKind
from credential_service.sealing import SealAlgorithm, SealBroken, open_sealed, seal
from credential_service.services.organisations import require_active_path
from wallet_sdk.consent import (
    ConsentRequest,
    ConsentSubject,
    Controller,
    DataCategory,
    Purpose,
    ReceiptEvent,
    SignedConsent,
    SignedWithdrawal,
    encode_consent_request_qr,
    issue_consent_receipt,
    verify_identity_proof,
)
from wallet_sdk.credentials import CredentialVerifier
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.jose import Jwk

__all__ = [
    "CONSENT_SEALING_KEY",
    "CONSENT_SIGNING_KEY",
    "ConsentSigner",
    "check_consent",
    "create_consent_request",
    "get_data_user_consent",
    "list_data_user_consents",
    "list_holder_consents",
    "list_holder_data_use",
    "open_identity_proof",
    "open_receipt",
    "open_request_body",
    "relay_grant",
    "relay_withdrawal",
    "seal_receipt",
    "seal_request_body",
]

CONSENT_SIGNING_KEY = "service/consent-signing"
"""Keystore name of the Ed25519 key that signs consent-request QR payloads and receipts."""
CONSENT_SEALING_KEY = "service/consent-sealing"
"""Keystore name of the secret that seals consent requests at rest."""


@dataclass(frozen=True)
class ConsentSigner:
    """Who signs consent QR payloads and receipts: the service's issuer URL and its key; and
    the secret that seals consent requests at rest (`seal_request_body`)."""

    issuer: str
    key: Jwk
    sealing_secret: bytes = field(repr=False)
    seal_algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM
    """What new requests and receipts are sealed with (the profile's; both open)."""

    def trust(self) -> dict[str, list[dict[str, str]]]:
        """The wallet trust document ``{issuer: [public JWK]}`` for this signer."""
        public = self.key.public()
        kid = public.kid if public.kid is not None else public.thumbprint_b64()
        return {self.issuer: [public.with_kid(kid).public_jwk()]}


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


_REQUEST_INFO = b"hrss-consent-request/1"


def seal_request_body(
    secret: bytes,
    *,
    request_id: str,
    body: Mapping[str, Any],
    algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> bytes:
    """A consent request's JSON sealed at rest (it may carry the data subject's ID number and
    a contact phone), bound to its request id."""
    plaintext = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    return seal(secret, plaintext, info=_REQUEST_INFO, aad=request_id.encode(), algorithm=algorithm)


def open_request_body(secret: bytes, *, request_id: str, sealed: bytes) -> dict[str, Any]:
    """The JSON `seal_request_body` sealed. Raises ``ServiceError`` when the seal does not
    open (another secret, another request, damage)."""
    try:
        plaintext = open_sealed(secret, bytes(sealed), info=_REQUEST_INFO, aad=request_id.encode())
    except SealBroken as err:
        raise ServiceError("the sealed consent request cannot be opened") from err
    body: dict[str, Any] = json.loads(plaintext)
    return body


_SUBJECT_INFO = b"hrss-consent-subject/1"
_PROOF_INFO = b"hrss-consent-identity-proof/1"


def _seal_text(secret: bytes, text: str, *, info: bytes, aad: str) -> bytes:
    return seal(secret, text.encode(), info=info, aad=aad.encode())


def open_identity_proof(secret: bytes, *, consent_id: str, sealed: bytes) -> str:
    """The e-card proof of a grant, as `relay_grant` sealed it. Raises ``ServiceError`` when
    the seal does not open."""
    try:
        return open_sealed(
            secret, bytes(sealed), info=_PROOF_INFO, aad=consent_id.encode()
        ).decode()
    except SealBroken as err:
        raise ServiceError("the sealed identity proof cannot be opened") from err


_RECEIPT_INFO = b"hrss-consent-receipt/1"


def seal_receipt(
    secret: bytes,
    *,
    consent_id: str,
    event: str,
    token: str,
    algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> bytes:
    """A signed consent receipt sealed at rest (it carries the request, so the data subject
    and the contact), bound to its consent and event."""
    aad = f"{consent_id}:{event}".encode()
    return seal(secret, token.encode(), info=_RECEIPT_INFO, aad=aad, algorithm=algorithm)


def open_receipt(secret: bytes, *, consent_id: str, event: str, sealed: bytes) -> str:
    """The receipt `seal_receipt` sealed. Raises ``ServiceError`` when the seal does not
    open."""
    try:
        return open_sealed(
            secret, bytes(sealed), info=_RECEIPT_INFO, aad=f"{consent_id}:{event}".encode()
        ).decode()
    except SealBroken as err:
        raise ServiceError("the sealed consent receipt cannot be opened") from err


def _receipt_row(
    signer: ConsentSigner, consent_id: str, event: str, token: str
) -> ConsentReceiptRecord:
    return ConsentReceiptRecord(
        consent_id=consent_id,
        event=event,
        token_sealed=seal_receipt(
            signer.sealing_secret,
            consent_id=consent_id,
            event=event,
            token=token,
            algorithm=signer.seal_algorithm,
        ),
    )


def _open_request(signer: ConsentSigner, record: ConsentRequestRecord) -> ConsentRequest:
    return ConsentRequest.from_json(
        open_request_body(
            signer.sealing_secret, request_id=record.request_id, sealed=record.body_sealed
        )
    )


def _require_active_data_user(*, session: Session, organisation: Organisation) -> None:
    """Refuse anyone but a data user whose whole accreditation path is active
    (``Forbidden``, ``tenant_forbidden``, naming what is not active)."""
    if organisation.kind != OrganisationKind.DATA_USER:
        raise Forbidden("only data users ask for or check consent", code=ErrorCode.TENANT_FORBIDDEN)
    require_active_path(
        session=session,
        organisation=organisation,
        role="data user",
        error=Forbidden,
        code=ErrorCode.TENANT_FORBIDDEN,
    )


# ------------------------------------------------------------------------------- requests


def create_consent_request(
    *,
    session: Session,
    ledger: ConsentLedger,
    signer: ConsentSigner,
    data_user: Organisation,
    create: ConsentRequestCreate,
    now: int,
) -> ConsentRequestPublic:
    """Record a data user's consent request and return it as a signed QR payload.

    Raises ``Forbidden`` unless the caller is an active data user, ``InvalidInput``
    (``consent_request_invalid``) when a purpose or category is outside the vocabularies or
    the request does not fit a QR code.
    """
    _require_active_data_user(session=session, organisation=data_user)
    if data_user.id is None:
        raise NotFound("unknown data user", code=ErrorCode.ORGANISATION_NOT_FOUND)
    try:
        # The message names what is wrong with the number, never the number.
        subject = ConsentSubject.for_id_number(create.subject_id_number)
    except FormatError as err:
        raise InvalidInput(
            f"subject_id_number: {err}", code=ErrorCode.CONSENT_SUBJECT_INVALID
        ) from err
    try:
        request = ConsentRequest.new(
            controller=Controller(
                ledger_id=bytes.fromhex(data_user.ledger_id.removeprefix("0x")),
                credit_code=data_user.credit_code,
                name=data_user.name,
                contact=create.contact,
            ),
            purposes=create.purposes,
            data_categories=create.data_categories,
            duration_seconds=create.duration_seconds,
            legal_basis=create.legal_basis,
            registry=ledger.domain,
            now=now,
            lifetime_seconds=create.lifetime_seconds,
            notice=create.notice,
            subject_reference=create.subject_reference,
            subject=subject,
        )
        qr = encode_consent_request_qr(request, issuer=signer.issuer, key=signer.key)
    except (FormatError, ValueError) as err:
        raise InvalidInput(
            str(err),
            code=ErrorCode.CONSENT_REQUEST_INVALID,
            detail={
                "allowed_purposes": [purpose.value for purpose in Purpose],
                "allowed_data_categories": [category.value for category in DataCategory],
            },
        ) from err
    session.add(
        ConsentRequestRecord(
            request_id=request.request_id,
            organisation_id=data_user.id,
            body_sealed=seal_request_body(
                signer.sealing_secret,
                request_id=request.request_id,
                body=request.to_json(),
                algorithm=signer.seal_algorithm,
            ),
            subject_sealed=_seal_text(
                signer.sealing_secret,
                create.subject_id_number,
                info=_SUBJECT_INFO,
                aad=request.request_id,
            ),
            created_at=request.created_at,
            expires_at=request.expires_at,
        )
    )
    session.commit()
    return ConsentRequestPublic(
        request_id=request.request_id,
        qr=qr,
        request=request.to_json(),
        expires_at=request.expires_at,
    )


# ------------------------------------------------------------------------------- grants


def _parse(kind: type[Any], payload: Mapping[str, Any]) -> Any:
    try:
        return kind.from_json(payload)
    except WalletError as err:
        raise InvalidInput(f"malformed {kind.__name__}: {err}", code=ErrorCode.BAD_REQUEST) from err


def _grant_fits_request(signed: SignedConsent, request: ConsentRequest) -> None:
    def reject(message: str) -> InvalidInput:
        return InvalidInput(message, code=ErrorCode.CONSENT_GRANT_INVALID)

    terms, opening = signed.terms, signed.opening
    if terms.grantee != request.controller.ledger_id:
        raise reject("the grant names another data user than the request")
    if signed.domain != request.registry:
        raise reject("the grant is signed for another registry or chain")
    if opening.request_digest != request.digest():
        raise reject("the grant answers another request")
    if not set(opening.purposes) <= set(request.purposes):
        raise reject("the grant covers purposes the request did not ask for")
    if not set(opening.data_categories) <= set(request.data_categories):
        raise reject("the grant covers data categories the request did not ask for")
    if terms.not_after - terms.not_before > request.duration_seconds:
        raise reject("the grant lasts longer than the request asked")


def relay_grant(
    *,
    session: Session,
    ledger: ConsentLedger,
    signer: ConsentSigner,
    card_verifier: CredentialVerifier,
    holder: str,
    payload: Mapping[str, Any],
    now: int,
) -> ConsentReceiptPublic:
    """Check a wallet's signed grant, relay it to ``ConsentRegistry`` (the service pays the
    gas), record it and return the signed grant receipt.

    Checks, in order: 1. form; 2. the request exists and has not expired; 3. the grant is by
    the logged-in cardholder; 4. it fits the request (data user, registry, purposes,
    categories, duration); 5. the holder's EIP-712 signature and the commitments; 6. not a
    replay (consent id known, nonce used); 7. whether the grantor is the request's data
    subject (`verify_identity_proof` with `card_verifier`, as of now). The last one refuses
    nothing: the holder did sign the grant, and the chain records it as signed; but a grant
    whose proof fails is recorded as not the subject's, and every check of it answers
    ``subject_mismatch``. The proof is kept sealed. Raises ``InvalidInput``, ``NotFound``,
    ``Forbidden``, ``Conflict`` with ``consent_*`` codes, ``LedgerRejected`` and
    ``LedgerUnavailable``.
    """
    # 1. form
    signed: SignedConsent = _parse(SignedConsent, payload)
    consent_id = _hex(signed.consent_id)
    # 2. the request
    record = session.get(ConsentRequestRecord, signed.request_id)
    if record is None:
        raise NotFound("no such consent request", code=ErrorCode.CONSENT_REQUEST_NOT_FOUND)
    if now > record.expires_at:
        raise InvalidInput(
            "the consent request has expired", code=ErrorCode.CONSENT_REQUEST_EXPIRED
        )
    request = _open_request(signer, record)
    # 3. the cardholder's own grant
    if signed.terms.holder != holder:
        raise Forbidden(
            "a cardholder relays only their own grants", code=ErrorCode.CONSENT_HOLDER_MISMATCH
        )
    # 4. within the request
    _grant_fits_request(signed, request)
    # 5. signature and commitments
    try:
        signed.verify()
    except VerificationError as err:
        raise InvalidInput(
            f"the grant does not verify: {err}", code=ErrorCode.CONSENT_SIGNATURE_INVALID
        ) from err
    # 6. replay
    if session.get(ConsentRecord, consent_id) is not None or ledger.nonce_used(
        holder=signed.terms.holder, nonce=signed.terms.nonce
    ):
        raise Conflict("this grant was relayed already", code=ErrorCode.CONSENT_REPLAYED)
    # 7. the data subject's own grant?
    subject_check: str | None = None
    try:
        verify_identity_proof(signed, request, card_verifier)
    except VerificationError as err:
        subject_check = err.check
    try:
        relayed = ledger.grant(terms=signed.terms, signature=signed.signature)
    except LedgerRejected as err:
        # A concurrent relay of the same grant won the race for the nonce.
        if err.contract_error == "NonceAlreadyUsed":
            raise Conflict(
                "this grant was relayed already", code=ErrorCode.CONSENT_REPLAYED
            ) from err
        raise
    token = issue_consent_receipt(
        event=ReceiptEvent.GRANT,
        consent=signed,
        request=request,
        issuer=signer.issuer,
        key=signer.key,
        issued_at=now,
        transaction_hash=relayed.tx_hash,
        block_number=relayed.block_number,
        block_time=relayed.block_time,
    )
    session.add(
        ConsentRecord(
            consent_id=consent_id,
            request_id=request.request_id,
            organisation_id=record.organisation_id,
            holder=signed.terms.holder,
            signed=signed.without_identity_proof().to_json(),
            identity_proof_sealed=(
                None
                if signed.identity_proof is None
                else _seal_text(
                    signer.sealing_secret,
                    signed.identity_proof,
                    info=_PROOF_INFO,
                    aad=consent_id,
                )
            ),
            subject_verified=subject_check is None,
            subject_check=subject_check,
            state=ConsentState.GRANTED.value,
            not_before=signed.terms.not_before,
            not_after=signed.terms.not_after,
            granted_tx=relayed.tx_hash,
            granted_block=relayed.block_number,
            granted_at=relayed.block_time,
        )
    )
    session.add(_receipt_row(signer, consent_id, ReceiptEvent.GRANT.value, token))
    session.commit()
    return ConsentReceiptPublic(
        consent_id=consent_id,
        event=ReceiptEvent.GRANT.value,
        receipt=token,
        transaction_hash=relayed.tx_hash,
        block_number=relayed.block_number,
        confirmations=relayed.confirmations,
        subject_verified=subject_check is None,
    )


def relay_withdrawal(
    *,
    session: Session,
    ledger: ConsentLedger,
    signer: ConsentSigner,
    holder: str,
    consent_id: bytes,
    payload: Mapping[str, Any],
    now: int,
    earlier: Sequence[str] = (),
) -> ConsentReceiptPublic:
    """Relay a cardholder's signed withdrawal; it takes effect from the block it lands in.

    The consent is the cardholder's own, or one granted with an earlier phone of the person
    (a holder in `earlier`, which `holder` succeeds on ``ConsentRegistry``): the new wallet
    signs the withdrawal of that one, and its receipt names it as ``withdrawn_by``.

    Raises ``NotFound`` (``consent_not_found``: unknown, or another cardholder's),
    ``InvalidInput`` (``consent_signature_invalid``), ``Conflict``
    (``consent_already_withdrawn``), ``LedgerRejected``, ``LedgerUnavailable``.
    """
    withdrawal: SignedWithdrawal = _parse(SignedWithdrawal, payload)
    key = _hex(consent_id)
    record = session.get(ConsentRecord, key)
    if (
        record is None
        or record.holder not in (holder, *earlier)
        or withdrawal.consent_id != consent_id
    ):
        raise NotFound("no such consent", code=ErrorCode.CONSENT_NOT_FOUND)
    if record.state == ConsentState.WITHDRAWN:
        raise Conflict("the consent is withdrawn already", code=ErrorCode.CONSENT_ALREADY_WITHDRAWN)
    signed = _signed_with_proof(signer, record)
    try:
        signer_address = withdrawal.signer()
    except VerificationError as err:
        raise InvalidInput(str(err), code=ErrorCode.CONSENT_SIGNATURE_INVALID) from err
    if signer_address not in (record.holder, holder) or withdrawal.domain != signed.domain:
        raise InvalidInput(
            "the withdrawal is not signed by the consent's holder (or the cardholder who "
            "succeeds it) for its registry",
            code=ErrorCode.CONSENT_SIGNATURE_INVALID,
        )
    try:
        relayed = ledger.withdraw(
            consent_id=consent_id, nonce=withdrawal.nonce, signature=withdrawal.signature
        )
    except LedgerRejected as err:
        if err.contract_error == "NonceAlreadyUsed":
            raise Conflict(
                "this withdrawal was relayed already", code=ErrorCode.CONSENT_REPLAYED
            ) from err
        raise
    request_record = session.get(ConsentRequestRecord, record.request_id)
    assert request_record is not None  # a consent row is written only for a known request
    token = issue_consent_receipt(
        event=ReceiptEvent.WITHDRAWAL,
        consent=signed,
        request=_open_request(signer, request_record),
        issuer=signer.issuer,
        key=signer.key,
        issued_at=now,
        transaction_hash=relayed.tx_hash,
        block_number=relayed.block_number,
        block_time=relayed.block_time,
        withdrawal=withdrawal,
        withdrawn_by=None if signer_address == record.holder else signer_address,
    )
    session.exec(
        update(ConsentRecord)
        .where(col(ConsentRecord.consent_id) == key)
        .values(
            state=ConsentState.WITHDRAWN.value,
            withdrawn_tx=relayed.tx_hash,
            withdrawn_at=relayed.block_time,
        )
    )
    session.add(_receipt_row(signer, key, ReceiptEvent.WITHDRAWAL.value, token))
    session.commit()
    return ConsentReceiptPublic(
        consent_id=key,
        event=ReceiptEvent.WITHDRAWAL.value,
        receipt=token,
        transaction_hash=relayed.tx_hash,
        block_number=relayed.block_number,
        confirmations=relayed.confirmations,
    )


# ------------------------------------------------------------------------------- checks


def _signed_with_proof(signer: ConsentSigner, record: ConsentRecord) -> SignedConsent:
    """The signed grant of `record` with its e-card proof unsealed (for its receipts)."""
    signed = SignedConsent.from_json(record.signed)
    if record.identity_proof_sealed is None:
        return signed
    proof = open_identity_proof(
        signer.sealing_secret, consent_id=record.consent_id, sealed=record.identity_proof_sealed
    )
    return dataclasses.replace(signed, identity_proof=proof)


def _decide(
    *,
    ledger: ConsentLedger,
    record: ConsentRecord | None,
    data_user: Organisation,
    purpose: str,
    block: int,
    at: int,
) -> CheckReason:
    # 1. a consent this service relayed
    if record is None:
        return CheckReason.UNKNOWN_CONSENT
    # 2. granted to the caller, not to another data user
    if record.organisation_id != data_user.id:
        return CheckReason.NOT_GRANTEE
    # 3. granted by the data subject the request names (an e-card proof of them)
    if not record.subject_verified:
        return CheckReason.SUBJECT_MISMATCH
    signed = SignedConsent.from_json(record.signed)
    consent_id = signed.consent_id
    on_chain = ledger.consent_of(consent_id=consent_id, block=block)
    # 4. the chain holds it, with the commitments our opening opens
    if on_chain is None:
        return CheckReason.UNKNOWN_CONSENT
    if (
        on_chain.holder != signed.terms.holder
        or on_chain.grantee != signed.terms.grantee
        or not hmac.compare_digest(on_chain.purpose_hash, signed.opening.purpose_hash)
    ):
        return CheckReason.RECORD_MISMATCH
    # 5. the purpose is one the cardholder granted
    try:
        wanted = Purpose(purpose)
    except ValueError:
        return CheckReason.PURPOSE_NOT_GRANTED
    if wanted not in signed.opening.purposes:
        return CheckReason.PURPOSE_NOT_GRANTED
    # 6. the chain's own verdict at `at`, explained by the first failing condition
    if ledger.is_valid(
        consent_id=consent_id,
        grantee=signed.terms.grantee,
        purpose_hash=on_chain.purpose_hash,
        at=at,
        block=block,
    ):
        return CheckReason.GRANTED
    if on_chain.withdrawn_at != 0 and at >= on_chain.withdrawn_at:
        _note_withdrawal(record, on_chain.withdrawn_at)
        return CheckReason.WITHDRAWN
    if at < on_chain.not_before:
        return CheckReason.NOT_YET_VALID
    if at >= on_chain.not_after:
        return CheckReason.EXPIRED
    return CheckReason.GRANTEE_NOT_ACTIVE


def _note_withdrawal(record: ConsentRecord, withdrawn_at: int) -> None:
    # Anyone may relay a holder-signed withdrawal, not only this service: when the chain
    # knows of one the record does not, the record (and so the cardholder's view) follows.
    if record.state != ConsentState.WITHDRAWN:
        record.state = ConsentState.WITHDRAWN.value
        record.withdrawn_at = withdrawn_at


def check_consent(
    *,
    session: Session,
    ledger: ConsentLedger,
    data_user: Organisation,
    consent_id: bytes,
    purpose: str,
    now: int,
) -> ConsentCheckPublic:
    """May `data_user` use the data under `consent_id` for `purpose` now? Logged every time.

    Allowed only when the chain's ``isValid`` says so at the latest block; a denial names the
    first reason (`CheckReason`). Raises ``Forbidden`` unless the caller is an active data
    user, ``LedgerUnavailable`` when the chain cannot be read (nothing is allowed then).
    """
    _require_active_data_user(session=session, organisation=data_user)
    assert data_user.id is not None
    latest = ledger.latest()
    at = max(now, latest.block_time)
    key = _hex(consent_id)
    record = session.get(ConsentRecord, key)
    reason = _decide(
        ledger=ledger,
        record=record,
        data_user=data_user,
        purpose=purpose,
        block=latest.block_number,
        at=at,
    )
    entry = DataUseCheck(
        consent_id=key,
        organisation_id=data_user.id,
        holder=record.holder if record is not None else None,
        purpose=purpose[:64],
        allowed=reason is CheckReason.GRANTED,
        reason=reason.value,
        block_number=latest.block_number,
        block_time=latest.block_time,
    )
    session.add(entry)
    if record is not None:
        session.add(record)
    session.commit()
    assert entry.id is not None
    return ConsentCheckPublic(
        allowed=entry.allowed,
        reason=entry.reason,
        consent_id=key,
        purpose=entry.purpose,
        block_number=latest.block_number,
        block_time=latest.block_time,
        check_id=entry.id,
    )


# ------------------------------------------------------------------------------- views


def _credit_codes(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    return {row.id: row.credit_code for row in rows if row.id is not None}


def _to_public(
    session: Session,
    signer: ConsentSigner,
    records: Sequence[ConsentRecord],
    earlier: Collection[str] = (),
) -> list[ConsentPublic]:
    codes = _credit_codes(session, {r.organisation_id for r in records})
    receipts: dict[str, list[str]] = {}
    if records:
        for row in session.exec(
            select(ConsentReceiptRecord)
            .where(col(ConsentReceiptRecord.consent_id).in_([r.consent_id for r in records]))
            .order_by(col(ConsentReceiptRecord.id))
        ).all():
            receipts.setdefault(row.consent_id, []).append(
                open_receipt(
                    signer.sealing_secret,
                    consent_id=row.consent_id,
                    event=row.event,
                    sealed=row.token_sealed,
                )
            )
    result = []
    for record in records:
        opening = record.signed["opening"]
        result.append(
            ConsentPublic(
                consent_id=record.consent_id,
                request_id=record.request_id,
                holder=record.holder,
                data_user=codes.get(record.organisation_id, ""),
                purposes=list(opening["purposes"]),
                data_categories=list(opening["data_categories"]),
                state=record.state,
                not_before=record.not_before,
                not_after=record.not_after,
                granted_at=record.granted_at,
                withdrawn_at=record.withdrawn_at,
                subject_verified=record.subject_verified,
                receipts=receipts.get(record.consent_id, []),
                earlier_phone=record.holder in earlier,
            )
        )
    return result


def list_data_user_consents(
    *, session: Session, signer: ConsentSigner, data_user: Organisation
) -> list[ConsentPublic]:
    """The consents granted to `data_user`, and no one else's."""
    records = session.exec(
        select(ConsentRecord)
        .where(col(ConsentRecord.organisation_id) == data_user.id)
        .order_by(col(ConsentRecord.created_at))
    ).all()
    return _to_public(session, signer, records)


def get_data_user_consent(
    *, session: Session, signer: ConsentSigner, data_user: Organisation, consent_id: bytes
) -> ConsentPublic:
    """One consent granted to `data_user`. Raises ``NotFound`` for any other consent, so a
    data user cannot even learn that another's consent exists."""
    record = session.get(ConsentRecord, _hex(consent_id))
    if record is None or record.organisation_id != data_user.id:
        raise NotFound("no such consent", code=ErrorCode.CONSENT_NOT_FOUND)
    return _to_public(session, signer, [record])[0]


def list_holder_consents(
    *, session: Session, signer: ConsentSigner, holder: str, earlier: Sequence[str] = ()
) -> list[ConsentPublic]:
    """Every consent of the cardholder `holder` and of the holder addresses of the person's
    earlier phones (`earlier`, marked ``earlier_phone``), and no one else's."""
    records = session.exec(
        select(ConsentRecord)
        .where(col(ConsentRecord.holder).in_([holder, *earlier]))
        .order_by(col(ConsentRecord.created_at))
    ).all()
    return _to_public(session, signer, records, earlier)


def list_holder_data_use(
    *, session: Session, holder: str, earlier: Sequence[str] = ()
) -> list[DataUsePublic]:
    """Every check made against the cardholder's consents and those of the person's earlier
    phones (`earlier`), allowed or denied, newest last."""
    rows = session.exec(
        select(DataUseCheck)
        .where(col(DataUseCheck.holder).in_([holder, *earlier]))
        .order_by(col(DataUseCheck.id))
    ).all()
    codes = _credit_codes(session, {r.organisation_id for r in rows})
    return [
        DataUsePublic(
            check_id=row.id or 0,
            consent_id=row.consent_id,
            data_user=codes.get(row.organisation_id, ""),
            purpose=row.purpose,
            allowed=row.allowed,
            reason=row.reason,
            block_number=row.block_number,
            block_time=row.block_time,
            checked_at=row.checked_at,
        )
        for row in rows
    ]
