"""`node_adapter.consent_format`, the one definition of ``ConsentRegistry``'s EIP-712 data and
stored consent: loads without web3 (the wallet SDK signs with it), hands out copies of its
types, and names the type it cannot encode. That its type hashes, domain and digests are the
contract's is pinned on chain (`tests/unit/contracts/test_consent_registry.py`,
`tests/unit/node_adapter/test_clients.py`)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

import node_adapter
from node_adapter.consent_format import (
    GRANT_TYPEHASH,
    GRANT_TYPES,
    ConsentOnChain,
    consent_id,
    consent_typed_data,
    typed_data_digest,
    withdrawal_typed_data,
)
from node_adapter.errors import ConfigurationError

REGISTRY = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _loaded_after(statement: str) -> list[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return sorted({name.split(".")[0] for name in json.loads(result.stdout)})


def test_the_format_loads_no_web3() -> None:
    loaded = _loaded_after("import node_adapter.consent_format")
    assert "web3" not in loaded and "requests" not in loaded


def test_the_package_exports_load_on_first_use() -> None:
    assert "web3" in _loaded_after("from node_adapter import Chain")
    for name in node_adapter.__all__:
        assert getattr(node_adapter, name) is not None, name
    assert node_adapter.ConsentOnChain is ConsentOnChain
    with pytest.raises(AttributeError, match="no attribute 'ConsentRecord'"):
        node_adapter.ConsentRecord  # noqa: B018  (the old name of the struct is gone)


@dataclass(frozen=True)
class _Grant:
    """Whatever has a grant's fields will do (`GrantFields`); unchecked, to reach the encoder."""

    holder: str = "0x" + "11" * 20
    grantee: bytes = b"\x22" * 32
    purpose_hash: bytes = b"\x33" * 32
    scope_hash: bytes = b"\x44" * 32
    not_before: int = 1
    not_after: int = 2
    nonce: Any = 7


def test_typed_data_hands_out_copies_of_the_types() -> None:
    domain, types, message = consent_typed_data(_Grant(), 1337, REGISTRY)
    types["Grant"].pop()
    types["Grant"][0]["type"] = "string"
    domain["name"] = "Other"
    again = consent_typed_data(_Grant(), 1337, REGISTRY)
    assert again[1] == GRANT_TYPES and again[0]["name"] == "HRSS Consent"
    assert len(GRANT_TYPES["Grant"]) == 7
    assert GRANT_TYPEHASH.hex().startswith("c469bc4c")
    assert message["nonce"] == 7 and message["purposeHash"] == b"\x33" * 32


def test_the_consent_id_is_the_digest_of_the_grant() -> None:
    grant = _Grant()
    assert consent_id(grant, 1337, REGISTRY) == typed_data_digest(
        consent_typed_data(grant, 1337, REGISTRY)
    )
    assert consent_id(grant, 1, REGISTRY) != consent_id(grant, 1337, REGISTRY)
    assert consent_id(_Grant(nonce=8), 1337, REGISTRY) != consent_id(grant, 1337, REGISTRY)


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        (lambda: consent_typed_data(_Grant(nonce="seven"), 1337, REGISTRY), "Grant"),
        (lambda: consent_typed_data(_Grant(holder="0x12"), 1337, REGISTRY), "Grant"),
        (lambda: withdrawal_typed_data(b"\x01" * 32, -1, 1337, REGISTRY), "Withdrawal"),
    ],
)
def test_what_does_not_fit_its_type_is_a_configuration_error(typed: object, name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"cannot encode EIP-712 {name}"):
        typed_data_digest(typed())  # type: ignore[operator]
