"""StatusRegistry: registration, suspension, reinstatement, terminal revocation, history."""

from __future__ import annotations

import os

import pytest

from .conftest import (
    ACTIVE,
    GUANGDONG,
    ISSUER_ID,
    NONE,
    REVOKED,
    SUSPENDED,
    World,
    artifact,
    expect_revert,
)

S = "StatusRegistry"
T = "TrustRegistry"
ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def _digests(ids: list[bytes]) -> list[bytes]:
    """A content digest per id (any non-zero 32 bytes will do for the registry)."""
    return [os.urandom(32) for _ in ids]


def _register(world: World, count: int = 1) -> list[bytes]:
    ids = [os.urandom(32) for _ in range(count)]
    world.tx(S, world.issuer, "register", ISSUER_ID, ids, _digests(ids))
    return ids


def test_register_makes_credentials_active(world: World):
    ids = [os.urandom(32) for _ in range(3)]
    digests = _digests(ids)
    receipt = world.tx(S, world.issuer, "register", ISSUER_ID, ids, digests)
    at = world.time_of(receipt)
    events = [e.args for e in receipt.events if e.name == "CredentialRegistered"]
    assert [dict(e) for e in events] == [
        {"credentialId": i, "issuer": ISSUER_ID, "digest": d, "at": at}
        for i, d in zip(ids, digests, strict=True)
    ]
    assert not [e for e in receipt.events if e.name == "StatusChanged"]
    for credential_id, digest in zip(ids, digests, strict=True):
        assert world.call(S, "registrationOf", credential_id) == (ISSUER_ID, digest, at)
        assert world.call(S, "currentStatus", credential_id) == (ACTIVE, 0)
        assert world.call(S, "statusAt", credential_id, at) == (ACTIVE, 0)
        assert world.call(S, "statusAt", credential_id, at - 1) == (NONE, 0)
        assert world.call(S, "issuerOf", credential_id) == ISSUER_ID
        assert world.call(S, "historyLength", credential_id) == 1
        assert world.call(S, "historyAt", credential_id, 0) == (ACTIVE, 0, at)


def test_unknown_credentials_have_no_status(world: World):
    unknown = os.urandom(32)
    assert world.call(S, "currentStatus", unknown) == (NONE, 0)
    assert world.call(S, "statusAt", unknown, world.now()) == (NONE, 0)
    assert world.call(S, "issuerOf", unknown) == ZERO32
    assert world.call(S, "registrationOf", unknown) == (ZERO32, ZERO32, 0)
    assert world.call(S, "historyLength", unknown) == 0
    with expect_revert("HistoryIndexOutOfRange", (unknown, 0)):
        world.call(S, "historyAt", unknown, 0)


def test_register_rejects_unauthorised_accounts(world: World):
    for signer in (world.stranger, world.province, world.employer):
        with expect_revert("NotController", (ISSUER_ID, signer.address)):
            world.tx(S, signer, "register", ISSUER_ID, [os.urandom(32)], _digests([os.urandom(32)]))


@pytest.mark.parametrize("target", [ISSUER_ID, GUANGDONG])
def test_register_rejects_a_suspended_issuer_or_province(world: World, target):
    accreditor = world.ministry if target == GUANGDONG else world.province
    world.tx(T, accreditor, "setEntityStatus", target, SUSPENDED, 0)
    with expect_revert("EntityNotActive", (ISSUER_ID,)):
        world.tx(
            S, world.issuer, "register", ISSUER_ID, [os.urandom(32)], _digests([os.urandom(32)])
        )


def test_register_rejects_empty_batch_zero_id_and_duplicates(world: World):
    with expect_revert("EmptyBatch", ()):
        world.tx(S, world.issuer, "register", ISSUER_ID, [], _digests([]))
    with expect_revert("ZeroId", ()):
        world.tx(
            S,
            world.issuer,
            "register",
            ISSUER_ID,
            [os.urandom(32), ZERO32],
            _digests([os.urandom(32), ZERO32]),
        )
    (existing,) = _register(world)
    with expect_revert("CredentialExists", (existing,)):
        world.tx(S, world.issuer, "register", ISSUER_ID, [existing], _digests([existing]))
    fresh = os.urandom(32)
    with expect_revert("LengthMismatch", (1, 0)):
        world.tx(S, world.issuer, "register", ISSUER_ID, [fresh], [])
    with expect_revert("ZeroDigest", (fresh,)):
        world.tx(S, world.issuer, "register", ISSUER_ID, [fresh], [ZERO32])
    with expect_revert("CredentialExists", (fresh,)):
        world.tx(S, world.issuer, "register", ISSUER_ID, [fresh, fresh], _digests([fresh, fresh]))


