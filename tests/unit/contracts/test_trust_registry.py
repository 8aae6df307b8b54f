"""TrustRegistry: accreditation tree, status, credential types, controllers, anchoring accounts,
keys; every write and every reject path, on both backends."""

from __future__ import annotations

import os

import pytest
from eth_utils import keccak

from node_adapter.errors import TransactionReverted
from tests.fixtures.chain import MINISTRY_REGION
from wallet_sdk.jose import Curve, Jwk

from .conftest import (
    ACTIVE,
    CARD_ISSUER,
    COURT,
    DATA_USER,
    DATA_USER_ID,
    EMPLOYER,
    EMPLOYER_ID,
    GUANGDONG,
    ISSUER,
    ISSUER_ID,
    MINISTRY,
    MINISTRY_ID,
    NONE,
    PROVINCE,
    REVOKED,
    SKILL_CERT,
    SUSPENDED,
    World,
    artifact,
    expect_revert,
    org_id,
)

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ED25519_KEY = bytes(range(32))
P256_KEY = b"\x04" + bytes(range(64))
SECP256K1_KEY = b"\x04" + bytes(range(100, 164))
P384_KEY = Jwk.generate(Curve.P384).raw_public_key()
P521_KEY = Jwk.generate(Curve.P521).raw_public_key()
SM2_KEY = Jwk.generate(Curve.SM2).raw_public_key()
NEW_ISSUER = org_id("GZ-TECH-SCHOOL")
T = "TrustRegistry"
CLIENT_AUTHENTICATION, CREDENTIAL_SIGNING, DOCUMENT_SIGNING, ANCHORING = 1, 2, 3, 4


def _key_param_id(value: object) -> str:
    """Test ids that name a key by its first byte and length, not its raw bytes."""
    if isinstance(value, bytes):
        return f"{value[:1].hex() or 'empty'}-{len(value)}B"
    return str(value)


def _key_id() -> bytes:
    return os.urandom(32)


def _register_key(
    world: World,
    key_id: bytes,
    valid_from: int,
    valid_until: int = 0,
    alg: int = 1,
    purpose: int = CREDENTIAL_SIGNING,
):
    public_key = {1: ED25519_KEY, 2: P256_KEY, 3: SECP256K1_KEY}[alg]
    return world.tx(
        T,
        world.issuer,
        "registerKey",
        ISSUER_ID,
        key_id,
        alg,
        purpose,
        public_key,
        valid_from,
        valid_until,
    )


def _registered_at(world: World, key_id: bytes) -> int:
    return int(world.call(T, "getKey", key_id)[3])


# -- constructor -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((ZERO32, 110000, None), "ZeroId"),
        ((MINISTRY_ID, 99999, None), "InvalidRegion"),
        ((MINISTRY_ID, 1_000_000, None), "InvalidRegion"),
        ((MINISTRY_ID, 110000, ZERO_ADDRESS), "ZeroAddress"),
    ],
)
def test_constructor_rejects_bad_arguments(world: World, args, error):
    ministry_id, region, controller = args
    art = artifact(T)
    with expect_revert(error):
        world.chain.deploy(
            world.stranger,
            art["abi"],
            art["bytecode"],
            (ministry_id, region, controller or world.stranger.address),
        )


def test_constructor_sets_up_the_ministry(world: World):
    assert world.call(T, "ministryId") == MINISTRY_ID
    assert world.call(T, "entity", MINISTRY_ID) == (MINISTRY, MINISTRY_REGION, ZERO32, ACTIVE)
    assert world.call(T, "isController", MINISTRY_ID, world.ministry.address)
    assert world.call(T, "isActive", MINISTRY_ID)
    assert world.call(T, "isActiveAt", MINISTRY_ID, world.now())
    assert world.call(T, "statusAt", MINISTRY_ID, 0) == NONE


# -- accredit ----------------------------------------------------------------------------------


def test_accredit_records_the_entity_and_its_controllers(world: World):
    receipt = world.tx(
        T,
        world.province,
        "accredit",
        NEW_ISSUER,
        ISSUER,
        440103,
        GUANGDONG,
        [world.spare[0].address],
    )
    at = world.time_of(receipt)
    accredited = receipt.event("EntityAccredited").args
    assert (accredited["id"], accredited["kind"], accredited["region"], accredited["parent"]) == (
        NEW_ISSUER,
        ISSUER,
        440103,
        GUANGDONG,
    )
    controller = receipt.event("ControllerSet").args
    assert (controller["id"], controller["account"], controller["enabled"]) == (
        NEW_ISSUER,
        world.spare[0].address,
        True,
    )
    assert world.call(T, "entity", NEW_ISSUER) == (ISSUER, 440103, GUANGDONG, ACTIVE)
    assert world.call(T, "isController", NEW_ISSUER, world.spare[0].address)
    assert not world.call(T, "isController", NEW_ISSUER, world.province.address)
    assert world.call(T, "statusAt", NEW_ISSUER, at) == ACTIVE
    assert world.call(T, "statusAt", NEW_ISSUER, at - 1) == NONE
    assert world.call(T, "isActiveAt", NEW_ISSUER, at)
    assert not world.call(T, "isActiveAt", NEW_ISSUER, at - 1)


