"""AnchorRegistry: who may anchor, once per root, and what is recorded."""

from __future__ import annotations

import os

import pytest

from .conftest import (
    ACTIVE,
    GUANGDONG,
    ISSUER_ID,
    REVOKED,
    SUSPENDED,
    World,
    artifact,
    expect_revert,
)

A = "AnchorRegistry"
T = "TrustRegistry"
ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def test_anchor_records_submitter_time_and_block(world: World):
    root, batch_ref = os.urandom(32), os.urandom(32)
    receipt = world.tx(A, world.anchorer, "anchor", root, 1000, batch_ref)
    at = world.time_of(receipt)
    event = receipt.event("Anchored").args
    assert dict(event) == {
        "root": root,
        "entityId": ISSUER_ID,
        "submitter": world.anchorer.address,
        "leafCount": 1000,
        "batchRef": batch_ref,
        "timestamp": at,
    }
    assert world.call(A, "anchorOf", root) == (world.anchorer.address, at, receipt.block_number)


def test_anchor_of_an_unknown_root_is_empty(world: World):
    assert world.call(A, "anchorOf", os.urandom(32)) == (ZERO_ADDRESS, 0, 0)


def test_trust_registry_is_exposed(world: World):
    assert world.call(A, "trustRegistry") == world.addresses[T]


def test_a_root_is_anchored_once(world: World):
    root = os.urandom(32)
    world.tx(A, world.anchorer, "anchor", root, 1, ZERO32)
    with expect_revert("RootAlreadyAnchored", (root,)):
        world.tx(A, world.anchorer, "anchor", root, 2, os.urandom(32))


def test_anchor_rejects_zero_root_and_empty_batch(world: World):
    with expect_revert("ZeroRoot", ()):
        world.tx(A, world.anchorer, "anchor", ZERO32, 1, ZERO32)
    with expect_revert("EmptyBatch", ()):
        world.tx(A, world.anchorer, "anchor", os.urandom(32), 0, ZERO32)


@pytest.mark.parametrize("who", ["stranger", "issuer", "province", "ministry"])
def test_anchor_rejects_accounts_that_are_not_anchoring_accounts(world: World, who):
    # Controllers are not anchoring accounts unless bound as such.
    signer = getattr(world, who)
    with expect_revert("NotAnchoringAccount", (signer.address,)):
        world.tx(A, signer, "anchor", os.urandom(32), 1, ZERO32)


def test_anchor_rejects_an_unbound_account(world: World):
    world.tx(T, world.issuer, "setAnchoringAccount", ISSUER_ID, world.anchorer.address, False)
    with expect_revert("NotAnchoringAccount", (world.anchorer.address,)):
        world.tx(A, world.anchorer, "anchor", os.urandom(32), 1, ZERO32)


@pytest.mark.parametrize(
    ("target", "status"),
    [(ISSUER_ID, SUSPENDED), (ISSUER_ID, REVOKED), (GUANGDONG, SUSPENDED), (GUANGDONG, REVOKED)],
)
def test_anchor_rejects_an_inactive_entity_or_ancestor(world: World, target, status):
    accreditor = world.ministry if target == GUANGDONG else world.province
    world.tx(T, accreditor, "setEntityStatus", target, status, 0)
    with expect_revert("EntityNotActive", (ISSUER_ID,)):
        world.tx(A, world.anchorer, "anchor", os.urandom(32), 1, ZERO32)


def test_anchoring_resumes_after_reinstatement(world: World):
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, SUSPENDED, 0)
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, ACTIVE, 0)
    world.tx(A, world.anchorer, "anchor", os.urandom(32), 1, ZERO32)


def test_constructor_rejects_zero_trust_registry(world: World):
    art = artifact(A)
    with expect_revert("ZeroAddress", ()):
        world.chain.deploy(world.stranger, art["abi"], art["bytecode"], (ZERO_ADDRESS,))
