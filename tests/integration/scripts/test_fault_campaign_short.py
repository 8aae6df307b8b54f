"""The fault campaign (``python -m scripts.faults``), short: a few thousand documents and a
hundred credentials through the real processes (uvicorn with 2 workers, 2 anchoring workers,
anvil, PostgreSQL when it answers), with every fault injected once or twice, then the SQLite
disk-full phase. The full campaign runs the same code with 100,000 documents and 10,000
credentials. Credential requests carry an idempotency key and are retried, so every credential
is accepted, exactly once."""

from __future__ import annotations

import pytest

from scripts import faults

pytestmark = [pytest.mark.anvil, pytest.mark.slow, pytest.mark.xdist_group("faults")]


def test_nothing_accepted_is_lost_or_anchored_twice_under_faults() -> None:
    tally = faults.campaign(
        documents=3_000, credentials=100, seed=20261128, disk_full_digests=20_000
    )
    tally.print()
    assert tally.problems == []
    injected = "\n".join(tally.faults)
    for fault in (
        "SIGKILL anchoring worker",
        "SIGKILL anvil",
        "SIGKILL API worker",
        "reorg: last",
        "pending transactions from the pool",
        "chain halted",
    ):
        assert fault in injected
    checks = tally.checks
    assert checks["documents accepted (202)"] == "3000/3000"
    assert checks["accepted items lost"] == 0
    assert checks["anchored more than once"] == 0
    assert checks["items not confirmed at the deadline"] == 0
    assert checks["chain faults injected (reorg, drop, halt)"] == 3
    assert checks["batches pointing at a block off the chain"] == 0
    assert checks["items not confirmed after the chain settled"] == 0
    assert checks["credentials accepted (201)"] == "100/100"
    assert checks["accepted credentials verified"] == "100/100"
    assert checks["idempotency keys answered with different credentials"] == 0
    assert checks["credentials accepted / distinct"] == "100 / 100"
    assert checks["credentials in the database / accepted ones among them"] == "100 / 100"
    retried, attempts, replayed = checks[
        "credential requests retried / retry attempts / replayed"
    ].split(" / ")
    assert int(replayed) <= int(retried) <= int(attempts)
    assert checks["deliberate repeats answered by a replay"] == "1/1"
    # the full disk is refused with an error answer, never acknowledged
    assert {"500", "503", "507"} & set(checks["disk full: answers while full"])