@pytest.mark.parametrize("kind", [ISSUER, EMPLOYER, DATA_USER, COURT, CARD_ISSUER])
def test_province_accredits_every_leaf_kind(world: World, kind):
    world.tx(T, world.province, "accredit", NEW_ISSUER, kind, 440999, GUANGDONG, [])
    assert world.call(T, "entity", NEW_ISSUER)[0] == kind


def test_accredit_rejects_zero_id(world: World):
    with expect_revert("ZeroId", ()):
        world.tx(T, world.province, "accredit", ZERO32, ISSUER, 440100, GUANGDONG, [])


def test_accredit_rejects_unknown_parent(world: World):
    unknown = org_id("NOWHERE")
    with expect_revert("UnknownEntity", (unknown,)):
        world.tx(T, world.province, "accredit", NEW_ISSUER, ISSUER, 440100, unknown, [])


def test_accredit_rejects_unauthorised_account(world: World):
    with expect_revert("NotController", (GUANGDONG, world.stranger.address)):
        world.tx(T, world.stranger, "accredit", NEW_ISSUER, ISSUER, 440100, GUANGDONG, [])


def test_accredit_rejects_ministry_controller_acting_for_a_province(world: World):
    # Authority does not flow down: the Ministry accredits provinces, not their issuers.
    with expect_revert("NotController", (GUANGDONG, world.ministry.address)):
        world.tx(T, world.ministry, "accredit", NEW_ISSUER, ISSUER, 440100, GUANGDONG, [])


def test_accredit_rejects_suspended_parent(world: World):
    world.tx(T, world.ministry, "setEntityStatus", GUANGDONG, SUSPENDED, 7)
    with expect_revert("EntityNotActive", (GUANGDONG,)):
        world.tx(T, world.province, "accredit", NEW_ISSUER, ISSUER, 440100, GUANGDONG, [])


def test_accredit_rejects_existing_id_even_under_another_parent(world: World):
    with expect_revert("EntityExists", (ISSUER_ID,)):
        world.tx(T, world.province, "accredit", ISSUER_ID, EMPLOYER, 440100, GUANGDONG, [])
    with expect_revert("EntityExists", (GUANGDONG,)):
        world.tx(T, world.ministry, "accredit", GUANGDONG, PROVINCE, 440000, MINISTRY_ID, [])


@pytest.mark.parametrize("region", [0, 99999, 1_000_000])
def test_accredit_rejects_invalid_region(world: World, region):
    with expect_revert("InvalidRegion", (region,)):
        world.tx(T, world.province, "accredit", NEW_ISSUER, ISSUER, region, GUANGDONG, [])


def test_accredit_rejects_region_outside_the_province(world: World):
    with expect_revert("RegionMismatch", (440000, 450100)):
        world.tx(T, world.province, "accredit", NEW_ISSUER, ISSUER, 450100, GUANGDONG, [])


@pytest.mark.parametrize(
    ("parent_is_ministry", "kind"),
    [
        (True, ISSUER),
        (True, MINISTRY),
        (True, 0),
        (False, PROVINCE),
        (False, MINISTRY),
        (False, 0),
        (False, 8),
        (True, EMPLOYER),
    ],
)
def test_accredit_rejects_wrong_kind(world: World, parent_is_ministry, kind):
    signer, parent, parent_kind, region = (
        (world.ministry, MINISTRY_ID, MINISTRY, 450000)
        if parent_is_ministry
        else (world.province, GUANGDONG, PROVINCE, 440100)
    )
    with expect_revert("KindNotAllowed", (parent_kind, kind)):
        world.tx(T, signer, "accredit", NEW_ISSUER, kind, region, parent, [])


def test_the_ministry_accredits_the_national_card_platform(world: World):
    # A card issuer directly under the Ministry has no province to be suspended with, so it is
    # active (now and as of a time) while it and the Ministry are.
    receipt = world.tx(
        T, world.ministry, "accredit", NEW_ISSUER, CARD_ISSUER, 100000, MINISTRY_ID, []
    )
    at = world.time_of(receipt)
    assert world.call(T, "entity", NEW_ISSUER) == (CARD_ISSUER, 100000, MINISTRY_ID, ACTIVE)
    assert world.call(T, "isActive", NEW_ISSUER)
    assert world.call(T, "isActiveAt", NEW_ISSUER, at)
    world.tx(T, world.ministry, "setEntityStatus", GUANGDONG, SUSPENDED, 7)
    assert world.call(T, "isActive", NEW_ISSUER)  # a province's suspension is not the platform's
    world.tx(T, world.ministry, "setEntityStatus", NEW_ISSUER, SUSPENDED, 7)
    assert not world.call(T, "isActive", NEW_ISSUER)


def test_leaf_entities_cannot_accredit(world: World):
    with expect_revert("KindNotAllowed", (ISSUER, ISSUER)):
        world.tx(T, world.issuer, "accredit", NEW_ISSUER, ISSUER, 440100, ISSUER_ID, [])


