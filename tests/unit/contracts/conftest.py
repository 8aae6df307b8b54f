"""Fixtures for the contract behaviour tests: the four registries with a small accreditation tree,
on both backends (in-process EVM and a real anvil process).

The chain, the deployment and the per-test snapshot come from `tests/fixtures/chain.py`
(`deployment`, parametrised over `[embedded]` and `[anvil]`); this module adds a small
Guangdong tree and thin helpers that go through `Chain.transact` / `Chain.call`, so every
function and every custom error of the ABI can be exercised, including the reject paths.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from node_adapter.chain import Chain, TxReceipt
from node_adapter.errors import TransactionReverted
from node_adapter.signer import Signer
from tests.fixtures.chain import MINISTRY_ID, Registries

ARTIFACTS = Path(__file__).resolve().parents[3] / "node_adapter" / "artifacts"

# Kinds and statuses as in contracts/Types.sol.
MINISTRY, PROVINCE, ISSUER, EMPLOYER, DATA_USER, COURT, CARD_ISSUER = 1, 2, 3, 4, 5, 6, 7
NONE, ACTIVE, SUSPENDED, REVOKED = 0, 1, 2, 3


def org_id(uscc: str) -> bytes:
    """An organisation id as the service derives it: keccak256 of a namespaced credit code."""
    return keccak(text=f"hrss:org:{uscc}")


GUANGDONG = org_id("GD-HRSS")  # province, region 440000
ISSUER_ID = org_id("GZ-SKILLS-CENTRE")  # issuer, region 440100 (Guangzhou)
DATA_USER_ID = org_id("SZ-DATA-USER")  # data user, region 440300 (Shenzhen)
EMPLOYER_ID = org_id("GZ-EMPLOYER")  # employer, region 440106
SKILL_CERT = keccak(text="https://hrss.example/credentials/SkillCertificate")


def artifact(name: str) -> dict[str, Any]:
    return json.loads((ARTIFACTS / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class World:
    """The deployed registries and the actors of the test tree."""

    chain: Chain
    addresses: dict[str, str]
    abis: dict[str, list[dict[str, Any]]]
    ministry: Signer
    province: Signer
    issuer: Signer
    data_user: Signer
    employer: Signer
    anchorer: Signer
    stranger: Signer
    relayer: Signer
    spare: list[Signer] = field(default_factory=list)

    def tx(self, contract: str, signer: Signer, fn: str, *args: Any) -> TxReceipt:
        return self.chain.transact(signer, self.addresses[contract], self.abis[contract], fn, args)

    def call(self, contract: str, fn: str, *args: Any) -> Any:
        return self.chain.call(self.addresses[contract], self.abis[contract], fn, args)

    def now(self) -> int:
        """Time of the latest block."""
        return self.chain.block("latest").timestamp

    def time_of(self, receipt: TxReceipt) -> int:
        return self.chain.block(receipt.block_number).timestamp

    def advance(self, seconds: int) -> int:
        """Make the next block `seconds` after the latest; returns that time."""
        t = self.now() + seconds
        self.chain.set_next_block_timestamp(t)
        return t


def expect_revert(error_name: str, args: Sequence[Any] | None = None):
    """Context manager asserting a `TransactionReverted` with this custom error (and args)."""
    return _ExpectRevert(error_name, None if args is None else tuple(args))


class _ExpectRevert:
    def __init__(self, error_name: str, args: tuple[Any, ...] | None) -> None:
        self.error_name = error_name
        self.args = args
        self._raises = pytest.raises(TransactionReverted)

    def __enter__(self) -> Any:
        self.info = self._raises.__enter__()
        return self.info

    def __exit__(self, *exc: Any) -> bool:
        handled = self._raises.__exit__(*exc)
        err = self.info.value
        assert err.error_name == self.error_name, f"expected {self.error_name}, got {err.reason}"
        if self.args is not None:
            assert tuple(err.args) == self.args, f"{err.reason} != {self.error_name}{self.args}"
        return bool(handled)


def _build_world(deployment: Registries) -> World:
    chain, signers, d = deployment.chain, deployment.signers, deployment.deployment
    abis = {name: artifact(name)["abi"] for name in _CONTRACTS}
    addresses = {
        "TrustRegistry": d.trust_registry,
        "AnchorRegistry": d.anchor_registry,
        "StatusRegistry": d.status_registry,
        "ConsentRegistry": d.consent_registry,
    }
    world = World(
        chain,
        addresses,
        abis,
        ministry=signers.ministry,
        province=signers.province_a,
        issuer=signers.issuer,
        data_user=signers.data_user,
        employer=signers.employer,
        anchorer=signers.anchorer,
        stranger=signers.outsider,
        relayer=signers.relayer,
        spare=[signers.deployer],
    )
    world.tx(
        "TrustRegistry",
        world.ministry,
        "accredit",
        GUANGDONG,
        PROVINCE,
        440000,
        MINISTRY_ID,
        [world.province.address],
    )
    world.tx(
        "TrustRegistry",
        world.province,
        "accredit",
        ISSUER_ID,
        ISSUER,
        440100,
        GUANGDONG,
        [world.issuer.address],
    )
    world.tx(
        "TrustRegistry",
        world.province,
        "accredit",
        DATA_USER_ID,
        DATA_USER,
        440300,
        GUANGDONG,
        [world.data_user.address],
    )
    world.tx(
        "TrustRegistry",
        world.province,
        "accredit",
        EMPLOYER_ID,
        EMPLOYER,
        440106,
        GUANGDONG,
        [world.employer.address],
    )
    world.tx(
        "TrustRegistry",
        world.issuer,
        "setAnchoringAccount",
        ISSUER_ID,
        world.anchorer.address,
        True,
    )
    world.tx("TrustRegistry", world.province, "setCredentialType", ISSUER_ID, SKILL_CERT, True)
    return world


_CONTRACTS = ("TrustRegistry", "AnchorRegistry", "StatusRegistry", "ConsentRegistry")


@pytest.fixture
def world(deployment: Registries) -> World:
    """The registries on `chain` (both backends, via the shared `deployment` fixture, which
    reverts every change after the test) with this package's accreditation tree on top."""
    return _build_world(deployment)
