"""EIP-712 digests and signer recovery through public APIs only (issue #16: no private
third-party APIs on security paths), pinned to the EIP-712 specification's own example."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from node_adapter.consent_format import eip712_digest
from wallet_sdk.consent.signing import _recover
from wallet_sdk.errors import VerificationError

# EIP-712, "Example" (https://eips.ethereum.org/EIPS/eip-712): the Mail message signed by the
# key keccak256("cow").
MAIL_TYPES = {
    "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Mail": [
        {"name": "from", "type": "Person"},
        {"name": "to", "type": "Person"},
        {"name": "contents", "type": "string"},
    ],
}
MAIL_DOMAIN = {
    "name": "Ether Mail",
    "version": "1",
    "chainId": 1,
    "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
}
MAIL = {
    "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
    "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
    "contents": "Hello, Bob!",
}
MAIL_DIGEST = "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
MAIL_SIGNATURE = bytes.fromhex(
    "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
    "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562"
    "1c"
)
COW = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"


def _mail() -> bytes:
    return eip712_digest(
        encode_typed_data(domain_data=MAIL_DOMAIN, message_types=MAIL_TYPES, message_data=MAIL)
    )


def test_the_digest_is_the_specifications() -> None:
    assert _mail().hex() == MAIL_DIGEST


def test_the_specifications_signature_recovers_the_cow() -> None:
    assert _recover(_mail(), MAIL_SIGNATURE) == COW


def test_recovery_agrees_with_eth_accounts_public_api() -> None:
    signable = encode_typed_data(
        domain_data=MAIL_DOMAIN, message_types=MAIL_TYPES, message_data=MAIL
    )
    for _ in range(5):
        account = Account.create()
        signature = bytes(Account.sign_message(signable, account.key).signature)
        assert _recover(eip712_digest(signable), signature) == account.address
        assert Account.recover_message(signable, signature=signature) == account.address


@pytest.mark.parametrize(
    "signature",
    [
        bytes(32) + MAIL_SIGNATURE[32:],  # r = 0
        MAIL_SIGNATURE[:32] + bytes(32) + b"\x1b",  # s = 0
        MAIL_SIGNATURE[:64] + b"\x1d",  # v not 27/28
        MAIL_SIGNATURE[:64],  # short
        (2**256 - 1).to_bytes(32, "big") + MAIL_SIGNATURE[32:],  # r >= n
    ],
)
def test_malformed_signatures_recover_no_signer(signature: bytes) -> None:
    with pytest.raises(VerificationError) as caught:
        _recover(_mail(), signature)
    assert caught.value.check == "signature"
