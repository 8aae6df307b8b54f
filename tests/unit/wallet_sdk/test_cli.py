"""The hrss-wallet command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.unit.wallet_sdk.conftest import ASSETS
from wallet_sdk import Keystore
from wallet_sdk.cli import main


def _passfile(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_text("s3cret\n")
    return path


def test_keystore_create_generate_list(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "k.json"
    secret = _passfile(tmp_path)
    result = runner.invoke(
        main, ["keystore", "create", str(store), "--passphrase-file", str(secret)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        [
            "keystore",
            "generate",
            str(store),
            "--curve",
            "p-256",
            "--kid",
            "a",
            "--passphrase-file",
            str(secret),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["crv"] == "P-256"
    result = runner.invoke(main, ["keystore", "list", str(store), "--passphrase-file", str(secret)])
    assert result.output.startswith("a\tP-256\t")


def test_keystore_generate_follows_the_profile(tmp_path: Path) -> None:
    """``--profile national`` (or HRSS_CRYPTO_PROFILE=national) makes SM2 keys sealed with
    SM4-GCM; the international default Ed25519 under AES-256-GCM; ``--curve`` overrides."""
    runner = CliRunner()
    store = tmp_path / "k.json"
    Keystore.create(store, "s3cret", scrypt_n=2**10)
    secret = ["--passphrase-file", str(_passfile(tmp_path))]
    unset: dict[str, str | None] = {"HRSS_CRYPTO_PROFILE": None}
    runs: list[tuple[list[str], dict[str, str | None], str]] = [
        (["--kid", "default"], unset, "Ed25519"),
        (["--kid", "national", "--profile", "national"], unset, "SM2"),
        (["--kid", "from-env"], {"HRSS_CRYPTO_PROFILE": "national"}, "SM2"),
        (["--kid", "p256", "--profile", "national", "--curve", "p-256"], unset, "P-256"),
    ]
    for args, env, curve in runs:
        result = runner.invoke(main, ["keystore", "generate", str(store), *args, *secret], env=env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["crv"] == curve
    entries = {e["kid"]: e for e in json.loads(store.read_text())["keys"]}
    assert "cipher" not in entries["default"]  # AES-256-GCM
    assert {entries[k]["cipher"] for k in ("national", "from-env", "p256")} == {"SM4-GCM"}
    assert Keystore.load(store, "s3cret").get("national").curve.value == "SM2"


def test_keystore_wrong_passphrase_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "k.json"
    Keystore.create(store, "right", scrypt_n=2**10)
    result = runner.invoke(main, ["keystore", "list", str(store)], input="wrong\n")
    assert result.exit_code == 2
    assert "wrong passphrase" in result.output


def _document_for_example(tmp_path: Path) -> tuple[Path, Path]:
    # The example receipt is for digest_of(3) = sha256(b"document 3").
    document = tmp_path / "doc.txt"
    document.write_bytes(b"document 3")
    return ASSETS / "anchor-receipt-1.example.json", document


def test_verify_receipt_offline_passes(tmp_path: Path) -> None:
    receipt, document = _document_for_example(tmp_path)
    result = CliRunner().invoke(main, ["verify-receipt", str(document), str(receipt), "--offline"])
    assert result.exit_code == 0, result.output
    assert "PASS merkle_path" in result.output
    assert result.output.endswith("\nOFFLINE CHECKS PASSED (root anchoring not checked)\n")


def test_verify_receipt_wrong_document_exit_1(tmp_path: Path) -> None:
    receipt, document = _document_for_example(tmp_path)
    document.write_bytes(b"document 4")
    result = CliRunner().invoke(main, ["verify-receipt", str(document), str(receipt), "--offline"])
    assert result.exit_code == 1
    assert "FAIL document_digest" in result.output


def test_verify_receipt_without_a_node_or_offline_is_a_usage_error(tmp_path: Path) -> None:
    receipt, document = _document_for_example(tmp_path)
    result = CliRunner().invoke(main, ["verify-receipt", str(document), str(receipt)])
    assert result.exit_code == 2
    assert "name the trusted registries" in result.output


def test_verify_receipt_takes_the_document_first_like_hrss(tmp_path: Path) -> None:
    from credential_service.anchoring.cli import verify_receipt_command

    receipt, document = _document_for_example(tmp_path)
    for command in (main, verify_receipt_command):
        prefix = ["verify-receipt"] if command is main else []
        swapped = CliRunner().invoke(command, [*prefix, str(receipt), str(document)])
        assert swapped.exit_code == 2, swapped.output
        assert "the other way round: verify-receipt DOCUMENT RECEIPT" in swapped.output
    ordered = CliRunner().invoke(verify_receipt_command, [str(document), str(receipt), "--offline"])
    assert ordered.exit_code == 0, ordered.output


def test_verify_receipt_malformed_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{}")
    result = CliRunner().invoke(main, ["verify-receipt", str(bad), str(bad)])
    assert result.exit_code == 2
    assert "required property" in result.output


def test_qr_terminal_and_png(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["qr", "hrss:test"]).exit_code == 0
    png = tmp_path / "q.png"
    result = runner.invoke(main, ["qr", "hrss:test", "--png", str(png)])
    assert result.exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")