def test_accredit_rejects_zero_controller(world: World):
    with expect_revert("ZeroAddress", ()):
        world.tx(
            T, world.province, "accredit", NEW_ISSUER, ISSUER, 440100, GUANGDONG, [ZERO_ADDRESS]
        )


# -- setEntityStatus ---------------------------------------------------------------------------


def test_status_changes_keep_history(world: World):
    t0 = world.now()
    world.advance(100)
    suspended = world.tx(T, world.province, "setEntityStatus", ISSUER_ID, SUSPENDED, 42)
    t1 = world.time_of(suspended)
    event = suspended.event("EntityStatusChanged").args
    assert (event["id"], event["status"], event["reason"], event["at"]) == (
        ISSUER_ID,
        SUSPENDED,
        42,
        t1,
    )
    world.advance(100)
    t2 = world.time_of(world.tx(T, world.province, "setEntityStatus", ISSUER_ID, ACTIVE, 0))
    world.advance(100)
    t3 = world.time_of(world.tx(T, world.province, "setEntityStatus", ISSUER_ID, REVOKED, 9))

    assert world.call(T, "entity", ISSUER_ID)[3] == REVOKED
    assert [
        world.call(T, "statusAt", ISSUER_ID, t) for t in (t0, t1 - 1, t1, t2 - 1, t2, t3 - 1, t3)
    ] == [
        ACTIVE,
        ACTIVE,
        SUSPENDED,
        SUSPENDED,
        ACTIVE,
        ACTIVE,
        REVOKED,
    ]
    assert world.call(T, "statusWithReasonAt", ISSUER_ID, t1) == (SUSPENDED, 42)
    assert world.call(T, "statusWithReasonAt", ISSUER_ID, t3) == (REVOKED, 9)
    assert world.call(T, "isActiveAt", ISSUER_ID, t1 - 1)
    assert not world.call(T, "isActiveAt", ISSUER_ID, t1)
    assert world.call(T, "isActiveAt", ISSUER_ID, t2)
    assert not world.call(T, "isActive", ISSUER_ID)


def test_revoked_is_terminal(world: World):
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, REVOKED, 1)
    for status in (ACTIVE, SUSPENDED, REVOKED):
        with expect_revert("EntityRevoked", (ISSUER_ID,)):
            world.tx(T, world.province, "setEntityStatus", ISSUER_ID, status, 0)


def test_a_suspended_province_deactivates_its_entities(world: World):
    world.advance(10)
    t = world.time_of(world.tx(T, world.ministry, "setEntityStatus", GUANGDONG, SUSPENDED, 3))
    assert world.call(T, "statusAt", ISSUER_ID, t) == ACTIVE  # the issuer's own status is unchanged
    assert not world.call(T, "isActiveAt", ISSUER_ID, t)
    assert world.call(T, "isActiveAt", ISSUER_ID, t - 1)
    assert not world.call(T, "isActive", ISSUER_ID)
    assert not world.call(T, "isActive", GUANGDONG)
    world.tx(T, world.ministry, "setEntityStatus", GUANGDONG, ACTIVE, 0)
    assert world.call(T, "isActive", ISSUER_ID)


def test_entity_cannot_change_its_own_status(world: World):
    with expect_revert("NotController", (GUANGDONG, world.issuer.address)):
        world.tx(T, world.issuer, "setEntityStatus", ISSUER_ID, SUSPENDED, 0)


def test_set_entity_status_rejects_unauthorised_account(world: World):
    with expect_revert("NotController", (GUANGDONG, world.stranger.address)):
        world.tx(T, world.stranger, "setEntityStatus", ISSUER_ID, SUSPENDED, 0)


def test_ministry_status_cannot_change(world: World):
    with expect_revert("NotController", (ZERO32, world.ministry.address)):
        world.tx(T, world.ministry, "setEntityStatus", MINISTRY_ID, SUSPENDED, 0)


def test_set_entity_status_rejects_unknown_entity(world: World):
    with expect_revert("UnknownEntity", (NEW_ISSUER,)):
        world.tx(T, world.province, "setEntityStatus", NEW_ISSUER, SUSPENDED, 0)


@pytest.mark.parametrize("status", [NONE, 4, 255])
def test_set_entity_status_rejects_invalid_status(world: World, status):
    with expect_revert("InvalidStatus", (status,)):
        world.tx(T, world.province, "setEntityStatus", ISSUER_ID, status, 0)


def test_set_entity_status_rejects_no_op(world: World):
    with expect_revert("StatusUnchanged", (ISSUER_ID, ACTIVE)):
        world.tx(T, world.province, "setEntityStatus", ISSUER_ID, ACTIVE, 0)


# -- setCredentialType / isAccreditedFor -------------------------------------------------------


