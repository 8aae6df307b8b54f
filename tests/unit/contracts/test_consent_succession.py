"""ConsentRegistry holder succession: a card issuer links a replaced phone's holder address to
the new one; the successor (transitively) may withdraw the old consents, strangers may not."""

from __future__ import annotations

import pytest

from node_adapter.signer import Signer

from .conftest import (
    CARD_ISSUER,
    DATA_USER_ID,
    GUANGDONG,
    ISSUER_ID,
    SUSPENDED,
    World,
    expect_revert,
    org_id,
)
from .test_consent_registry import do_grant, sign_withdrawal

C = "ConsentRegistry"
T = "TrustRegistry"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
CARD_CENTRE = org_id("GD-CARD-CENTRE")  # provincial card centre, region 440000


@pytest.fixture
def card_centre(world: World) -> Signer:
    """The controller of an accredited provincial card centre (a CardIssuer)."""
    controller = world.spare[0]  # a funded account with no other role in the tree
    world.tx(
        T, world.province, "accredit", CARD_CENTRE, CARD_ISSUER, 440000, GUANGDONG,
        [controller.address],
    )  # fmt: skip
    return controller


def phones(n: int) -> list[Signer]:
    """The holder keys of one person's successive phones (never funded: relayed)."""
    return [Signer.generate() for _ in range(n)]


def succeed(world: World, by: Signer, old: Signer, new: Signer) -> int:
    receipt = world.tx(C, by, "recordSuccession", CARD_CENTRE, old.address, new.address)
    return world.time_of(receipt)


def test_a_card_issuer_records_a_succession_with_its_time_and_event(
    world: World, card_centre: Signer
):
    old, new = phones(2)
    receipt = world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, old.address, new.address)
    at = world.time_of(receipt)
    assert dict(receipt.event("HolderSucceeded").args) == {
        "predecessor": old.address,
        "successor": new.address,
        "cardIssuer": CARD_CENTRE,
        "at": at,
    }
    assert world.call(C, "successorOf", old.address) == (new.address, at)
    assert world.call(C, "successorOf", new.address) == (ZERO_ADDRESS, 0)
    assert world.call(C, "isSuccessorOf", old.address, new.address)
    assert not world.call(C, "isSuccessorOf", new.address, old.address)


def test_only_an_active_card_issuers_controller_records_a_succession(
    world: World, card_centre: Signer
):
    old, new = phones(2)
    # Another account, even the card centre's accreditor, is not the card centre.
    for account in (world.stranger, world.province):
        with expect_revert("NotController", (CARD_CENTRE, account.address)):
            world.tx(C, account, "recordSuccession", CARD_CENTRE, old.address, new.address)
    # An issuer of skill certificates is accredited, but it is not a card issuer.
    with expect_revert("NotCardIssuer", (ISSUER_ID,)):
        world.tx(C, world.issuer, "recordSuccession", ISSUER_ID, old.address, new.address)
    with expect_revert("NotCardIssuer", (DATA_USER_ID,)):
        world.tx(C, world.data_user, "recordSuccession", DATA_USER_ID, old.address, new.address)
    world.tx(T, world.province, "setEntityStatus", CARD_CENTRE, SUSPENDED, 1)
    with expect_revert("EntityNotActive", (CARD_CENTRE,)):
        world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, old.address, new.address)
    with expect_revert("ZeroAddress", ()):
        world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, ZERO_ADDRESS, new.address)
    with expect_revert("ZeroAddress", ()):
        world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, old.address, ZERO_ADDRESS)
    assert world.call(C, "successorOf", old.address) == (ZERO_ADDRESS, 0)


def test_an_address_has_one_successor(world: World, card_centre: Signer):
    old, new, other = phones(3)
    succeed(world, card_centre, old, new)
    with expect_revert("SuccessorExists", (old.address, new.address)):
        world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, old.address, other.address)


