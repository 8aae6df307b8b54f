"""Signer: key handling, EIP-712 and digest signatures that recover to the address."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from node_adapter import ConfigurationError, Signer, withdrawal_typed_data

DOMAIN, TYPES, MESSAGE = withdrawal_typed_data(b"\x07" * 32, 3, 31337, "0x" + "11" * 20)


def test_generate_gives_distinct_accounts_and_hides_key_in_repr() -> None:
    a, b = Signer.generate(), Signer.generate()
    assert a.address != b.address
    assert len(a.key) == 32
    assert a.key.hex() not in repr(a)
    assert a.address in repr(a)


def test_from_key_accepts_hex_and_bytes() -> None:
    s = Signer.generate()
    assert Signer.from_key(s.key).address == s.address
    assert Signer.from_key("0x" + s.key.hex()).address == s.address
    assert Signer.from_key(s.key.hex()) == s


@pytest.mark.parametrize("bad", ["0x1234", b"\x00" * 31, "zz" * 32, b"\x00" * 32])
def test_from_key_rejects_invalid_keys(bad: str | bytes) -> None:
    with pytest.raises(ConfigurationError, match="invalid private key"):
        Signer.from_key(bad)


def test_sign_typed_data_recovers_to_the_signer() -> None:
    s = Signer.generate()
    signature = s.sign_typed_data(DOMAIN, TYPES, MESSAGE)
    assert len(signature) == 65 and signature[-1] in (27, 28)
    signable = encode_typed_data(domain_data=DOMAIN, message_types=TYPES, message_data=MESSAGE)
    assert Account.recover_message(signable, signature=signature) == s.address


def test_sign_typed_data_ignores_an_eip712domain_type_entry() -> None:
    s = Signer.generate()
    with_domain = {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        **TYPES,
    }
    assert s.sign_typed_data(DOMAIN, with_domain, MESSAGE) == s.sign_typed_data(
        DOMAIN, TYPES, MESSAGE
    )


def test_sign_typed_data_rejects_data_not_matching_types() -> None:
    with pytest.raises(ConfigurationError, match="EIP-712"):
        Signer.generate().sign_typed_data(DOMAIN, TYPES, {"consentId": "nope"})


def test_sign_hash_recovers_and_checks_length() -> None:
    s = Signer.generate()
    digest = b"\x42" * 32
    signature = s.sign_hash(digest)
    assert Account._recover_hash(digest, signature=signature) == s.address
    with pytest.raises(ConfigurationError, match="32 bytes"):
        s.sign_hash(b"short")