def test_credential_types_keep_history(world: World):
    other_type = os.urandom(32)
    assert not world.call(T, "isAccreditedFor", ISSUER_ID, other_type, world.now())
    world.advance(10)
    allowed = world.tx(T, world.province, "setCredentialType", ISSUER_ID, other_type, True)
    t1 = world.time_of(allowed)
    event = allowed.event("CredentialTypeSet").args
    assert (event["id"], event["credentialType"], event["allowed"], event["at"]) == (
        ISSUER_ID,
        other_type,
        True,
        t1,
    )
    world.advance(10)
    t2 = world.time_of(
        world.tx(T, world.province, "setCredentialType", ISSUER_ID, other_type, False)
    )
    assert not world.call(T, "isAccreditedFor", ISSUER_ID, other_type, t1 - 1)
    assert world.call(T, "isAccreditedFor", ISSUER_ID, other_type, t1)
    assert world.call(T, "isAccreditedFor", ISSUER_ID, other_type, t2 - 1)
    assert not world.call(T, "isAccreditedFor", ISSUER_ID, other_type, t2)
    # Other types are unaffected.
    assert world.call(T, "isAccreditedFor", ISSUER_ID, SKILL_CERT, t2)


def test_accreditation_for_a_type_needs_an_active_entity(world: World):
    world.advance(10)
    t = world.time_of(world.tx(T, world.province, "setEntityStatus", ISSUER_ID, SUSPENDED, 0))
    assert world.call(T, "isAccreditedFor", ISSUER_ID, SKILL_CERT, t - 1)
    assert not world.call(T, "isAccreditedFor", ISSUER_ID, SKILL_CERT, t)


CARD_TYPE = keccak(text="urn:hrss:vct:social-security-card:1")


def test_the_card_type_is_allowed_only_to_a_card_issuer(world: World):
    assert world.call(T, "SOCIAL_SECURITY_CARD_TYPE") == CARD_TYPE
    with expect_revert("CardTypeNotAllowedForKind", (ISSUER_ID, ISSUER)):
        world.tx(T, world.province, "setCredentialType", ISSUER_ID, CARD_TYPE, True)
    world.tx(T, world.province, "setCredentialType", ISSUER_ID, CARD_TYPE, False)  # no harm
    world.tx(T, world.province, "accredit", NEW_ISSUER, CARD_ISSUER, 440100, GUANGDONG, [])
    receipt = world.tx(T, world.province, "setCredentialType", NEW_ISSUER, CARD_TYPE, True)
    at = world.time_of(receipt)
    assert world.call(T, "isAccreditedFor", NEW_ISSUER, CARD_TYPE, at)
    assert not world.call(T, "isAccreditedFor", ISSUER_ID, CARD_TYPE, at)


def test_entity_cannot_allow_itself_a_type(world: World):
    with expect_revert("NotController", (GUANGDONG, world.issuer.address)):
        world.tx(T, world.issuer, "setCredentialType", ISSUER_ID, os.urandom(32), True)


def test_set_credential_type_rejects_unknown_and_revoked_entities(world: World):
    with expect_revert("UnknownEntity", (NEW_ISSUER,)):
        world.tx(T, world.province, "setCredentialType", NEW_ISSUER, SKILL_CERT, True)
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, REVOKED, 0)
    with expect_revert("EntityRevoked", (ISSUER_ID,)):
        world.tx(T, world.province, "setCredentialType", ISSUER_ID, SKILL_CERT, True)


# -- publishCredentialType ----------------------------------------------------------------------


def test_the_ministry_publishes_a_type_schema_digest_once(world: World):
    new_type, digest = keccak(text="https://hrss.example/schemas/welder.json"), os.urandom(32)
    assert world.call(T, "credentialTypeSchema", new_type) == (bytes(32), ZERO_ADDRESS, 0)
    receipt = world.tx(T, world.ministry, "publishCredentialType", new_type, digest)
    at = world.time_of(receipt)
    event = receipt.event("CredentialTypePublished").args
    assert (event["credentialType"], event["schemaDigest"], event["at"]) == (new_type, digest, at)
    assert event["publisher"] == world.ministry.address
    assert world.call(T, "credentialTypeSchema", new_type) == (digest, world.ministry.address, at)
    # Fixed for ever: a new schema is a new type (a new $id), never a new digest for this one.
    with expect_revert("CredentialTypeExists", (new_type, digest)):
        world.tx(T, world.ministry, "publishCredentialType", new_type, os.urandom(32))
    # A province accredits an issuer for it with the existing call.
    world.advance(10)
    allowed = world.tx(T, world.province, "setCredentialType", ISSUER_ID, new_type, True)
    assert world.call(T, "isAccreditedFor", ISSUER_ID, new_type, world.time_of(allowed))


def test_only_the_ministry_publishes_types_and_never_a_zero_one(world: World):
    new_type = keccak(text="https://hrss.example/schemas/welder.json")
    with expect_revert("NotController", (MINISTRY_ID, world.province.address)):
        world.tx(T, world.province, "publishCredentialType", new_type, os.urandom(32))
    with expect_revert("ZeroId"):
        world.tx(T, world.ministry, "publishCredentialType", new_type, bytes(32))
    with expect_revert("ZeroId"):
        world.tx(T, world.ministry, "publishCredentialType", bytes(32), os.urandom(32))


