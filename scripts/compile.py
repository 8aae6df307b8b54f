"""Compile the registries and write their artifacts to ``node_adapter/artifacts/``.

Runs offline: py-solc-x drives ``scripts/solc-facade``, which speaks the native solc command line
over the pinned npm compiler. The artifacts are deterministic (sorted keys, fixed settings, no
paths from this machine), so ``--check`` and ``tests/unit/contracts/test_artifacts.py`` can prove
that the committed ABIs and bytecode are exactly what these sources compile to.

Usage::

    python -m scripts.compile           # write the artifacts
    python -m scripts.compile --check   # exit 1 when the committed artifacts are stale
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import solcx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
NODE_MODULES = PROJECT_ROOT / "node_modules"
ARTIFACTS_DIR = PROJECT_ROOT / "node_adapter" / "artifacts"
SOLC_FACADE = PROJECT_ROOT / "scripts" / "solc-facade"

#: The deployable registries; libraries and interfaces get no artifact of their own.
CONTRACTS = ("TrustRegistry", "AnchorRegistry", "StatusRegistry", "ConsentRegistry")

_OUTPUTS = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]

#: Every setting that affects the bytecode, recorded verbatim in each artifact.
SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 200},
    # No metadata hash: the bytecode then depends on the sources and settings only.
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {f"contracts/{name}.sol": {name: _OUTPUTS} for name in CONTRACTS},
}


def compiler_version() -> str:
    """The facade's full compiler version, e.g. ``0.8.28+commit.7893614a.Emscripten.clang``."""
    out = subprocess.run(
        [str(SOLC_FACADE), "--version"], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"^Version: (\S+)$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"unexpected output from {SOLC_FACADE} --version: {out!r}")
    return match.group(1)


def standard_json_input() -> dict[str, Any]:
    """Build the Standard JSON input: our sources by relative path, imports left to the facade."""
    sources = {
        f"contracts/{path.name}": {"content": path.read_text(encoding="utf-8")}
        for path in sorted(CONTRACTS_DIR.glob("*.sol"))
    }
    return {"language": "Solidity", "sources": sources, "settings": copy.deepcopy(SETTINGS)}


def _source_file(unit_name: str) -> Path:
    """Map a source unit name back to the file the facade read it from."""
    local = PROJECT_ROOT / unit_name
    return local if local.is_file() else NODE_MODULES / unit_name


def _source_hash(unit_names: list[str]) -> str:
    """SHA-256 over every source unit that went into the build, OpenZeppelin included."""
    digest = hashlib.sha256()
    for name in sorted(unit_names):
        content = _source_file(name).read_bytes()
        digest.update(f"{name}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    return digest.hexdigest()


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compile the registries and return their artifacts by contract name, without writing.

    Raises ``solcx.exceptions.SolcError`` when the sources do not compile.
    """
    output = solcx.compile_standard(
        standard_json_input(), solc_binary=SOLC_FACADE, base_path=PROJECT_ROOT
    )
    version = compiler_version()
    source_hash = _source_hash(list(output["sources"]))
    artifacts: dict[str, dict[str, Any]] = {}
    for name in CONTRACTS:
        compiled = output["contracts"][f"contracts/{name}.sol"][name]
        artifacts[name] = {
            "contractName": name,
            "abi": compiled["abi"],
            "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
            "compiler": {"name": "solc", "version": version, "settings": SETTINGS},
            "sourceHash": source_hash,
        }
    return artifacts


def render(artifact: dict[str, Any]) -> str:
    """Serialise an artifact exactly as it is committed."""
    return json.dumps(artifact, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def artifact_path(name: str) -> Path:
    return ARTIFACTS_DIR / f"{name}.json"


def stale_artifacts(artifacts: dict[str, dict[str, Any]]) -> list[str]:
    """Names whose committed artifact is missing or differs from ``artifacts``."""
    stale = []
    for name, artifact in artifacts.items():
        path = artifact_path(name)
        if not path.is_file() or path.read_text(encoding="utf-8") != render(artifact):
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.compile", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if committed artifacts are out of date"
    )
    args = parser.parse_args(argv)

    artifacts = compile_contracts()
    if args.check:
        stale = stale_artifacts(artifacts)
        for name in stale:
            print(
                f"stale artifact: {artifact_path(name).relative_to(PROJECT_ROOT)}", file=sys.stderr
            )
        return 1 if stale else 0

    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    for name, artifact in artifacts.items():
        artifact_path(name).write_text(render(artifact), encoding="utf-8")
        print(f"wrote {artifact_path(name).relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
