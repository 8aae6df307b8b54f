"""The ``hrss`` command itself: it starts without the web, database or chain stacks (#13.5:
``hrss --help`` took 3.7 s importing all of them), and it explains missing settings in words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from credential_service.anchoring.cli import ALGORITHM_NAMES
from credential_service.cli import main
from wallet_sdk.merkle import HashAlgorithm

REPO = Path(__file__).resolve().parents[3]

# What `hrss --help` used to import; each takes tenths of a second or more to load.
HEAVY = ("fastapi", "sqlmodel", "sqlalchemy", "web3", "eth_account", "httpx", "node_adapter")


@pytest.mark.parametrize("argv", [["--help"], ["contract", "--help"], ["anchor", "--help"]])
def test_help_imports_only_the_command_line(argv: list[str]) -> None:
    probe = (
        "import sys\n"
        "from credential_service.cli import main\n"
        f"main.main({argv!r}, standalone_mode=False)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    modules = set(result.stdout.split())
    loaded = {m.split(".")[0] for m in modules}
    assert "click" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded.intersection(HEAVY))
    # the verifier's commands are the SDK's: only their command-line module loads (#16.3)
    assert {m for m in modules if m.split(".")[0] == "wallet_sdk"} <= {
        "wallet_sdk",
        "wallet_sdk._lazy",
        "wallet_sdk.verify_cli",
    }


def test_the_spelled_out_algorithm_names_are_the_sdks() -> None:
    assert list(ALGORITHM_NAMES) == [algorithm.value for algorithm in HashAlgorithm]


def test_demo_token_outside_dev_mode_names_the_missing_setting(tmp_path: Path) -> None:
    keystore = tmp_path / "clients.keystore"
    keystore.write_bytes(b"{}")
    result = CliRunner().invoke(
        main,
        ["demo", "token", "91440300MA00000040", "--client-keystore", str(keystore)],
        env={"HRSS_DEV_MODE": "false", "HRSS_KEYSTORE_PASSPHRASE": None},
    )
    assert result.exit_code == 1
    assert "HRSS_KEYSTORE_PASSPHRASE is required outside dev mode" in result.output
    assert "HRSS_DEV_MODE=true" in result.output
    assert "validation error" not in result.output.lower()  # no raw pydantic report
    assert "pydantic" not in result.output.lower()


def test_the_readme_shows_anchor_with_a_wait_in_seconds_and_a_document_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import re
    import shlex

    from credential_service.anchoring.cli import anchor_command
    from credential_service.api.routes.anchors import AnchorRequest

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [example] = [line for line in readme.splitlines() if line.startswith("hrss anchor --")]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "contract.pdf").write_bytes(b"contract")
    parsed = anchor_command.make_context("anchor", shlex.split(example)[2:]).params
    assert parsed["wait"] == 60 and parsed["document_type"] == "labour-contract"
    # the curl example's body is a valid request body of POST /v1/anchors
    [body] = re.findall(r"-d '(\{.*\})'", readme)
    request = json.loads(body.replace("<64 hex>", "00" * 32))
    assert AnchorRequest.model_validate(request).document_type == "labour-contract"
