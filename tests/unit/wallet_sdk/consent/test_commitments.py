"""The keyed purpose and scope commitments a grant puts on chain."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest

from wallet_sdk.consent import purpose_commitment, scope_commitment
from wallet_sdk.errors import FormatError


def test_commitments_are_keyed_and_order_independent() -> None:
    salt = secrets.token_bytes(32)
    a = purpose_commitment(salt, ["recruitment", "skill-verification"])
    assert a == purpose_commitment(salt, ["skill-verification", "recruitment"])
    assert a != purpose_commitment(secrets.token_bytes(32), ["recruitment", "skill-verification"])
    plain = json.dumps(["recruitment", "skill-verification"], separators=(",", ":")).encode()
    assert a != hashlib.sha256(plain).digest()
    digest = secrets.token_bytes(32)
    assert scope_commitment(salt, ["identity"], digest) != scope_commitment(
        salt, ["identity"], secrets.token_bytes(32)
    )


def test_commitment_refuses_short_salt() -> None:
    with pytest.raises(FormatError, match="32 random bytes"):
        purpose_commitment(b"short", ["recruitment"])
