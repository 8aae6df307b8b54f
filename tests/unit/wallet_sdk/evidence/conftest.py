"""Fixtures of the evidence tests: a `LabourWorld` on the in-process chain only (the anvil
backend adds nothing to a verifier that only reads, and these tests must stay fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.chain import Registries
from tests.unit.wallet_sdk.evidence.world import LabourWorld

DOCUMENT = "劳动合同 Labour contract v1\n甲方: 北京示例科技有限公司\n乙方: 张三\n".encode()


@pytest.fixture
def _chain_base(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Override of the chain fixtures' backend parametrisation: in-process chain only."""
    base = request.getfixturevalue("_embedded_base")
    snapshot = base.chain.snapshot()
    try:
        yield base
    finally:
        base.chain.revert(snapshot)


@pytest.fixture
def world(deployment: Registries, tmp_path: Path) -> LabourWorld:
    return LabourWorld.build(deployment, tmp_path / "wallet")
