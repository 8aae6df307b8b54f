"""Training file verification for the HTTP API: the whole file check of
`wallet_sdk.credentials.verify_training_file` on a holder's presentation, with every issuer
named from the public registry view and the file's head read from the chain. No HTTP here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session

from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import ErrorCode, InvalidInput
from credential_service.services.registry import describe_issuer
from wallet_sdk import FormatError
from wallet_sdk.credentials import TrainingFilePresentation, verify_training_file

__all__ = ["verify_training_file_presentation"]


def verify_training_file_presentation(
    *,
    session: Session,
    runtime: CredentialRuntime,
    presentation: Mapping[str, Any],
    nonce: str,
    audience: str,
    as_of: datetime | None,
    period: Literal["year", "quarter", "month"],
) -> dict[str, Any]:
    """The report of a presented training file: file checks, one report per entry with its
    issuer named (name, province, accreditation path), totals and the verdict. An invalid
    file is a report with the verdict ``failed``, not an error.

    Raises `InvalidInput` (``training_file_invalid``) when the presentation is not a
    training file presentation document at all."""
    try:
        parsed = TrainingFilePresentation.parse(presentation)
    except FormatError as err:
        raise InvalidInput(str(err), code=ErrorCode.TRAINING_FILE_INVALID) from err
    report = verify_training_file(
        parsed,
        runtime.verifier,
        nonce=nonce,
        audience=audience,
        as_of=int(as_of.timestamp()) if as_of else None,
        period=period,
        strict=False,
        heads=runtime.direct,
    )
    issuers: dict[bytes, dict[str, Any]] = {}

    def describe(entity_id: bytes) -> dict[str, Any]:
        if entity_id not in issuers:
            issuers[entity_id] = describe_issuer(session=session, entity_id=entity_id)
        return issuers[entity_id]

    return report.to_dict(describe_issuer=describe)