# -- setController -----------------------------------------------------------------------------


def test_controllers_manage_peers_and_accreditor_can_recover(world: World):
    peer = world.spare[0].address
    receipt = world.tx(T, world.issuer, "setController", ISSUER_ID, peer, True)
    event = receipt.event("ControllerSet").args
    assert (event["id"], event["account"], event["enabled"]) == (ISSUER_ID, peer, True)
    assert world.call(T, "isController", ISSUER_ID, peer)
    world.tx(T, world.spare[0], "setController", ISSUER_ID, world.issuer.address, False)
    assert not world.call(T, "isController", ISSUER_ID, world.issuer.address)
    # The accreditor's controller restores access.
    world.tx(T, world.province, "setController", ISSUER_ID, world.issuer.address, True)
    assert world.call(T, "isController", ISSUER_ID, world.issuer.address)


def test_set_controller_rejects_unauthorised_account(world: World):
    with expect_revert("NotController", (ISSUER_ID, world.stranger.address)):
        world.tx(T, world.stranger, "setController", ISSUER_ID, world.stranger.address, True)
    # A sibling's controller has no say either.
    with expect_revert("NotController", (ISSUER_ID, world.employer.address)):
        world.tx(T, world.employer, "setController", ISSUER_ID, world.employer.address, True)


def test_set_controller_rejects_zero_address_unknown_and_revoked(world: World):
    with expect_revert("ZeroAddress", ()):
        world.tx(T, world.issuer, "setController", ISSUER_ID, ZERO_ADDRESS, True)
    with expect_revert("UnknownEntity", (NEW_ISSUER,)):
        world.tx(T, world.province, "setController", NEW_ISSUER, world.stranger.address, True)
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, REVOKED, 0)
    with expect_revert("EntityRevoked", (ISSUER_ID,)):
        world.tx(T, world.province, "setController", ISSUER_ID, world.stranger.address, True)


# -- setAnchoringAccount / anchoringEntityAt ---------------------------------------------------


def test_anchoring_accounts_keep_history(world: World):
    account = world.spare[0].address
    t0 = world.now()
    world.advance(10)
    bound = world.tx(T, world.employer, "setAnchoringAccount", EMPLOYER_ID, account, True)
    t1 = world.time_of(bound)
    event = bound.event("AnchoringAccountSet").args
    assert (event["id"], event["account"], event["enabled"], event["at"]) == (
        EMPLOYER_ID,
        account,
        True,
        t1,
    )
    assert world.call(T, "activeAnchoringEntity", account) == (EMPLOYER_ID, True)
    world.advance(10)
    t2 = world.time_of(
        world.tx(T, world.employer, "setAnchoringAccount", EMPLOYER_ID, account, False)
    )
    assert world.call(T, "activeAnchoringEntity", account) == (ZERO32, False)
    world.advance(10)
    # Once unbound, the account may serve another entity.
    t3 = world.time_of(
        world.tx(T, world.data_user, "setAnchoringAccount", DATA_USER_ID, account, True)
    )
    assert [
        world.call(T, "anchoringEntityAt", account, t) for t in (t0, t1, t2 - 1, t2, t3 - 1, t3)
    ] == [
        ZERO32,
        EMPLOYER_ID,
        EMPLOYER_ID,
        ZERO32,
        ZERO32,
        DATA_USER_ID,
    ]
    assert world.call(T, "anchoringEntityAt", world.stranger.address, t3) == ZERO32


def test_active_anchoring_entity_reflects_the_tree(world: World):
    assert world.call(T, "activeAnchoringEntity", world.anchorer.address) == (ISSUER_ID, True)
    world.tx(T, world.ministry, "setEntityStatus", GUANGDONG, SUSPENDED, 0)
    assert world.call(T, "activeAnchoringEntity", world.anchorer.address) == (ISSUER_ID, False)


def test_an_account_anchors_for_one_entity_only(world: World):
    with expect_revert("AnchoringAccountTaken", (world.anchorer.address, ISSUER_ID)):
        world.tx(
            T, world.employer, "setAnchoringAccount", EMPLOYER_ID, world.anchorer.address, True
        )
    with expect_revert("AnchoringAccountTaken", (world.anchorer.address, ISSUER_ID)):
        world.tx(T, world.issuer, "setAnchoringAccount", ISSUER_ID, world.anchorer.address, True)


def test_unbinding_another_entitys_account_is_rejected(world: World):
    with expect_revert("AnchoringAccountNotSet", (EMPLOYER_ID, world.anchorer.address)):
        world.tx(
            T, world.employer, "setAnchoringAccount", EMPLOYER_ID, world.anchorer.address, False
        )


def test_set_anchoring_account_rejects_unauthorised_account(world: World):
    with expect_revert("NotController", (ISSUER_ID, world.stranger.address)):
        world.tx(T, world.stranger, "setAnchoringAccount", ISSUER_ID, world.stranger.address, True)
    # Binding is the entity's own business, not the accreditor's.
    with expect_revert("NotController", (ISSUER_ID, world.province.address)):
        world.tx(T, world.province, "setAnchoringAccount", ISSUER_ID, world.stranger.address, True)


