"""The electronic social security card (电子社保卡): the citizen's root of identity.

A ``SocialSecurityCard`` credential (schema ``schemas/social-security-card.json``) is issued by
a card issuer (the national card service platform or a provincial card centre) as a
``vc+sd-jwt`` only, every identity claim selectively disclosable, bound to the wallet's
credential key. Its status lives on ``StatusRegistry`` with the reason codes of
`CardStatusReason`, named here once.

The subject is checked beyond the schema by `check_card_subject`: the citizen ID number is a
GB 11643-1999 number whose last character is its ISO 7064 MOD 11-2 check digit, the issuing
region a GB/T 2260 code, the validity a pair of calendar dates in order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import IntEnum
from typing import Any

from wallet_sdk.credentials.training_file import _calendar_date as calendar_date
from wallet_sdk.errors import FormatError

__all__ = [
    "SOCIAL_SECURITY_CARD",
    "SOCIAL_SECURITY_CARD_FORMATS",
    "SOCIAL_SECURITY_CARD_VCT",
    "CardStatusReason",
    "check_card_subject",
    "citizen_id_check_digit",
    "validate_citizen_id",
]

SOCIAL_SECURITY_CARD = "SocialSecurityCard"
SOCIAL_SECURITY_CARD_VCT = "urn:hrss:vct:social-security-card:1"
"""Also ``TrustRegistry.SOCIAL_SECURITY_CARD_TYPE`` (its keccak256) on chain."""
SOCIAL_SECURITY_CARD_FORMATS = frozenset({"vc+sd-jwt"})


class CardStatusReason(IntEnum):
    """Reason codes of an e-card's status changes on ``StatusRegistry``."""

    NONE = 0
    LOST = 1  # 挂失: suspended
    CANCELLED = 2  # 注销: revoked
    REPLACED = 3  # a newer card (e.g. on a new phone) replaced it: revoked


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID = re.compile(r"[1-9][0-9]{16}[0-9X]")
_REGION = re.compile(r"[1-9][0-9]{5}")


def citizen_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of a citizen ID number.

    Raises `FormatError` when `first17` is not 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise FormatError("a citizen ID number starts with 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_citizen_id(value: object) -> str:
    """`value` if it is a GB 11643-1999 citizen ID number: 18 characters, a GB/T 2260 region,
    a calendar birth date and the MOD 11-2 check digit.

    Raises `FormatError` naming what is wrong (never echoing the number)."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise FormatError("idNumber must be 17 digits and a check character (0-9 or X)")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as err:
        raise FormatError("idNumber does not hold a calendar birth date") from err
    if citizen_id_check_digit(value[:17]) != value[17]:
        raise FormatError("idNumber check digit is wrong (ISO 7064 MOD 11-2)")
    return value


def check_card_subject(subject: Mapping[str, Any]) -> None:
    """The checks of an e-card subject the JSON Schema cannot express: the ID number's check
    digit and birth date, the issuing region, the validity in order.

    Raises `FormatError` naming the first claim that is wrong."""
    validate_citizen_id(subject.get("idNumber"))
    region = subject.get("issuingRegion")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise FormatError("issuingRegion must be a 6-digit GB/T 2260 region code")
    valid_from = calendar_date(subject.get("validFrom"), "validFrom")
    valid_until = calendar_date(subject.get("validUntil"), "validUntil")
    if valid_until < valid_from:
        raise FormatError(f"validUntil {valid_until} is before validFrom {valid_from}")