def test_successions_never_form_a_cycle(world: World, card_centre: Signer):
    a, b, c = phones(3)
    with expect_revert("SuccessionCycle", (a.address, a.address)):
        world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, a.address, a.address)
    succeed(world, card_centre, a, b)
    succeed(world, card_centre, b, c)
    with expect_revert("SuccessionCycle", (c.address, a.address)):
        world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, c.address, a.address)
    with expect_revert("SuccessionCycle", (c.address, b.address)):
        world.tx(C, card_centre, "recordSuccession", CARD_CENTRE, c.address, b.address)
    assert world.call(C, "isSuccessorOf", a.address, c.address)


def test_the_successor_withdraws_an_old_consent_from_the_succession_on(
    world: World, card_centre: Signer
):
    old, new = phones(2)
    consent_id, grant = do_grant(world, old)
    # Before the succession the new phone is a stranger to the consent.
    with expect_revert("InvalidSigner", (old.address, new.address)):
        world.tx(
            C, world.relayer, "withdraw", consent_id, 7,
            sign_withdrawal(world, new, consent_id, 7),
        )  # fmt: skip
    succession_at = succeed(world, card_centre, old, new)
    # What was done before stays valid: the grant is unchanged by the succession.
    assert world.call(C, "isValid", consent_id, DATA_USER_ID, grant["purposeHash"], succession_at)
    world.advance(60)
    receipt = world.tx(
        C, world.relayer, "withdraw", consent_id, 7, sign_withdrawal(world, new, consent_id, 7)
    )
    at = world.time_of(receipt)
    assert dict(receipt.event("ConsentWithdrawn").args) == {
        "consentId": consent_id,
        "holder": old.address,
        "at": at,
    }
    assert dict(receipt.event("ConsentWithdrawnBySuccessor").args) == {
        "consentId": consent_id,
        "successor": new.address,
    }
    # The successor's nonce is used, not the old holder's.
    assert world.call(C, "nonceUsed", new.address, 7)
    assert not world.call(C, "nonceUsed", old.address, 7)
    assert world.call(C, "isValid", consent_id, DATA_USER_ID, grant["purposeHash"], at - 1)
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, grant["purposeHash"], at)
    last = grant["notAfter"] - 1
    assert not world.call(C, "isValid", consent_id, DATA_USER_ID, grant["purposeHash"], last)


def test_a_later_successor_withdraws_transitively_and_a_stranger_never(
    world: World, card_centre: Signer
):
    first, second, third = phones(3)
    stranger = Signer.generate()
    consent_id, _ = do_grant(world, first)
    succeed(world, card_centre, first, second)
    succeed(world, card_centre, second, third)
    with expect_revert("InvalidSigner", (first.address, stranger.address)):
        world.tx(
            C, world.relayer, "withdraw", consent_id, 1,
            sign_withdrawal(world, stranger, consent_id, 1),
        )  # fmt: skip
    receipt = world.tx(
        C, world.relayer, "withdraw", consent_id, 1, sign_withdrawal(world, third, consent_id, 1)
    )
    assert receipt.event("ConsentWithdrawnBySuccessor").args["successor"] == third.address


def test_a_predecessor_cannot_withdraw_its_successors_consents(world: World, card_centre: Signer):
    old, new = phones(2)
    succeed(world, card_centre, old, new)
    consent_id, _ = do_grant(world, new)
    with expect_revert("InvalidSigner", (new.address, old.address)):
        world.tx(
            C, world.relayer, "withdraw", consent_id, 3,
            sign_withdrawal(world, old, consent_id, 3),
        )  # fmt: skip


def test_a_superseded_address_grants_no_more_but_may_still_withdraw(
    world: World, card_centre: Signer
):
    old, new = phones(2)
    consent_id, _ = do_grant(world, old, nonce=1)
    succeed(world, card_centre, old, new)
    with expect_revert("HolderSuperseded", (old.address, new.address)):
        do_grant(world, old, nonce=2)
    world.tx(
        C, world.relayer, "withdraw", consent_id, 3, sign_withdrawal(world, old, consent_id, 3)
    )
    do_grant(world, new, nonce=1)