def test_set_anchoring_account_rejects_zero_unknown_and_revoked(world: World):
    with expect_revert("ZeroAddress", ()):
        world.tx(T, world.issuer, "setAnchoringAccount", ISSUER_ID, ZERO_ADDRESS, True)
    with expect_revert("UnknownEntity", (NEW_ISSUER,)):
        world.tx(T, world.issuer, "setAnchoringAccount", NEW_ISSUER, world.stranger.address, True)
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, REVOKED, 0)
    with expect_revert("EntityRevoked", (ISSUER_ID,)):
        world.tx(T, world.issuer, "setAnchoringAccount", ISSUER_ID, world.stranger.address, True)
    # A revoked entity may still release its accounts.
    world.tx(T, world.issuer, "setAnchoringAccount", ISSUER_ID, world.anchorer.address, False)


# -- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "public_key"),
    [
        (1, ED25519_KEY),
        (2, P256_KEY),
        (3, SECP256K1_KEY),
        (4, P384_KEY),
        (5, P521_KEY),
        (6, SM2_KEY),
    ],
    ids=_key_param_id,
)
def test_register_key_for_each_algorithm(world: World, alg, public_key):
    key_id = _key_id()
    start = world.now() + 10
    receipt = world.tx(
        T,
        world.issuer,
        "registerKey",
        ISSUER_ID,
        key_id,
        alg,
        CREDENTIAL_SIGNING,
        public_key,
        start,
        start + 1000,
    )
    event = receipt.event("KeyRegistered").args
    assert (
        event["id"],
        event["keyId"],
        event["alg"],
        event["purpose"],
        event["validFrom"],
        event["validUntil"],
    ) == (ISSUER_ID, key_id, alg, CREDENTIAL_SIGNING, start, start + 1000)
    assert world.call(T, "getKey", key_id) == (
        ISSUER_ID,
        alg,
        public_key,
        start,
        start + 1000,
        0,
        CREDENTIAL_SIGNING,
    )


def test_algorithm_constants_are_the_sdk_table(world: World):
    constants = {
        Curve.ED25519: "ALG_ED25519",
        Curve.P256: "ALG_P256",
        Curve.SECP256K1: "ALG_SECP256K1",
        Curve.P384: "ALG_P384",
        Curve.P521: "ALG_P521",
        Curve.SM2: "ALG_SM2",
    }
    assert {curve: world.call(T, name) for curve, name in constants.items()} == {
        curve: curve.registry_code for curve in Curve
    }


@pytest.mark.parametrize(
    "purpose", [CLIENT_AUTHENTICATION, CREDENTIAL_SIGNING, DOCUMENT_SIGNING, ANCHORING]
)
def test_register_key_records_its_purpose(world: World, purpose):
    key_id = _key_id()
    receipt = _register_key(world, key_id, 0, purpose=purpose)
    assert receipt.event("KeyRegistered").args["purpose"] == purpose
    assert world.call(T, "getKey", key_id)[6] == purpose


@pytest.mark.parametrize("purpose", [0, 5, 255])
def test_register_key_rejects_an_unknown_purpose(world: World, purpose):
    with expect_revert("InvalidKeyPurpose", (purpose,)):
        _register_key(world, _key_id(), 0, purpose=purpose)


def test_register_key_validity_starts_at_the_registration_block_at_the_earliest(world: World):
    # A key must never vouch for a time before the chain saw it: a validFrom before the
    # registration block would let a new key sign credentials dated into the past.
    block_time = world.advance(10)
    with expect_revert("ValidityStartsBeforeRegistration", (block_time - 1, block_time)):
        _register_key(world, _key_id(), block_time - 1)
    key_id = _key_id()
    receipt = _register_key(world, key_id, 0)  # 0: from this block
    assert receipt.event("KeyRegistered").args["validFrom"] == world.time_of(receipt)
    assert _registered_at(world, key_id) == world.time_of(receipt)


def test_key_validity_window(world: World):
    key_id = _key_id()
    start = world.now() + 100
    _register_key(world, key_id, start, start + 1000)
    valid = [
        world.call(T, "isKeyValidAt", key_id, t)
        for t in (start - 1, start, start + 999, start + 1000)
    ]
    assert valid == [False, True, True, False]
    open_ended = _key_id()
    _register_key(world, open_ended, start)
    assert world.call(T, "isKeyValidAt", open_ended, 2**63)
    assert not world.call(T, "isKeyValidAt", _key_id(), start)  # unknown key
    assert world.call(T, "getKey", _key_id()) == (ZERO32, 0, b"", 0, 0, 0, 0)


def test_key_validity_follows_the_entity_status_history(world: World):
    key_id = _key_id()
    _register_key(world, key_id, 0)
    world.advance(10)
    t_suspended = world.time_of(
        world.tx(T, world.ministry, "setEntityStatus", GUANGDONG, SUSPENDED, 0)
    )
    assert world.call(T, "isKeyValidAt", key_id, t_suspended - 1)
    assert not world.call(T, "isKeyValidAt", key_id, t_suspended)


