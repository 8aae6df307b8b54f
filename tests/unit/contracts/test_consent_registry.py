"""ConsentRegistry: EIP-712 grants and withdrawals signed by the holder and relayed by anyone."""

from __future__ import annotations

import os
from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from node_adapter.consent_format import (
    CONSENT_DOMAIN_NAME,
    CONSENT_DOMAIN_VERSION,
    GRANT_TYPEHASH,
    GRANT_TYPES,
    WITHDRAWAL_TYPEHASH,
    WITHDRAWAL_TYPES,
    consent_domain,
    typed_data_digest,
)
from node_adapter.signer import Signer

from .conftest import (
    DATA_USER_ID,
    EMPLOYER_ID,
    GUANGDONG,
    ISSUER_ID,
    REVOKED,
    SUSPENDED,
    World,
    artifact,
    expect_revert,
    org_id,
)

C = "ConsentRegistry"
T = "TrustRegistry"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

PURPOSE = keccak(b"salt-1|employment-verification")
SCOPE = keccak(b"salt-2|contributions-2020-2025")


def domain(world: World, **overrides: Any) -> dict[str, Any]:
    return consent_domain(world.chain.chain_id, world.addresses[C]) | overrides


def make_grant(world: World, holder: Signer, **overrides: Any) -> dict[str, Any]:
    now = world.now()
    grant = {
        "holder": holder.address,
        "grantee": DATA_USER_ID,
        "purposeHash": PURPOSE,
        "scopeHash": SCOPE,
        "notBefore": now,
        "notAfter": now + 30 * 86400,
        "nonce": 1,
    }
    return grant | overrides


def as_tuple(grant: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(grant[f["name"]] for f in GRANT_TYPES["Grant"])


def sign_grant(
    world: World, signer: Signer, grant: dict[str, Any], **domain_overrides: Any
) -> bytes:
    return signer.sign_typed_data(domain(world, **domain_overrides), GRANT_TYPES, grant)


def sign_withdrawal(world: World, signer: Signer, consent_id: bytes, nonce: int) -> bytes:
    return signer.sign_typed_data(
        domain(world), WITHDRAWAL_TYPES, {"consentId": consent_id, "nonce": nonce}
    )


def digest(world: World, types: dict[str, Any], message: dict[str, Any]) -> bytes:
    return typed_data_digest((domain(world), types, message))


def do_grant(world: World, holder: Signer, **overrides: Any) -> tuple[bytes, dict[str, Any]]:
    grant = make_grant(world, holder, **overrides)
    receipt = world.tx(C, world.relayer, "grant", as_tuple(grant), sign_grant(world, holder, grant))
    return receipt.event("ConsentGranted").args["consentId"], grant


@pytest.fixture
def holder() -> Signer:
    # A cardholder's wallet key: never funded, since grants and withdrawals are relayed.
    return Signer.generate()


def test_grant_records_the_consent_under_its_eip712_digest(world: World, holder: Signer):
    grant = make_grant(world, holder)
    receipt = world.tx(C, world.relayer, "grant", as_tuple(grant), sign_grant(world, holder, grant))
    consent_id = digest(world, GRANT_TYPES, grant)
    event = receipt.event("ConsentGranted").args
    assert dict(event) == {
        "consentId": consent_id,
        "holder": holder.address,
        "grantee": DATA_USER_ID,
        "purposeHash": PURPOSE,
        "scopeHash": SCOPE,
        "notBefore": grant["notBefore"],
        "notAfter": grant["notAfter"],
    }
    assert world.call(C, "hashGrant", as_tuple(grant)) == consent_id
    assert world.call(C, "consentOf", consent_id) == (
        holder.address,
        DATA_USER_ID,
        PURPOSE,
        SCOPE,
        grant["notBefore"],
        grant["notAfter"],
        0,
    )
    assert world.call(C, "nonceUsed", holder.address, 1)
    assert not world.call(C, "nonceUsed", holder.address, 2)


def test_domain_is_hrss_consent_version_1(world: World):
    signable = encode_typed_data(
        domain_data=domain(world),
        message_types=WITHDRAWAL_TYPES,
        message_data={"consentId": b"\x00" * 32, "nonce": 0},
    )
    assert world.call(C, "DOMAIN_SEPARATOR") == signable.header
    fields = world.call(C, "eip712Domain")
    assert fields[1:5] == (
        CONSENT_DOMAIN_NAME,
        CONSENT_DOMAIN_VERSION,
        world.chain.chain_id,
        world.addresses[C],
    )
    assert world.call(C, "GRANT_TYPEHASH") == GRANT_TYPEHASH
    assert world.call(C, "WITHDRAWAL_TYPEHASH") == WITHDRAWAL_TYPEHASH
    assert world.call(C, "hashWithdrawal", b"\x01" * 32, 7) == digest(
        world, WITHDRAWAL_TYPES, {"consentId": b"\x01" * 32, "nonce": 7}
    )
    assert world.call(C, "trustRegistry") == world.addresses[T]


def test_is_valid_checks_window_grantee_and_purpose(world: World, holder: Signer):
    consent_id, grant = do_grant(world, holder)
    start, end = grant["notBefore"], grant["notAfter"]
    assert world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, start)
    assert world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, end - 1)
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, start - 1)
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, end)
    assert not world.call(C, "isValid", consent_id, EMPLOYER_ID, PURPOSE, start)
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, keccak(b"other purpose"), start)
    assert not world.call(C, "isValid", os.urandom(32), DATA_USER_ID, PURPOSE, start)


