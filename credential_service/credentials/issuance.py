"""Credential issuance: a batch of credentials signed with the issuer's credential-signing
key (`credential_service.credentials.keys`), only for types the issuer is accredited for on
chain at that moment, every credential registered in `StatusRegistry` (one transaction per
batch) and its digest submitted to the anchoring outbox. Chain first, database after: a
credential id on chain with no row here is an orphan nobody holds, never a credential without
status.

Every function takes keyword-only arguments and raises only `ServiceError` subclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from credential_service.anchoring.outbox import NewItem
from credential_service.anchoring.service import submit_digests
from credential_service.credentials.issuers import (
    entity_id,
    issue_time,
    known_type,
    require_active_issuer,
    require_card_issuer,
)
from credential_service.credentials.keys import current_signing_key
from credential_service.credentials.ledger import FileEntry
from credential_service.credentials.models import (
    CardProof,
    CredentialRecord,
    CredentialRequest,
    CredentialState,
    IssuedCredentialPublic,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import Conflict, ErrorCode, Forbidden, InvalidInput, LedgerRejected
from credential_service.models import Organisation, utc_now
from wallet_sdk import FormatError, VerificationError, WalletError
from wallet_sdk.credentials import (
    FILE_HEAD_CLAIM,
    SOCIAL_SECURITY_CARD,
    SOCIAL_SECURITY_CARD_FORMATS,
    TRAINING_RECORD,
    VC_SD_JWT_TYP,
    IssuanceError,
    IssuedCredential,
    TrainingFileLink,
    check_card_subject,
    file_head_key,
    issue_sd_jwt,
    issue_vc_jwt,
    issuer_uri,
    training_file_id,
    training_period,
)
from wallet_sdk.credentials.card_proof import (
    ISSUANCE_PURPOSE,
    CardIdentity,
    card_nonce,
    verify_card_proof,
)
from wallet_sdk.jose import Jwk

__all__ = ["FILE_ENTRY_BATCH", "STATUS_BATCH", "issue_credentials", "issue_uncommitted"]

STATUS_BATCH = 200
"""Credentials registered in `StatusRegistry` per transaction."""
FILE_ENTRY_BATCH = 80
"""Credentials per transaction when a batch holds training file entries: a registration with
its file head advance costs about 141,000 gas (71,000 of it the head's three new slots), so 80
stay near 11.3 M gas, under the in-process chain's 12 M and a usual 30 M block gas limit."""


def _check_card_request(request: CredentialRequest, index: int) -> None:
    """An e-card is a ``vc+sd-jwt`` whose subject passes `check_card_subject`.

    Raises `InvalidInput` (``card_format_not_allowed``, ``card_subject_invalid``)."""
    if request.type != SOCIAL_SECURITY_CARD:
        return
    if request.format not in SOCIAL_SECURITY_CARD_FORMATS:
        raise InvalidInput(
            f"{SOCIAL_SECURITY_CARD} is issued as vc+sd-jwt only",
            code=ErrorCode.CARD_FORMAT_NOT_ALLOWED,
            detail={"index": index, "format": request.format},
        )
    try:
        check_card_subject(request.subject)
    except FormatError as err:
        raise InvalidInput(
            str(err), code=ErrorCode.CARD_SUBJECT_INVALID, detail={"index": index}
        ) from err


def _holder_key(request: CredentialRequest, index: int) -> Jwk | None:
    if request.holder_jwk is None:
        if request.format == VC_SD_JWT_TYP:
            raise InvalidInput(
                "an SD-JWT credential needs the holder's public key (holder_jwk)",
                code=ErrorCode.VALIDATION_FAILED,
                detail={"index": index},
            )
        return None
    if "d" in request.holder_jwk:
        raise InvalidInput(
            "holder_jwk carries a private key",
            code=ErrorCode.JWK_PRIVATE_MATERIAL,
            detail={"index": index},
        )
    try:
        return Jwk.from_jwk(request.holder_jwk)
    except WalletError as err:
        raise InvalidInput(
            f"holder_jwk: {err}", code=ErrorCode.JWK_INVALID, detail={"index": index}
        ) from err


_CARD_IDENTITY = ("name", "idNumber")
"""The claims of a credential subject that must be the e-card's when a card proof is sent."""


def _bound_holder_key(
    runtime: CredentialRuntime, request: CredentialRequest, index: int, *, audience: str
) -> Jwk | None:
    """The holder key the credential is bound to (``cnf``): the e-card's when the request
    carries the holder's card proof (`_card_identity`), else ``holder_jwk``.

    Raises `InvalidInput` (``card_proof_required`` when ``require_card`` and no proof;
    ``card_proof_invalid``), `Forbidden` (``card_subject_mismatch``: the subject's name or ID
    number is not the card's; ``card_holder_mismatch``: ``holder_jwk`` is another key than
    the card's)."""
    if request.card_proof is None:
        if request.require_card:
            raise InvalidInput(
                "this credential requires the holder's e-card proof (card_proof)",
                code=ErrorCode.CARD_PROOF_REQUIRED,
                detail={"index": index},
            )
        return _holder_key(request, index)
    identity = _card_identity(runtime, request, request.card_proof, index, audience=audience)
    if request.holder_jwk is not None:
        named = _holder_key(request, index)
        if named is None or named.thumbprint() != identity.holder_thumbprint:
            raise Forbidden(
                "holder_jwk is not the key the holder's e-card is bound to",
                code=ErrorCode.CARD_HOLDER_MISMATCH,
                detail={"index": index},
            )
    return identity.holder_key


def _card_identity(
    runtime: CredentialRuntime,
    request: CredentialRequest,
    proof: CardProof,
    index: int,
    *,
    audience: str,
) -> CardIdentity:
    """The identity the card proof shows, verified now (issuer accredited, card active, key
    binding to the issuer and the challenge), disclosing every `_CARD_IDENTITY` claim the
    subject names, each equal to the subject's."""
    named = [name for name in _CARD_IDENTITY if name in request.subject]
    try:
        nonce = card_nonce(ISSUANCE_PURPOSE, proof.challenge)
        identity = verify_card_proof(
            runtime.verifier, proof.presentation, nonce=nonce, audience=audience, require=named
        )
    except VerificationError as err:
        raise InvalidInput(
            f"the e-card proof fails {err.check}: {err.message}",
            code=ErrorCode.CARD_PROOF_INVALID,
            detail={"index": index, "check": err.check},
        ) from err
    differing = [name for name in named if identity.claims[name] != request.subject[name]]
    if differing:
        # which claims differ, never their values: the caller may not be the card's holder
        raise Forbidden(
            "the holder's e-card names another person than the credential subject",
            code=ErrorCode.CARD_SUBJECT_MISMATCH,
            detail={"index": index, "claims": differing},
        )
    return identity


@dataclass
class _FileHeads:
    """The heads of the training files a batch extends: read from the chain once per file,
    then advanced by each entry the batch signs."""

    runtime: CredentialRuntime
    heads: dict[bytes, tuple[int, bytes]]

    def take(self, key: bytes, link: TrainingFileLink, index: int) -> None:
        """Refuse an entry that is not the next of its file: ``Conflict``
        (``training_file_sequence_taken`` for a sequence the file already has, so a file
        cannot fork; ``training_file_not_head`` for a gap or a link to another entry)."""
        if key not in self.heads:
            self.heads[key] = self.runtime.ledger.file_head(key)
        length, digest = self.heads[key]
        detail = {"index": index, "sequence": link.sequence, "length": length}
        if link.sequence < length:
            raise Conflict(
                f"training file entry {link.sequence} is already taken: "
                f"the file's head is entry {length - 1}",
                code=ErrorCode.TRAINING_FILE_SEQUENCE_TAKEN,
                detail=detail,
            )
        if link.sequence > length or link.previous != digest:
            raise Conflict(
                f"training file entry {link.sequence} does not extend the file's head "
                f"(entry {length - 1} on chain)",
                code=ErrorCode.TRAINING_FILE_NOT_HEAD,
                detail=detail,
            )

    def advance(self, key: bytes, digest: bytes) -> None:
        length, _ = self.heads[key]
        self.heads[key] = (length + 1, digest)


def _training_claims(
    request: CredentialRequest, holder_key: Jwk | None, issued_at: int, index: int
) -> tuple[dict[str, Any], TrainingFileLink] | None:
    """Strict claims of training records: course dates a calendar can hold, the end neither
    before the start nor after today; a file link that parses, on a credential (``vc+jwt`` or
    ``vc+sd-jwt``) bound to the holder whose file it names (one person, one file). The extra
    claims to sign (the file head key is added by the caller) and the link, if any.

    Raises `InvalidInput` (``training_dates_invalid``, ``training_file_invalid``)."""
    subject = request.subject
    if request.type == TRAINING_RECORD and all(
        isinstance(subject.get(name), str) for name in ("startDate", "endDate")
    ):  # a missing or mistyped date is the schema's to report
        try:
            training_period(subject, issued_at=issued_at)
        except FormatError as err:
            raise InvalidInput(
                str(err), code=ErrorCode.TRAINING_DATES_INVALID, detail={"index": index}
            ) from err
    if request.training_file is None:
        return None

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(message, code=ErrorCode.TRAINING_FILE_INVALID, detail={"index": index})

    if request.type != TRAINING_RECORD:
        raise refuse(f"only {TRAINING_RECORD} credentials are training file entries")
    try:
        link = TrainingFileLink.from_claim(request.training_file)
    except FormatError as err:
        raise refuse(str(err)) from err
    if holder_key is None:
        raise refuse("a training file entry needs the holder's key (holder_jwk)")
    if link.file_id != training_file_id(holder_key):
        raise refuse("training_file is not the file of the holder_jwk's holder")
    return {"trainingFile": link.to_claim()}, link


def issue_credentials(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    requests: Sequence[CredentialRequest],
    now: datetime,
) -> list[IssuedCredentialPublic]:
    """Issue a batch of credentials (see the module docstring).

    All or nothing for the signing part: every request is validated and signed before anything
    is sent to the chain. Raises `InvalidInput` (unknown type, subject not matching the type's
    schema, bad holder key), `Forbidden` (not an active issuer, or not accredited on chain for
    a type right now), `Conflict` (a training file entry at a sequence its file already has,
    ``training_file_sequence_taken``, or not extending the file's head on chain,
    ``training_file_not_head``), `LedgerRejected`/`LedgerUnavailable`.
    """
    results = issue_uncommitted(
        session=session, runtime=runtime, issuer=issuer, requests=requests, now=now
    )
    session.commit()
    return results


def issue_uncommitted(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    requests: Sequence[CredentialRequest],
    now: datetime,
    before_chain: Callable[[], None] | None = None,
) -> list[IssuedCredentialPublic]:
    """`issue_credentials` up to, not including, the commit: for a caller that makes the
    issuance part of its own transaction (idempotent requests, e-card activation) and commits
    it. `before_chain` runs once every request is signed, before the first chain transaction
    (in the transaction that will write the credential rows). Raises as `issue_credentials`."""
    require_active_issuer(session=session, issuer=issuer)
    assert issuer.id is not None
    entity = entity_id(issuer)
    issued_at = issue_time(runtime, now)
    types = {request.type: known_type(runtime, request.type) for request in requests}
    for term in types:
        require_card_issuer(issuer, term)
    for index, request in enumerate(requests):
        _check_card_request(request, index)
        if request.format not in types[request.type].formats:
            raise InvalidInput(
                f"{request.type} is issued as {', '.join(types[request.type].formats)} only",
                code=ErrorCode.CREDENTIAL_FORMAT_NOT_ALLOWED,
                detail={"index": index, "format": request.format},
            )
    for term, credential_type in types.items():
        type_id = credential_type.type_id
        accredited = runtime.ledger.is_accredited_for(issuer=entity, type_id=type_id, at=issued_at)
        if not accredited:
            raise Forbidden(
                f"the issuer is not accredited on chain for {term}",
                code=ErrorCode.ISSUER_NOT_ACCREDITED,
                detail={"type": term, "type_id": "0x" + credential_type.type_id.hex()},
            )
    key_row, key = current_signing_key(
        session=session, runtime=runtime, issuer=issuer, at=issued_at
    )
    signed: list[IssuedCredential] = []
    files = _FileHeads(runtime, {})
    entries: dict[int, FileEntry] = {}
    audience = issuer_uri(entity)
    for index, request in enumerate(requests):
        credential_type = types[request.type]
        holder_key = _bound_holder_key(runtime, request, index, audience=audience)
        training = _training_claims(request, holder_key, issued_at, index)
        extra: dict[str, Any] | None = None
        file_key = b""
        if training is not None:
            extra, link = training
            file_key = file_head_key(runtime.file_head_secret(), link.file_id)
            files.take(file_key, link, index)
            extra[FILE_HEAD_CLAIM] = "0x" + file_key.hex()
            entries[index] = FileEntry(file_key, link)
        common: dict[str, Any] = {
            "credential_type": credential_type,
            "subject": request.subject,
            "issuer_id": entity,
            "key": key,
            "status_registry": runtime.status_registry,
            "issued_at": issued_at,
            "valid_from": int(request.valid_from.timestamp()) if request.valid_from else None,
            "valid_until": int(request.valid_until.timestamp()) if request.valid_until else None,
            "digest_alg": runtime.hash_algorithm,
        }
        try:
            if request.format == VC_SD_JWT_TYP:
                assert holder_key is not None
                signed.append(
                    issue_sd_jwt(
                        holder_key=holder_key,
                        disclosable=request.disclosable,
                        extra_claims=extra,
                        **common,
                    )
                )
            else:
                signed.append(issue_vc_jwt(holder_key=holder_key, extra_claims=extra, **common))
        except IssuanceError as err:
            raise InvalidInput(
                str(err), code=ErrorCode.CREDENTIAL_SUBJECT_INVALID, detail={"index": index}
            ) from err
        if file_key:
            files.advance(file_key, signed[-1].digest)

    if before_chain is not None:
        before_chain()
    size = FILE_ENTRY_BATCH if entries else STATUS_BATCH
    for start in range(0, len(signed), size):
        _register_chunk(
            runtime,
            issuer,
            signed[start : start + size],
            {i - start: e for i, e in entries.items() if start <= i < start + size},
        )
    submitted = submit_digests(
        session.connection(),
        organisation_id=issuer.id,
        algorithm=runtime.hash_algorithm.value,
        items=[NewItem(digest=c.digest, document_type=f"credential:{c.format}") for c in signed],
    )
    updated = utc_now()
    results = []
    for credential, anchor in zip(signed, submitted, strict=True):
        session.add(
            CredentialRecord(
                id="0x" + credential.credential_id.hex(),
                organisation_id=issuer.id,
                credential_type=credential.credential_type,
                format=credential.format,
                digest="0x" + credential.digest.hex(),
                key_id=key_row.key_id,
                issued_at=issued_at,
                state=CredentialState.ACTIVE,
                anchor_item_id=anchor.id,
                updated_at=updated,
            )
        )
        results.append(
            IssuedCredentialPublic(
                id="0x" + credential.credential_id.hex(),
                type=credential.credential_type,
                format=credential.format,
                credential=credential.token,
                digest="0x" + credential.digest.hex(),
                key_id=key_row.key_id,
                issued_at=issued_at,
                anchor_item_id=anchor.id.hex(),
            )
        )
    return results


_FILE_HEAD_ERRORS = frozenset({"FileSequenceTaken", "FileSequenceNotNext", "FilePreviousMismatch"})


def _register_chunk(
    runtime: CredentialRuntime,
    issuer: Organisation,
    chunk: Sequence[IssuedCredential],
    entries: Mapping[int, FileEntry],
) -> None:
    """Register `chunk` in one transaction, advancing the file heads of its training file
    entries in the same one. An entry another request took meanwhile (the chain refuses the
    advance) is ``Conflict`` (``training_file_sequence_taken``)."""
    try:
        runtime.ledger.register(
            issuer=issuer.credit_code,
            entity=entity_id(issuer),
            credentials=chunk,
            file_entries=entries,
        )
    except LedgerRejected as err:
        if not entries or err.contract_error not in _FILE_HEAD_ERRORS:
            raise
        raise Conflict(
            f"a training file entry was taken meanwhile: {err.detail.get('reason')}",
            code=ErrorCode.TRAINING_FILE_SEQUENCE_TAKEN,
            detail={"error": err.contract_error},
        ) from err