def test_register_key_rejects_duplicates_forever(world: World):
    key_id = _key_id()
    _register_key(world, key_id, 0)
    with expect_revert("KeyExists", (key_id,)):
        _register_key(world, key_id, 0)
    with expect_revert("KeyExists", (key_id,)):
        world.tx(
            T,
            world.employer,
            "registerKey",
            EMPLOYER_ID,
            key_id,
            1,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )


@pytest.mark.parametrize("alg", [0, 7, 255])
def test_register_key_rejects_unknown_algorithm(world: World, alg):
    with expect_revert("UnsupportedKeyAlgorithm", (alg,)):
        world.tx(
            T,
            world.issuer,
            "registerKey",
            ISSUER_ID,
            _key_id(),
            alg,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )


@pytest.mark.parametrize(
    ("alg", "public_key"),
    [
        (1, bytes(31)),
        (1, bytes(33)),
        (2, bytes(64)),
        (2, b"\x02" + bytes(64)),
        (3, b"\x04" + bytes(63)),
        (3, b""),
        # P-384: 97 bytes with the 0x04 prefix, never a P-256 or P-521 length.
        (4, P256_KEY),
        (4, P384_KEY[:-1]),
        (4, P384_KEY + b"\x00"),
        (4, b"\x03" + P384_KEY[1:]),
        # P-521: 133 bytes with the 0x04 prefix.
        (5, P384_KEY),
        (5, P521_KEY[:-1]),
        (5, b"\x02" + P521_KEY[1:]),
        # SM2: 65 bytes with the 0x04 prefix, like P-256.
        (6, SM2_KEY[:-1]),
        (6, P384_KEY),
        (6, b"\x02" + SM2_KEY[1:]),
        (6, ED25519_KEY),
    ],
    ids=_key_param_id,
)
def test_register_key_rejects_malformed_public_key(world: World, alg, public_key):
    with expect_revert("InvalidPublicKey", (alg, len(public_key))):
        world.tx(
            T,
            world.issuer,
            "registerKey",
            ISSUER_ID,
            _key_id(),
            alg,
            CREDENTIAL_SIGNING,
            public_key,
            0,
            0,
        )


def test_register_key_rejects_empty_window_and_zero_id(world: World):
    start = world.now() + 100
    with expect_revert("InvalidValidity", (start, start)):
        _register_key(world, _key_id(), start, start)
    with expect_revert("InvalidValidity", (start, start - 1)):
        _register_key(world, _key_id(), start, start - 1)
    with expect_revert("ZeroId", ()):
        world.tx(
            T,
            world.issuer,
            "registerKey",
            ISSUER_ID,
            ZERO32,
            1,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )


@pytest.mark.parametrize("target", [ISSUER_ID, GUANGDONG])
def test_register_key_rejects_a_suspended_entity_or_province(world: World, target):
    # A suspended issuer could otherwise add a key valid from the past and backdate credentials.
    accreditor = world.ministry if target == GUANGDONG else world.province
    world.tx(T, accreditor, "setEntityStatus", target, SUSPENDED, 0)
    with expect_revert("EntityNotActive", (ISSUER_ID,)):
        world.tx(
            T,
            world.issuer,
            "registerKey",
            ISSUER_ID,
            _key_id(),
            1,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )


def test_register_key_rejects_unauthorised_unknown_and_revoked(world: World):
    with expect_revert("NotController", (ISSUER_ID, world.stranger.address)):
        world.tx(
            T,
            world.stranger,
            "registerKey",
            ISSUER_ID,
            _key_id(),
            1,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )
    with expect_revert("NotController", (ISSUER_ID, world.province.address)):
        world.tx(
            T,
            world.province,
            "registerKey",
            ISSUER_ID,
            _key_id(),
            1,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )
    with expect_revert("UnknownEntity", (NEW_ISSUER,)):
        world.tx(
            T,
            world.issuer,
            "registerKey",
            NEW_ISSUER,
            _key_id(),
            1,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, REVOKED, 0)
    with expect_revert("EntityRevoked", (ISSUER_ID,)):
        world.tx(
            T,
            world.issuer,
            "registerKey",
            ISSUER_ID,
            _key_id(),
            1,
            CREDENTIAL_SIGNING,
            ED25519_KEY,
            0,
            0,
        )


@pytest.mark.parametrize("by_accreditor", [False, True])
def test_end_key_validity_shortens_only(world: World, by_accreditor):
    signer = world.province if by_accreditor else world.issuer
    key_id = _key_id()
    _register_key(world, key_id, 0)
    start = _registered_at(world, key_id)
    receipt = world.tx(T, signer, "endKeyValidity", key_id, start + 500)
    event = receipt.event("KeyValidityEnded").args
    assert (event["keyId"], event["validUntil"]) == (key_id, start + 500)
    assert world.call(T, "getKey", key_id)[4] == start + 500
    assert world.call(T, "isKeyValidAt", key_id, start + 499)
    assert not world.call(T, "isKeyValidAt", key_id, start + 500)
    world.tx(T, signer, "endKeyValidity", key_id, start + 400)
    for longer in (start + 400, start + 401, 0):
        with expect_revert("ValidityNotShortened", (start + 400, longer)):
            world.tx(T, signer, "endKeyValidity", key_id, longer)
    with expect_revert("InvalidValidity", (start, start)):
        world.tx(T, signer, "endKeyValidity", key_id, start)