def test_status_history_answers_as_of_any_time(world: World):
    (credential_id,) = _register(world)
    t0 = world.now()
    world.advance(100)
    suspended = world.tx(S, world.issuer, "setStatus", credential_id, SUSPENDED, 11)
    t1 = world.time_of(suspended)
    event = suspended.event("StatusChanged").args
    assert dict(event) == {
        "credentialId": credential_id,
        "issuer": ISSUER_ID,
        "status": SUSPENDED,
        "reason": 11,
        "at": t1,
    }
    world.advance(100)
    t2 = world.time_of(world.tx(S, world.issuer, "setStatus", credential_id, ACTIVE, 12))
    world.advance(100)
    t3 = world.time_of(world.tx(S, world.issuer, "setStatus", credential_id, REVOKED, 13))

    expected = [
        (t0 - 1, (NONE, 0)),
        (t0, (ACTIVE, 0)),
        (t1 - 1, (ACTIVE, 0)),
        (t1, (SUSPENDED, 11)),
        (t2 - 1, (SUSPENDED, 11)),
        (t2, (ACTIVE, 12)),
        (t3 - 1, (ACTIVE, 12)),
        (t3, (REVOKED, 13)),
        (t3 + 10**6, (REVOKED, 13)),
    ]
    assert [world.call(S, "statusAt", credential_id, t) for t, _ in expected] == [
        s for _, s in expected
    ]
    assert world.call(S, "currentStatus", credential_id) == (REVOKED, 13)
    assert world.call(S, "historyLength", credential_id) == 4
    assert [world.call(S, "historyAt", credential_id, i) for i in range(4)] == [
        (ACTIVE, 0, t0),
        (SUSPENDED, 11, t1),
        (ACTIVE, 12, t2),
        (REVOKED, 13, t3),
    ]
    with expect_revert("HistoryIndexOutOfRange", (credential_id, 4)):
        world.call(S, "historyAt", credential_id, 4)


def test_revoked_is_terminal(world: World):
    (credential_id,) = _register(world)
    world.tx(S, world.issuer, "setStatus", credential_id, REVOKED, 1)
    for status in (ACTIVE, SUSPENDED, REVOKED):
        with expect_revert("CredentialRevoked", (credential_id,)):
            world.tx(S, world.issuer, "setStatus", credential_id, status, 0)
        with expect_revert("CredentialRevoked", (credential_id,)):
            world.tx(S, world.province, "setStatus", credential_id, status, 0)


def test_the_accreditor_may_act_even_on_a_suspended_issuer(world: World):
    (credential_id,) = _register(world)
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, SUSPENDED, 0)
    world.tx(S, world.province, "setStatus", credential_id, SUSPENDED, 5)
    # The issuer's own controller can still revoke while the issuer is suspended.
    world.tx(S, world.issuer, "setStatus", credential_id, REVOKED, 6)
    assert world.call(S, "currentStatus", credential_id) == (REVOKED, 6)


def test_set_status_rejects_unauthorised_accounts(world: World):
    (credential_id,) = _register(world)
    # The Ministry is the province's accreditor, not the issuer's: authority is one level only.
    for signer in (world.stranger, world.employer, world.ministry):
        with expect_revert("NotController", (ISSUER_ID, signer.address)):
            world.tx(S, signer, "setStatus", credential_id, SUSPENDED, 0)


def test_set_status_rejects_unknown_credential(world: World):
    unknown = os.urandom(32)
    with expect_revert("UnknownCredential", (unknown,)):
        world.tx(S, world.issuer, "setStatus", unknown, SUSPENDED, 0)


@pytest.mark.parametrize("status", [NONE, 4, 200])
def test_set_status_rejects_invalid_status(world: World, status):
    (credential_id,) = _register(world)
    with expect_revert("InvalidStatus", (status,)):
        world.tx(S, world.issuer, "setStatus", credential_id, status, 0)


