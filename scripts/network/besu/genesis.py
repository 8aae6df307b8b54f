"""Write the QBFT genesis and permissioning files for a Besu network of provincial validators.

Input: ``validators.json`` beside this file (validator node addresses and public keys) and
optionally a list of allowed service accounts. Output: ``genesis.json``,
``permissions_config.toml`` and ``static-nodes.json`` beside this file.

QBFT's extraData is RLP([32-byte vanity, [validator addresses], vote, round, seals]); at
genesis the vote is an empty list, the round 0 and the seal list empty.

Run: ``python -m scripts.network.besu.genesis [--accounts 0xabc,...] [--chain-id 20261]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rlp  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
DEFAULT_CHAIN_ID = 20261
P2P_PORT = 30303


def qbft_extra_data(validators: list[str]) -> str:
    addresses = [bytes.fromhex(a.removeprefix("0x")) for a in validators]
    encoded = rlp.encode([b"\x00" * 32, addresses, [], b"", []])
    return "0x" + encoded.hex()


def genesis(validators: list[str], *, chain_id: int) -> dict[str, object]:
    return {
        "config": {
            "chainId": chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            # Permissioned network: no fee market, no block reward.
            "zeroBaseFee": True,
            "contractSizeLimit": 2147483647,
            "qbft": {
                "blockperiodseconds": 2,
                "epochlength": 30000,
                "requesttimeoutseconds": 4,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": "0x1fffffffffffff",
        "difficulty": "0x1",
        "mixHash": "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
        "coinbase": "0x0000000000000000000000000000000000000000",
        "alloc": {},
        "extraData": qbft_extra_data(validators),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    parser.add_argument("--accounts", default="", help="comma-separated allowed accounts")
    args = parser.parse_args()
    spec = json.loads((HERE / "validators.json").read_text())
    validators = spec["validators"]
    (HERE / "genesis.json").write_text(
        json.dumps(genesis([v["address"] for v in validators], chain_id=args.chain_id), indent=2)
        + "\n"
    )
    enodes = [
        "enode://{}@{}:{}".format(
            v["enode_public_key"], v.get("host", "127.0.0.1"), v.get("p2p_port", P2P_PORT + i)
        )
        for i, v in enumerate(validators)
    ]
    (HERE / "static-nodes.json").write_text(json.dumps(enodes, indent=2) + "\n")
    accounts = [a for a in args.accounts.split(",") if a] + [v["address"] for v in validators]
    toml = "nodes-allowlist=[\n" + ",\n".join(f'  "{e}"' for e in enodes) + "\n]\n"
    toml += "accounts-allowlist=[\n" + ",\n".join(f'  "{a}"' for a in accounts) + "\n]\n"
    (HERE / "permissions_config.toml").write_text(toml)


if __name__ == "__main__":
    main()
