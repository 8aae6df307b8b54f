from __future__ import annotations

import pytest

from credential_service.errors import ErrorCode, InvalidInput
from credential_service.services.ledger import organisation_ledger_id
from credential_service.services.organisations import (
    credit_code_check_character,
    validate_credit_code,
)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "11100000000013127D"])
def test_valid_credit_codes(code: str) -> None:
    assert validate_credit_code(code) == code
    assert credit_code_check_character(code[:17]) == code[17]


@pytest.mark.parametrize(
    "code", ["91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y4I", "x" * 18, ""]
)
def test_invalid_credit_codes(code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credit_code(code)
    assert caught.value.code == ErrorCode.CREDIT_CODE_INVALID


def test_ledger_id_is_keccak_of_the_namespaced_code() -> None:
    # keccak256(b"hrss:org:91350100M000100Y43"), computed independently with pycryptodome
    from Crypto.Hash import keccak

    expected = keccak.new(digest_bits=256, data=b"hrss:org:91350100M000100Y43").digest()
    assert organisation_ledger_id("91350100M000100Y43") == expected