def test_end_key_validity_rejects_unknown_key_and_unauthorised_account(world: World):
    key_id = _key_id()
    with expect_revert("UnknownKey", (key_id,)):
        world.tx(T, world.issuer, "endKeyValidity", key_id, 1)
    _register_key(world, key_id, 0)
    with expect_revert("NotController", (ISSUER_ID, world.stranger.address)):
        world.tx(T, world.stranger, "endKeyValidity", key_id, 1)
    with expect_revert("NotController", (ISSUER_ID, world.ministry.address)):
        world.tx(T, world.ministry, "endKeyValidity", key_id, 1)


@pytest.mark.parametrize("by_accreditor", [False, True])
def test_revoke_key_backdates_and_only_moves_earlier(world: World, by_accreditor):
    signer = world.province if by_accreditor else world.issuer
    key_id = _key_id()
    start = world.now() + 10
    _register_key(world, key_id, start, start + 10_000)
    world.advance(1000)
    receipt = world.tx(T, signer, "revokeKey", key_id, start + 300)  # backdated
    event = receipt.event("KeyRevoked").args
    assert (event["keyId"], event["revokedAt"]) == (key_id, start + 300)
    assert world.call(T, "getKey", key_id)[5] == start + 300
    assert world.call(T, "isKeyValidAt", key_id, start + 299)
    assert not world.call(T, "isKeyValidAt", key_id, start + 300)
    world.tx(T, signer, "revokeKey", key_id, start + 200)
    assert not world.call(T, "isKeyValidAt", key_id, start + 250)
    for later in (start + 201, 0):
        with expect_revert("RevocationNotEarlier", (start + 200, later)):
            world.tx(T, signer, "revokeKey", key_id, later)


def test_revoke_key_repeated_with_the_same_time_changes_nothing(world: World):
    # A retry after a lost answer must succeed, not fail: the key is revoked as asked.
    key_id = _key_id()
    _register_key(world, key_id, 0)
    start = _registered_at(world, key_id)
    world.advance(100)
    world.tx(T, world.issuer, "revokeKey", key_id, start + 50)
    again = world.tx(T, world.issuer, "revokeKey", key_id, start + 50)
    assert not [e for e in again.events if e.name == "KeyRevoked"]
    assert world.call(T, "getKey", key_id)[5] == start + 50


def test_revoke_key_never_lies_in_the_future(world: World):
    # A compromise time a year ahead would keep the key valid for that year: it is taken as
    # the revoking block (ending a key later is endKeyValidity).
    key_id = _key_id()
    _register_key(world, key_id, 0)
    block_time = world.advance(100)
    receipt = world.tx(T, world.issuer, "revokeKey", key_id, block_time + 365 * 86400)
    assert world.time_of(receipt) == block_time
    assert receipt.event("KeyRevoked").args["revokedAt"] == block_time
    assert world.call(T, "getKey", key_id)[5] == block_time
    assert not world.call(T, "isKeyValidAt", key_id, block_time)


def test_revoke_key_rejects_unknown_key_and_unauthorised_account(world: World):
    key_id = _key_id()
    with expect_revert("UnknownKey", (key_id,)):
        world.tx(T, world.issuer, "revokeKey", key_id, 1)
    _register_key(world, key_id, 0)
    with expect_revert("NotController", (ISSUER_ID, world.employer.address)):
        world.tx(T, world.employer, "revokeKey", key_id, 1)


def test_keys_of_a_revoked_entity_can_still_be_revoked(world: World):
    key_id = _key_id()
    _register_key(world, key_id, 0)
    world.tx(T, world.province, "setEntityStatus", ISSUER_ID, REVOKED, 0)
    world.tx(T, world.province, "revokeKey", key_id, 1)
    assert world.call(T, "getKey", key_id)[5] == 1


# -- views of unknown things -------------------------------------------------------------------


def test_views_of_unknown_entities_are_empty(world: World):
    unknown = org_id("NOWHERE")
    assert world.call(T, "entity", unknown) == (NONE, 0, ZERO32, NONE)
    assert world.call(T, "statusAt", unknown, world.now()) == NONE
    assert not world.call(T, "isActive", unknown)
    assert not world.call(T, "isActiveAt", unknown, world.now())
    assert not world.call(T, "isAccreditedFor", unknown, SKILL_CERT, world.now())
    assert not world.call(T, "isController", unknown, world.issuer.address)


def test_reverts_are_typed_errors(world: World):
    with pytest.raises(TransactionReverted) as info:
        world.tx(T, world.stranger, "setEntityStatus", ISSUER_ID, SUSPENDED, 0)
    assert info.value.error_name == "NotController"
    assert "NotController" in info.value.reason
