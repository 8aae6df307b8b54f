"""Verification reports of credentials and presentations (never raising for an invalid
credential: the report says why), counted in the metrics by check.

Every function takes keyword-only arguments and raises only `ServiceError` subclasses
(`InvalidInput` for an unreadable anchor receipt).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from credential_service.credentials.models import WithCard
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import ErrorCode, InvalidInput
from credential_service.observability import record_verification
from wallet_sdk import VerificationError, WalletError
from wallet_sdk.credentials import CredentialReport, PresentationReport, TrustView
from wallet_sdk.credentials.card_proof import (
    CARD_CHECK,
    DISCLOSURE_CHECK,
    SAME_HOLDER_CHECK,
    check_card_bound,
)
from wallet_sdk.jose import b64url_encode
from wallet_sdk.receipt import AnchorReceipt

__all__ = ["parse_receipt", "verify_credential", "verify_presentation"]


def parse_receipt(data: Mapping[str, Any]) -> AnchorReceipt:
    """An anchor receipt from a request body. Raises `InvalidInput`."""
    try:
        return AnchorReceipt.parse(data)
    except WalletError as err:
        raise InvalidInput(f"anchor receipt: {err}", code=ErrorCode.VALIDATION_FAILED) from err


def verify_credential(
    *,
    runtime: CredentialRuntime,
    token: str,
    as_of: datetime | None,
    receipt: Mapping[str, Any] | None,
    issuers: Callable[[bytes], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The verification report of one credential (never raises for an invalid credential:
    the report says why). With `issuers` (`IssuerNames`) the report names its ``issuer``
    (``None`` when the token names no registered issuer id)."""
    parsed = parse_receipt(receipt) if receipt is not None else None
    report = runtime.verifier.verify_credential(
        token,
        as_of=int(as_of.timestamp()) if as_of else None,
        anchor_receipt=parsed,
        strict=False,
    )
    return record_verification("credential", _named(report, issuers))  # metrics by check


def _named(
    report: CredentialReport, issuers: Callable[[bytes], Mapping[str, Any]] | None
) -> dict[str, Any]:
    """`report` as a dict, with its ``issuer`` described by `issuers` when given."""
    as_dict = report.to_dict()
    if issuers is not None:
        issuer_id = report.credential.issuer_id if report.credential else None
        as_dict["issuer"] = dict(issuers(issuer_id)) if issuer_id else None
    return as_dict


def verify_presentation(
    *,
    runtime: CredentialRuntime,
    token: str,
    nonce: str,
    audience: str,
    as_of: datetime | None,
    receipts: Sequence[Mapping[str, Any]],
    issuers: Callable[[bytes], Mapping[str, Any]] | None = None,
    with_card: WithCard | None = None,
) -> dict[str, Any]:
    """The verification report of a presentation (SD-JWT with key binding, or vp+jwt);
    receipts are matched to credentials by the digest they prove. With `issuers` every
    credential's report names its ``issuer`` as in `verify_credential`. With `with_card` the
    presentation is a credential with its holder's e-card: the report's ``card`` says whether
    both are bound to one holder key (`_card_bound`), and ``verified`` requires it."""
    report = runtime.verifier.verify_presentation(
        token,
        nonce=nonce,
        audience=audience,
        as_of=int(as_of.timestamp()) if as_of else None,
        anchor_receipts=[parse_receipt(r) for r in receipts],
        strict=False,
    )
    as_dict = report.to_dict()
    as_dict["credentials"] = [_named(one, issuers) for one in report.credentials]
    if with_card is not None:
        _card_bound(as_dict, report, token, with_card, issuers, runtime.verifier.trust)
    return record_verification("presentation", as_dict)  # metrics by check


_CARD_BOUND_CHECKS = frozenset({CARD_CHECK, SAME_HOLDER_CHECK, DISCLOSURE_CHECK})


def _card_bound(
    as_dict: dict[str, Any],
    report: PresentationReport,
    token: str,
    with_card: WithCard,
    issuers: Callable[[bytes], Mapping[str, Any]] | None,
    trust: TrustView,
) -> None:
    """Add to `as_dict` the ``card`` section of a credential presented with the e-card
    (`check_card_bound`): ``verified``, the failed ``check`` and its ``detail``, else the
    holder key's thumbprint, the credential's id, the card (id, issuer, disclosed claims) and
    ``name_matches`` (``null`` unless an expected name was given). The checks of its own
    (``card``, ``same_holder``, ``disclosure``) join the report's ``checks``; a failed one
    makes the whole report fail with it."""
    try:
        bound = check_card_bound(
            report,
            token,
            trust=trust,
            require=with_card.require,
            card_require=with_card.card_require,
            expected_name=with_card.expected_name,
        )
    except VerificationError as err:
        as_dict["card"] = {"verified": False, "check": err.check, "detail": err.message}
        if err.check in _CARD_BOUND_CHECKS:
            as_dict["checks"].append(
                {"check": err.check, "status": "failed", "detail": err.message}
            )
        as_dict["verified"] = False
        as_dict["verdict"] = f"not verified: {err.check} failed"
        return
    as_dict["checks"].append(
        {
            "check": SAME_HOLDER_CHECK,
            "status": "passed",
            "detail": "the credential and the e-card are bound to one holder key",
        }
    )
    card = bound.card
    as_dict["card"] = {
        "verified": True,
        "check": None,
        "detail": "a credential with the e-card of its holder",
        "holder": b64url_encode(bound.holder_thumbprint),
        "credential": "0x" + bound.credential.credential_id.hex(),
        "card": {
            "id": "0x" + card.credential_id.hex(),
            "issuer": dict(issuers(card.issuer_id)) if issuers else "0x" + card.issuer_id.hex(),
            "claims": dict(card.claims),
        },
        "name_matches": bound.name_matches,
    }