def test_withdrawal_takes_effect_from_its_block(world: World, holder: Signer):
    consent_id, grant = do_grant(world, holder)
    world.advance(100)
    receipt = world.tx(
        C, world.relayer, "withdraw", consent_id, 2, sign_withdrawal(world, holder, consent_id, 2)
    )
    at = world.time_of(receipt)
    event = receipt.event("ConsentWithdrawn").args
    assert dict(event) == {"consentId": consent_id, "holder": holder.address, "at": at}
    assert world.call(C, "consentOf", consent_id)[6] == at
    assert world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, at - 1)
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, at)
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, grant["notAfter"] - 1)
    assert world.call(C, "nonceUsed", holder.address, 2)


def test_is_valid_follows_the_grantee_status_history(world: World, holder: Signer):
    consent_id, _ = do_grant(world, holder)
    world.advance(100)
    t = world.time_of(world.tx(T, world.province, "setEntityStatus", DATA_USER_ID, SUSPENDED, 0))
    assert world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, t - 1)
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, t)
    world.advance(100)
    t2 = world.time_of(world.tx(T, world.ministry, "setEntityStatus", GUANGDONG, SUSPENDED, 0))
    world.advance(100)
    world.tx(T, world.province, "setEntityStatus", DATA_USER_ID, 1, 0)  # grantee reinstated ...
    assert not world.call(
        C, "isValid", consent_id, DATA_USER_ID, PURPOSE, world.now()
    )  # ... province not
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, PURPOSE, t2)


def test_grant_rejects_a_replayed_nonce(world: World, holder: Signer):
    grant = make_grant(world, holder)
    signature = sign_grant(world, holder, grant)
    world.tx(C, world.relayer, "grant", as_tuple(grant), signature)
    with expect_revert("NonceAlreadyUsed", (holder.address, 1)):
        world.tx(C, world.stranger, "grant", as_tuple(grant), signature)
    # A different grant with the same nonce is a replay too.
    other = make_grant(world, holder, purposeHash=keccak(b"other"))
    with expect_revert("NonceAlreadyUsed", (holder.address, 1)):
        world.tx(C, world.relayer, "grant", as_tuple(other), sign_grant(world, holder, other))