def test_set_status_rejects_no_op(world: World):
    (credential_id,) = _register(world)
    with expect_revert("StatusUnchanged", (credential_id, ACTIVE)):
        world.tx(S, world.issuer, "setStatus", credential_id, ACTIVE, 0)
    world.tx(S, world.issuer, "setStatus", credential_id, SUSPENDED, 0)
    with expect_revert("StatusUnchanged", (credential_id, SUSPENDED)):
        world.tx(S, world.issuer, "setStatus", credential_id, SUSPENDED, 1)


def test_trust_registry_is_exposed_and_constructor_rejects_zero(world: World):
    assert world.call(S, "trustRegistry") == world.addresses[T]
    art = artifact(S)
    with expect_revert("ZeroAddress", ()):
        world.chain.deploy(world.stranger, art["abi"], art["bytecode"], (ZERO_ADDRESS,))


def _entry(world: World, file: bytes, sequence: int, previous: bytes, signer=None):
    """Register one fresh credential as entry `sequence` of `file`; (receipt, digest)."""
    credential_id, digest = os.urandom(32), os.urandom(32)
    receipt = world.tx(
        S,
        signer or world.issuer,
        "registerWithFileHeads",
        ISSUER_ID,
        [credential_id],
        [digest],
        [(0, file, sequence, previous)],
    )
    return receipt, digest


def test_file_head_advances_one_entry_at_a_time_in_the_registration_transaction(world: World):
    file = os.urandom(32)
    assert world.call(S, "fileHead", file) == (0, ZERO32, 0)
    first, d0 = _entry(world, file, 0, ZERO32)
    t0 = world.time_of(first)
    assert dict(first.event("FileHeadAdvanced").args) == {
        "file": file,
        "sequence": 0,
        "digest": d0,
        "at": t0,
    }
    assert [e.name for e in first.events].count("CredentialRegistered") == 1
    world.advance(100)
    second, d1 = _entry(world, file, 1, d0)
    t1 = world.time_of(second)
    assert world.call(S, "fileHead", file) == (2, d1, t1)
    assert world.call(S, "fileHeadAt", file, t0 - 1) == (0, ZERO32)
    assert world.call(S, "fileHeadAt", file, t0) == (1, d0)
    assert world.call(S, "fileHeadAt", file, t1 - 1) == (1, d0)
    assert world.call(S, "fileHeadAt", file, t1) == (2, d1)


def test_a_second_entry_at_a_taken_sequence_is_refused(world: World):
    """Finding 1 (forks), on chain: no second entry 0 or 1, no gap, no link to another entry."""
    file = os.urandom(32)
    _, d0 = _entry(world, file, 0, ZERO32)
    with expect_revert("FileSequenceTaken", (file, 0, 1)):
        _entry(world, file, 0, ZERO32)
    _, d1 = _entry(world, file, 1, d0)
    with expect_revert("FileSequenceTaken", (file, 1, 2)):
        _entry(world, file, 1, d0)
    with expect_revert("FileSequenceNotNext", (file, 3, 2)):
        _entry(world, file, 3, d1)
    with expect_revert("FilePreviousMismatch", (file, 2)):
        _entry(world, file, 2, d0)
    with expect_revert("ZeroFile", ()):
        _entry(world, ZERO32, 0, ZERO32)
    with expect_revert("AdvanceIndexOutOfRange", (1,)):
        world.tx(
            S,
            world.issuer,
            "registerWithFileHeads",
            ISSUER_ID,
            [os.urandom(32)],
            [os.urandom(32)],
            [(1, file, 2, d1)],
        )
    # The refused transactions left nothing behind: the head is still entry 1.
    assert world.call(S, "fileHead", file)[:2] == (2, d1)


def test_only_an_active_issuers_controller_advances_a_head(world: World):
    file = os.urandom(32)
    with expect_revert("NotController", (ISSUER_ID, world.stranger.address)):
        _entry(world, file, 0, ZERO32, signer=world.stranger)
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, SUSPENDED, 0)
    with expect_revert("EntityNotActive", (ISSUER_ID,)):
        _entry(world, file, 0, ZERO32)
    assert world.call(S, "fileHead", file) == (0, ZERO32, 0)
