"""``hrss contract`` refuses bad input before it calls the service, and says why; the service's
own refusals are tested end to end in ``tests/e2e/test_contract_cli.py``."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from click.testing import CliRunner

from credential_service.cli import main
from wallet_sdk.jose import Curve, Jwk


def _unused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _create(tmp_path: Path, *extra: str) -> tuple[int, str]:
    document = tmp_path / "contract.pdf"
    document.write_bytes(b"contract")
    employee = tmp_path / "employee.json"
    employee.write_text(json.dumps({"address": "0x" + "11" * 20, "did": "did:jwk:abc"}))
    result = CliRunner().invoke(
        main,
        [
            "contract", "create", str(document), "--employee", str(employee),
            "--employee-name", "张三", "--employee-id", "11010519491231002X",
            "--hr-operator", "HR", "--service", _unused_url(), "--client-id", "91440300MA0000004X",
            *extra,
        ],
    )  # fmt: skip
    return result.exit_code, result.output


def _key_file(tmp_path: Path) -> str:
    path = tmp_path / "employer.jwk.json"
    path.write_text(json.dumps(Jwk.generate(Curve.P256).private_jwk()))
    return str(path)


def test_the_employers_key_is_required(tmp_path: Path) -> None:
    code, output = _create(tmp_path, "--key-term", "position=engineer")
    assert code == 2
    assert "give the organisation's key: --key-file or --client-keystore" in output


def test_a_public_key_file_is_refused(tmp_path: Path) -> None:
    public = tmp_path / "public.json"
    public.write_text(json.dumps(Jwk.generate(Curve.P256).public_jwk()))
    code, output = _create(tmp_path, "--key-term", "a=b", "--key-file", str(public))
    assert code == 1
    assert f"{public} holds no private JWK" in output


def test_key_terms_are_name_value_pairs(tmp_path: Path) -> None:
    key = _key_file(tmp_path)
    code, output = _create(tmp_path, "--key-file", key, "--key-term", "engineer")
    assert code == 2
    assert "'engineer' is not NAME=VALUE" in output
    code, output = _create(tmp_path, "--key-file", key)
    assert code == 2
    assert "give at least one --key-term NAME=VALUE" in output


def test_the_employee_file_is_what_whoami_prints(tmp_path: Path) -> None:
    employee = tmp_path / "employee.json"
    code, output = _create(tmp_path, "--key-file", _key_file(tmp_path), "--key-term", "a=b")
    assert code == 1 and "cannot reach" in output  # everything checked, then no service
    employee.write_text('{"address": "0x11"}')
    document = tmp_path / "contract.pdf"
    result = CliRunner().invoke(
        main,
        [
            "contract", "create", str(document), "--employee", str(employee),
            "--employee-name", "张三", "--employee-id", "11010519491231002X",
            "--hr-operator", "HR", "--key-term", "a=b", "--service", _unused_url(),
            "--client-id", "91440300MA0000004X", "--key-file", _key_file(tmp_path),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is not the JSON `hrss-wallet whoami` prints" in result.output