def test_grant_and_withdrawal_share_one_nonce_space(world: World, holder: Signer):
    consent_id, _ = do_grant(world, holder, nonce=5)
    with expect_revert("NonceAlreadyUsed", (holder.address, 5)):
        world.tx(
            C,
            world.relayer,
            "withdraw",
            consent_id,
            5,
            sign_withdrawal(world, holder, consent_id, 5),
        )
    world.tx(
        C, world.relayer, "withdraw", consent_id, 6, sign_withdrawal(world, holder, consent_id, 6)
    )
    grant = make_grant(world, holder, nonce=6)
    with expect_revert("NonceAlreadyUsed", (holder.address, 6)):
        world.tx(C, world.relayer, "grant", as_tuple(grant), sign_grant(world, holder, grant))


def test_withdrawal_rejects_a_replayed_nonce_on_another_consent(world: World, holder: Signer):
    first, _ = do_grant(world, holder, nonce=1)
    second, _ = do_grant(world, holder, nonce=2)
    world.tx(C, world.relayer, "withdraw", first, 3, sign_withdrawal(world, holder, first, 3))
    with expect_revert("NonceAlreadyUsed", (holder.address, 3)):
        world.tx(C, world.relayer, "withdraw", second, 3, sign_withdrawal(world, holder, second, 3))


def test_withdrawal_cannot_be_repeated(world: World, holder: Signer):
    consent_id, _ = do_grant(world, holder)
    signature = sign_withdrawal(world, holder, consent_id, 2)
    world.tx(C, world.relayer, "withdraw", consent_id, 2, signature)
    with expect_revert("AlreadyWithdrawn", (consent_id,)):
        world.tx(C, world.relayer, "withdraw", consent_id, 2, signature)
    with expect_revert("AlreadyWithdrawn", (consent_id,)):
        world.tx(
            C,
            world.relayer,
            "withdraw",
            consent_id,
            9,
            sign_withdrawal(world, holder, consent_id, 9),
        )


def test_grant_rejects_a_forged_signature(world: World, holder: Signer):
    grant = make_grant(world, holder)
    forger = Signer.generate()
    with expect_revert("InvalidSigner", (holder.address, forger.address)):
        world.tx(C, world.relayer, "grant", as_tuple(grant), sign_grant(world, forger, grant))


def test_grant_rejects_a_tampered_grant(world: World, holder: Signer):
    grant = make_grant(world, holder)
    signature = sign_grant(world, holder, grant)
    for tampered in (
        grant | {"purposeHash": keccak(b"marketing")},
        grant | {"scopeHash": keccak(b"everything")},
        grant | {"notAfter": grant["notAfter"] + 10**6},
        grant | {"grantee": EMPLOYER_ID},
    ):
        with expect_revert("InvalidSigner"):
            world.tx(C, world.relayer, "grant", as_tuple(tampered), signature)


@pytest.mark.parametrize(
    "domain_overrides",
    [
        {"chainId": 1},
        {"verifyingContract": "0x000000000000000000000000000000000000dEaD"},
        {"name": "Other"},
        {"version": "2"},
    ],
)
def test_grant_rejects_a_signature_for_another_domain(
    world: World, holder: Signer, domain_overrides
):
    grant = make_grant(world, holder)
    with expect_revert("InvalidSigner"):
        world.tx(
            C,
            world.relayer,
            "grant",
            as_tuple(grant),
            sign_grant(world, holder, grant, **domain_overrides),
        )


def test_grant_rejects_a_malleable_signature(world: World, holder: Signer):
    grant = make_grant(world, holder)
    signature = sign_grant(world, holder, grant)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    high_s = (SECP256K1_N - s).to_bytes(32, "big")
    flipped = r + high_s + bytes([55 - v])  # 27 <-> 28: the same signer, the other s
    with expect_revert("ECDSAInvalidSignatureS", (high_s,)):
        world.tx(C, world.relayer, "grant", as_tuple(grant), flipped)


