"""Gas budgets of the hot paths. The budgets are ceilings that fail loudly if a change makes a
write noticeably dearer; the measured numbers are printed with `pytest -s`."""

from __future__ import annotations

import os

from node_adapter.signer import Signer

from .conftest import ISSUER_ID, SUSPENDED, World
from .test_consent_registry import as_tuple, make_grant, sign_grant, sign_withdrawal

# One storage slot and one event per batch, plus the trust check (one cold call, three slots).
ANCHOR_BUDGET = 60_000
REGISTER_ONE_BUDGET = 110_000  # the content digest is a third slot
REGISTER_EXTRA_ID_BUDGET = 72_000  # three fresh slots (one the digest) and an event per id
SET_STATUS_BUDGET = 80_000
GRANT_BUDGET = 190_000  # five slots (the consent) and the holder's nonce word
WITHDRAW_BUDGET = 60_000


def _report(world: World, what: str, gas: int) -> None:
    print(f"\n[gas] {world.chain.kind:8} {what}: {gas}")


def test_anchor_costs_one_slot_and_an_event(world: World):
    receipt = world.tx(
        "AnchorRegistry", world.anchorer, "anchor", os.urandom(32), 4096, os.urandom(32)
    )
    _report(world, "AnchorRegistry.anchor", receipt.gas_used)
    assert receipt.gas_used < ANCHOR_BUDGET


def test_status_register_and_set_status(world: World):
    one = world.tx(
        "StatusRegistry", world.issuer, "register", ISSUER_ID, [os.urandom(32)], [os.urandom(32)]
    )
    ten_ids = [os.urandom(32) for _ in range(10)]
    ten_digests = [os.urandom(32) for _ in range(10)]
    ten = world.tx("StatusRegistry", world.issuer, "register", ISSUER_ID, ten_ids, ten_digests)
    per_extra = (ten.gas_used - one.gas_used) // 9
    changed = world.tx("StatusRegistry", world.issuer, "setStatus", ten_ids[0], SUSPENDED, 1)
    _report(world, "StatusRegistry.register (1 id)", one.gas_used)
    _report(world, "StatusRegistry.register (10 ids)", ten.gas_used)
    _report(world, "StatusRegistry.setStatus", changed.gas_used)
    assert one.gas_used < REGISTER_ONE_BUDGET
    assert per_extra < REGISTER_EXTRA_ID_BUDGET
    assert changed.gas_used < SET_STATUS_BUDGET


def test_consent_grant_and_withdraw(world: World):
    holder = Signer.generate()
    grant = make_grant(world, holder)
    granted = world.tx(
        "ConsentRegistry", world.relayer, "grant", as_tuple(grant), sign_grant(world, holder, grant)
    )
    consent_id = granted.event("ConsentGranted").args["consentId"]
    signature = sign_withdrawal(world, holder, consent_id, 2)
    withdrawn = world.tx("ConsentRegistry", world.relayer, "withdraw", consent_id, 2, signature)
    _report(world, "ConsentRegistry.grant", granted.gas_used)
    _report(world, "ConsentRegistry.withdraw", withdrawn.gas_used)
    assert granted.gas_used < GRANT_BUDGET
    assert withdrawn.gas_used < WITHDRAW_BUDGET
