"""The cached chain state: same answers as the contracts, no RPC per credential, fresh within
a block, rebuilt after a rollback."""

from __future__ import annotations

import time

import pytest

from node_adapter import ChainUnavailable, CredentialStatus, EntityStatus
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import (
    CachedTrustState,
    CredentialVerificationError,
    CredentialVerifier,
    TrustStateError,
    credential_type_id,
)


def test_cache_answers_like_the_contracts(
    world: TrustWorld, school: DemoIssuer, assessor: DemoIssuer, trust_state: CachedTrustState
) -> None:
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    world.set_status(school, issued, CredentialStatus.SUSPENDED, reason=5)
    trust_state.refresh()
    direct = world.direct_view()
    now = world.now()
    diploma = world.types.get("TechnicalSchoolDiploma").type_id
    skill = world.types.get("VocationalSkillCertificate").type_id
    for entity in (school.entity_id, assessor.entity_id, b"\x01" * 32):
        assert trust_state.entity_registered(entity) == direct.entity_registered(entity)
        for t in (0, now - 100, now, now + 100):
            assert trust_state.entity_active_at(entity, t) == direct.entity_active_at(entity, t)
            for type_id in (diploma, skill, credential_type_id("urn:x")):
                assert trust_state.is_accredited_for(
                    entity, type_id, t
                ) == direct.is_accredited_for(entity, type_id, t)
    for key_id in (school.key.thumbprint(), assessor.key.thumbprint(), b"\x02" * 32):
        assert trust_state.key(key_id) == direct.key(key_id)
        for t in (0, now, now + 10**6):
            assert trust_state.is_key_valid_at(key_id, t) == direct.is_key_valid_at(key_id, t)
    for t in (0, now - 1, now, now + 1):
        assert trust_state.credential_status_at(
            issued.credential_id, t
        ) == direct.credential_status_at(issued.credential_id, t)
    assert trust_state.credential_issuer(issued.credential_id) == school.entity_id


def test_verification_makes_no_rpc_call_per_credential(
    world: TrustWorld,
    school: DemoIssuer,
    trust_state: CachedTrustState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = [
        world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT).token for _ in range(3)
    ]
    trust_state.refresh()
    as_of = world.now()
    verifier = CredentialVerifier(trust_state, types=world.types)

    def no_rpc(*args: object, **kwargs: object) -> object:
        raise ChainUnavailable("verification must not touch the chain")

    monkeypatch.setattr(world.chain._backend, "run", no_rpc)
    for _ in range(20):
        for token in tokens:
            assert verifier.verify_credential(token, as_of=as_of).passed


def test_revocation_is_seen_on_the_next_block(world: TrustWorld, school: DemoIssuer) -> None:
    state = world.cached_state()
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    state.follow(interval=0.02)
    try:
        verifier = CredentialVerifier(state, types=world.types)
        deadline = time.monotonic() + 5
        while not verifier.verify_credential(issued.token, as_of=world.now(), strict=False).passed:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        world.set_status(school, issued, CredentialStatus.REVOKED, reason=9)
        block = world.chain.block_number()
        while state.block_number < block:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with pytest.raises(CredentialVerificationError) as err:
            verifier.verify_credential(issued.token, as_of=world.now())
        assert err.value.check == "status" and "revoked" in err.value.message
    finally:
        state.stop()


def test_rollback_rebuilds_the_state() -> None:
    world = TrustWorld.build()
    issuer = world.add_issuer(
        "rollback-school", province="beijing", region=110101, types=["TechnicalSchoolDiploma"]
    )
    state = world.cached_state()
    snapshot = world.chain.snapshot()
    issued = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    world.set_issuer_status(issuer, EntityStatus.SUSPENDED)
    state.refresh()
    assert state.credential_issuer(issued.credential_id) == issuer.entity_id
    assert not state.entity_active_at(issuer.entity_id, world.now())
    world.chain.revert(snapshot)
    world.chain.mine(3)
    state.refresh()
    assert state.credential_issuer(issued.credential_id) is None
    assert state.entity_active_at(issuer.entity_id, world.now())


def test_a_rebuild_the_node_interrupts_fails_closed_and_is_done_on_the_next_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = TrustWorld.build()
    issuer = world.add_issuer(
        "rebuild-school", province="beijing", region=110101, types=["TechnicalSchoolDiploma"]
    )
    kept = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    state = world.cached_state()
    snapshot = world.chain.snapshot()
    removed = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    state.refresh()
    world.chain.revert(snapshot)
    world.chain.mine(3)

    def node_gone(**_: object) -> object:
        raise ChainUnavailable("node gone")

    with monkeypatch.context() as patch:
        patch.setattr(world.chain, "get_logs", node_gone)
        with pytest.raises(TrustStateError, match="cannot read chain events: node gone"):
            state.refresh()
    # The old state holds a registration the chain lost: nothing is answered from it.
    assert state.credential_issuer(removed.credential_id) is None
    assert state.credential_issuer(kept.credential_id) is None
    state.refresh()  # the node is back: rebuilt from the deployment block
    assert state.credential_issuer(removed.credential_id) is None
    assert state.credential_issuer(kept.credential_id) == issuer.entity_id


def test_catch_up_reads_the_block_of_an_own_transaction_at_once_and_only_then(
    world: TrustWorld, school: DemoIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = world.cached_state()
    issued = world.issue(school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    head = world.chain.block().number
    assert state.credential_issuer(issued.credential_id) is None  # not read yet
    assert state.catch_up(head) > 0
    assert state.block_number >= head
    assert state.credential_issuer(issued.credential_id) == school.entity_id
    # Already there: no chain read at all.
    monkeypatch.setattr(state, "_refresh", lambda: pytest.fail("read the chain again"))
    assert state.catch_up(head) == 0
