"""The Besu QBFT genesis carries exactly the configured validators in its extraData."""

import json
from pathlib import Path

import rlp

from scripts.network.besu import genesis

HERE = Path(genesis.__file__).resolve().parent


def test_committed_genesis_names_every_validator_in_extra_data() -> None:
    spec = json.loads((HERE / "validators.json").read_text())
    committed = json.loads((HERE / "genesis.json").read_text())
    vanity, validators, vote, round_, seals = rlp.decode(
        bytes.fromhex(committed["extraData"].removeprefix("0x"))
    )
    assert vanity == b"\x00" * 32
    assert ["0x" + v.hex() for v in validators] == [
        v["address"].lower() for v in spec["validators"]
    ]
    assert (vote, round_, seals) == ([], b"", [])
    assert committed["config"]["qbft"]["blockperiodseconds"] > 0
    assert committed["config"]["zeroBaseFee"] is True


def test_committed_genesis_is_what_the_generator_writes() -> None:
    spec = json.loads((HERE / "validators.json").read_text())
    committed = json.loads((HERE / "genesis.json").read_text())
    fresh = genesis.genesis(
        [v["address"] for v in spec["validators"]], chain_id=committed["config"]["chainId"]
    )
    assert fresh == committed


def test_permissioning_allows_every_validator_node() -> None:
    spec = json.loads((HERE / "validators.json").read_text())
    toml = (HERE / "permissions_config.toml").read_text()
    for v in spec["validators"]:
        assert v["enode_public_key"] in toml
        assert v["address"] in toml
