"""The committed contract artifacts are exactly what the sources compile to."""

import json

import pytest

from scripts.compile import (
    CONTRACTS,
    SETTINGS,
    SOLC_FACADE,
    artifact_path,
    compile_contracts,
    render,
)


@pytest.fixture(scope="module")
def fresh_artifacts() -> dict[str, dict]:
    # Recompiles through py-solc-x and scripts/solc-facade, as `make compile` does.
    return compile_contracts()


@pytest.mark.parametrize("name", CONTRACTS)
def test_committed_artifact_is_byte_identical_to_a_fresh_compile(name, fresh_artifacts):
    committed = artifact_path(name).read_text(encoding="utf-8")
    assert committed == render(fresh_artifacts[name]), (
        f"{artifact_path(name)} is stale: run `python -m scripts.compile`"
    )


@pytest.mark.parametrize("name", CONTRACTS)
def test_artifact_records_compiler_and_settings(name):
    artifact = json.loads(artifact_path(name).read_text(encoding="utf-8"))
    assert artifact["contractName"] == name
    assert artifact["compiler"]["name"] == "solc"
    assert artifact["compiler"]["version"].startswith("0.8.28+commit.7893614a")
    assert artifact["compiler"]["settings"] == SETTINGS
    assert artifact["compiler"]["settings"]["evmVersion"] == "cancun"
    assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 2
    assert artifact["deployedBytecode"].startswith("0x") and len(artifact["deployedBytecode"]) > 2
    assert len(artifact["sourceHash"]) == 64


def test_only_the_registries_get_artifacts():
    written = sorted(p.stem for p in artifact_path("x").parent.glob("*.json"))
    assert written == sorted(CONTRACTS)


def test_facade_reports_its_version_like_native_solc():
    from packaging.version import Version
    from solcx.wrapper import get_solc_version

    assert get_solc_version(SOLC_FACADE) == Version("0.8.28")
    assert str(get_solc_version(SOLC_FACADE, with_commit_hash=True)) == "0.8.28+commit.7893614a"


def test_facade_rejects_unknown_options_as_native_solc_does():
    from solcx.exceptions import UnknownOption
    from solcx.wrapper import solc_wrapper

    with pytest.raises(UnknownOption):
        solc_wrapper(solc_binary=SOLC_FACADE, stdin="{}", standard_json=True, optimize=True)


def test_facade_does_not_read_imports_outside_the_project():
    import solcx

    source = 'pragma solidity 0.8.28; import "../../../../etc/passwd";'
    with pytest.raises(solcx.exceptions.SolcError, match="not found"):
        solcx.compile_standard(
            {"language": "Solidity", "sources": {"contracts/Evil.sol": {"content": source}}},
            solc_binary=SOLC_FACADE,
        )


def test_check_mode_finds_nothing_stale(fresh_artifacts):
    from scripts.compile import stale_artifacts

    assert stale_artifacts(fresh_artifacts) == []
    tampered = {**fresh_artifacts["AnchorRegistry"], "bytecode": "0x00"}
    assert stale_artifacts({"AnchorRegistry": tampered}) == ["AnchorRegistry"]
