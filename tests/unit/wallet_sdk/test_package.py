"""Package boundary: the public surface, py.typed, and no forbidden imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import wallet_sdk


def test_all_names_exist_and_are_sorted() -> None:
    for name in wallet_sdk.__all__:
        assert hasattr(wallet_sdk, name), name
    assert len(set(wallet_sdk.__all__)) == len(wallet_sdk.__all__)


def test_ships_py_typed_and_schema() -> None:
    root = Path(wallet_sdk.__file__).parent
    assert (root / "py.typed").exists()
    assert (root / "schemas" / "anchor-receipt-1.schema.json").exists()


def test_never_imports_web3_fastapi_or_the_service() -> None:
    code = (
        "import sys, wallet_sdk, wallet_sdk.receipt, wallet_sdk.qr, wallet_sdk.keystore;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('web3','fastapi','credential_service','node_adapter')];"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
