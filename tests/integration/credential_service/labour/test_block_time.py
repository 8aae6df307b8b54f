"""A labour contract end to end on anvil mining a block every 2 s (QBFT's usual period), with
the anchoring batcher waiting for a confirmation depth of 2: both signatures, their anchors,
the evidence package and its verification, every anchor in a canonical block at that depth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from credential_service.anchoring.batcher import Batcher, BatchPolicy
from node_adapter import AnvilProcess, Chain
from tests.fixtures.chain import node_rpc
from tests.integration.credential_service.labour.harness import (
    DOCUMENT,
    LabourService,
    open_labour_service,
)
from tests.integration.credential_service.labour.test_labour_api import _verify

pytestmark = pytest.mark.anvil

DEPTH = 2


@pytest.fixture
def on_anvil(
    anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path
) -> Iterator[tuple[LabourService, AnvilProcess]]:
    node = anvil_process_factory()
    opened = open_labour_service(tmp_path, Chain.from_urls([node.url], receipt_timeout=10.0))
    service = next(opened)
    yield service, node
    opened.close()


def test_a_labour_contract_with_two_second_blocks_is_anchored_at_the_depth(
    on_anvil: tuple[LabourService, AnvilProcess],
) -> None:
    service, node = on_anvil
    old = service.batcher
    service.batcher = Batcher(
        engine=service.context.engine,
        ledger=old._ledger,
        owner="labour-block-time",
        policy=BatchPolicy(max_age=timedelta(0), confirmations=DEPTH),
    )
    wallet = service.wallet()
    contract = service.upload(wallet)
    node_rpc(node.url, "evm_setAutomine", False)
    node_rpc(node.url, "evm_setIntervalMining", 2)
    try:
        signed = service.employer_signs(contract)
        assert signed.status_code == 200, signed.text
        accepted = service.employee_signs(contract["contract_id"], wallet)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "effective"
        service.batcher.drain(timeout=30)
        head = service.chain.block_number()
    finally:
        node_rpc(node.url, "evm_setIntervalMining", 0)
        node_rpc(node.url, "evm_setAutomine", True)
    report = _verify(service, service.evidence(contract["contract_id"]), DOCUMENT)
    assert report["verdict"] == "verified", report
    assert [e["event"] for e in report["timeline"]] == ["employer_signed", "employee_signed"]
    for event in report["timeline"]:
        assert head - event["block_number"] >= DEPTH
