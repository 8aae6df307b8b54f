"""The `Probe` test contract (assets/Probe.sol, compiled with the pinned solc) for adapter
tests that must not depend on the registries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from node_adapter import Chain, Signer

PROBE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "assets" / "Probe.json").read_text(encoding="utf-8")
)
ABI = PROBE["abi"]


def deploy_probe(chain: Chain, signer: Signer) -> str:
    receipt = chain.deploy(signer, ABI, PROBE["bytecode"])
    assert receipt.contract_address is not None
    return receipt.contract_address
