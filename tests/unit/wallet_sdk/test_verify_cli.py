"""`wallet_sdk.verify_cli`: the verifier's commands run from the base install alone (#16.3).

The import test checks the main venv: the SDK and its CLI load neither FastAPI nor SQLModel nor
SQLAlchemy. The install test builds a fresh venv with `pip install --no-deps` of this checkout
plus exactly the base requirements (`-c constraints.txt`), proves the server's packages are
absent there, and runs `hrss-wallet verify-evidence` / `verify-receipt` against a real anvil.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node_adapter import AnchorRegistryClient
from tests.fixtures.chain import Registries
from tests.unit.wallet_sdk.evidence.conftest import DOCUMENT
from tests.unit.wallet_sdk.evidence.world import LabourWorld
from wallet_sdk.merkle import MerkleTree
from wallet_sdk.receipt import AnchorReceipt

ROOT = Path(__file__).resolve().parents[3]
SERVER_MODULES = ("fastapi", "sqlmodel", "sqlalchemy")


def test_sdk_and_its_cli_import_no_server_module() -> None:
    probe = (
        "import sys, wallet_sdk, wallet_sdk.cli, wallet_sdk.verify_cli, wallet_sdk.evidence\n"
        "import wallet_sdk.evidence.chain, wallet_sdk.chain_view, node_adapter\n"
        f"print(sorted(m for m in {SERVER_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


@pytest.fixture
def _chain_base(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Override of the chain fixtures' backend parametrisation: a real anvil node only (the
    fresh venv's command reads it over JSON-RPC)."""
    base = request.getfixturevalue("_anvil_base")
    snapshot = base.chain.snapshot()
    try:
        yield base
    finally:
        base.chain.revert(snapshot)


def _base_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements: list[str] = project["dependencies"]
    return requirements


@pytest.fixture(scope="module")
def verifier_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv (no system site-packages) with the base install only; its bin directory."""
    work = tmp_path_factory.mktemp("verifier")
    source = work / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("node_adapter", "credential_service", "wallet_sdk"):
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, "--no-deps", str(source)], check=True)
    constraints = str(ROOT / "constraints.txt")
    subprocess.run([*pip, "-c", constraints, *_base_requirements()], check=True)
    yield venv / "bin"


def _run(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HRSS_"))}
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=bin_dir.parent,  # not the checkout: only the installed packages can be imported
        timeout=120,
    )


def _anchored_receipt(world: LabourWorld, digest: bytes) -> AnchorReceipt:
    tree = MerkleTree.build([digest, os.urandom(32)])
    batch_ref = os.urandom(32)
    chain = world.registries.chain
    registry = AnchorRegistryClient(chain, world.deployment.anchor_registry)
    tx = registry.anchor(world.anchorer, root=tree.root, leaf_count=tree.size, batch_ref=batch_ref)
    block = chain.block(tx.block_number)
    return AnchorReceipt.create(
        document_digest=digest,
        proof=tree.proof(0),
        root=tree.root,
        chain_id=chain.chain_id,
        registry=world.deployment.anchor_registry,
        transaction_hash=bytes.fromhex(tx.tx_hash.removeprefix("0x")),
        block_number=tx.block_number,
        block_hash=block.hash,
        block_time=block.timestamp,
        anchored_by=world.anchorer.address,
        entity_id=world.employer_id,
        batch_ref=batch_ref,
    )


@pytest.mark.anvil
@pytest.mark.slow
def test_verifier_commands_run_without_the_server_extra(
    verifier_venv: Path, deployment: Registries, anvil: Any, tmp_path: Path
) -> None:
    for module in SERVER_MODULES:
        missing = _run(verifier_venv, "python", "-c", f"import {module}")
        assert missing.returncode == 1, f"{module} is installed in the verifier's venv"
        assert f"No module named '{module}'" in missing.stderr

    world = LabourWorld.build(deployment, tmp_path / "wallet")
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    package = tmp_path / "evidence.json"
    package.write_text(contract.package().to_json(), encoding="utf-8")
    document = tmp_path / "contract.pdf"
    document.write_bytes(DOCUMENT)
    receipt = tmp_path / "contract.pdf.anchor-receipt.json"
    receipt.write_text(
        _anchored_receipt(world, hashlib.sha256(DOCUMENT).digest()).to_json(), encoding="utf-8"
    )
    trusted = [
        "--rpc-url",
        anvil.url,
        "--trust-registry",
        world.deployment.trust_registry,
        "--anchor-registry",
        world.deployment.anchor_registry,
    ]

    # the employee's e-card status is read from StatusRegistry
    status = ["--status-registry", world.deployment.status_registry]
    evidence = _run(
        verifier_venv,
        "hrss-wallet", "verify-evidence", str(package), str(document), *trusted, *status,
    )  # fmt: skip
    assert evidence.returncode == 0, evidence.stdout + evidence.stderr
    assert evidence.stdout.startswith("verdict: VERIFIED")

    anchored = _run(
        verifier_venv, "hrss-wallet", "verify-receipt", str(document), str(receipt), *trusted
    )
    assert anchored.returncode == 0, anchored.stdout + anchored.stderr
    assert anchored.stdout.rstrip().endswith("\nVERIFIED")
    assert "SKIP" not in anchored.stdout  # the chain was read, not only the offline checks

    # fails closed in that venv too: another document is not the anchored one
    other = tmp_path / "other.pdf"
    other.write_bytes(DOCUMENT + b"\n")
    rejected = _run(
        verifier_venv, "hrss-wallet", "verify-receipt", str(other), str(receipt), *trusted
    )
    assert rejected.returncode == 1
    assert "FAIL document_digest" in rejected.stdout

    # `hrss` is installed too: its verifier aliases work, the service's commands say what to add
    alias = _run(verifier_venv, "hrss", "verify-receipt", str(document), str(receipt), *trusted)
    assert alias.returncode == 0, alias.stdout + alias.stderr
    operator = _run(verifier_venv, "hrss", "audit", "verify", "--database-url", "sqlite://")
    assert operator.returncode == 1
    assert "this command needs the service's dependencies (sqlmodel is not installed)" in (
        operator.stderr
    )
    assert "pip install 'hrss-trust[server]'" in operator.stderr