def test_grant_rejects_a_malformed_signature(world: World, holder: Signer):
    grant = make_grant(world, holder)
    with expect_revert("ECDSAInvalidSignatureLength", (64,)):
        world.tx(C, world.relayer, "grant", as_tuple(grant), sign_grant(world, holder, grant)[:64])
    with expect_revert("ECDSAInvalidSignature", ()):
        world.tx(C, world.relayer, "grant", as_tuple(grant), bytes(65))


@pytest.mark.parametrize("grantee", [ISSUER_ID, EMPLOYER_ID, GUANGDONG, org_id("NOWHERE")])
def test_grant_rejects_a_grantee_that_is_not_a_data_user(world: World, holder: Signer, grantee):
    grant = make_grant(world, holder, grantee=grantee)
    with expect_revert("GranteeNotDataUser", (grantee,)):
        world.tx(C, world.relayer, "grant", as_tuple(grant), sign_grant(world, holder, grant))


@pytest.mark.parametrize(
    ("target", "status"),
    [(DATA_USER_ID, SUSPENDED), (DATA_USER_ID, REVOKED), (GUANGDONG, SUSPENDED)],
)
def test_grant_rejects_an_inactive_grantee(world: World, holder: Signer, target, status):
    accreditor = world.ministry if target == GUANGDONG else world.province
    world.tx(T, accreditor, "setEntityStatus", target, status, 0)
    grant = make_grant(world, holder)
    with expect_revert("EntityNotActive", (DATA_USER_ID,)):
        world.tx(C, world.relayer, "grant", as_tuple(grant), sign_grant(world, holder, grant))


def test_grant_rejects_an_empty_window_and_zero_holder(world: World, holder: Signer):
    grant = make_grant(world, holder)
    empty = grant | {"notAfter": grant["notBefore"]}
    with expect_revert("InvalidValidity", (grant["notBefore"], grant["notBefore"])):
        world.tx(C, world.relayer, "grant", as_tuple(empty), sign_grant(world, holder, empty))
    nobody = grant | {"holder": ZERO_ADDRESS}
    with expect_revert("ZeroAddress", ()):
        world.tx(C, world.relayer, "grant", as_tuple(nobody), sign_grant(world, holder, nobody))


def test_withdraw_rejects_unknown_consent_and_other_signers(world: World, holder: Signer):
    unknown = os.urandom(32)
    with expect_revert("UnknownConsent", (unknown,)):
        world.tx(
            C, world.relayer, "withdraw", unknown, 2, sign_withdrawal(world, holder, unknown, 2)
        )
    consent_id, _ = do_grant(world, holder)
    other = Signer.generate()
    with expect_revert("InvalidSigner", (holder.address, other.address)):
        world.tx(
            C,
            world.relayer,
            "withdraw",
            consent_id,
            2,
            sign_withdrawal(world, other, consent_id, 2),
        )
    # Signed for nonce 2, submitted with nonce 3: the digest differs, so the signer does too.
    with expect_revert("InvalidSigner"):
        world.tx(
            C,
            world.relayer,
            "withdraw",
            consent_id,
            3,
            sign_withdrawal(world, holder, consent_id, 2),
        )


def test_nonces_are_independent_per_holder_and_sparse(world: World, holder: Signer):
    other = Signer.generate()
    do_grant(world, holder, nonce=2**200)
    do_grant(world, other, nonce=2**200)
    assert world.call(C, "nonceUsed", holder.address, 2**200)
    assert not world.call(C, "nonceUsed", holder.address, 2**200 + 1)
    assert not world.call(C, "nonceUsed", holder.address, 2**200 - 1)


def test_consent_of_unknown_is_empty(world: World):
    assert world.call(C, "consentOf", os.urandom(32)) == (
        ZERO_ADDRESS,
        b"\x00" * 32,
        b"\x00" * 32,
        b"\x00" * 32,
        0,
        0,
        0,
    )


def test_constructor_rejects_zero_trust_registry(world: World):
    art = artifact(C)
    with expect_revert("ZeroAddress", ()):
        world.chain.deploy(world.stranger, art["abi"], art["bytecode"], (ZERO_ADDRESS,))
