"""EventReader on both backends: reading forward from a persisted cursor in chunks,
confirmations, commit control, and rollback detection (snapshot revert = a reorg)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node_adapter import (
    Chain,
    ChainRollback,
    ConfigurationError,
    Cursor,
    EventReader,
    FileCursorStore,
)

from .probe import ABI, deploy_probe


def _poke(chain: Chain, signer, address: str, n: int, value: int = 1) -> None:
    for i in range(n):
        chain.transact(signer, address, ABI, "poke", [bytes([i + 1]) * 32, value])


@pytest.fixture
def setup(chain: Chain, tmp_path: Path):
    signer = chain.dev_signers(3)[2]
    address = deploy_probe(chain, signer)
    start = chain.block_number()
    reader = EventReader(
        chain,
        address,
        ABI,
        cursor_path=tmp_path / "cursor.json",
        start_block=start,
        chunk_size=2,
    )
    return chain, signer, address, reader, tmp_path / "cursor.json"


def test_poll_reads_forward_and_persists_the_cursor(setup) -> None:
    chain, signer, address, reader, cursor_path = setup
    _poke(chain, signer, address, 5, value=9)
    events = reader.poll()
    assert [e.name for e in events] == ["Poked"] * 5
    assert [e.args["tag"][0] for e in events] == [1, 2, 3, 4, 5]
    assert [e.block_number for e in events] == sorted(e.block_number for e in events)
    saved = json.loads(cursor_path.read_text())
    assert saved["block_number"] == chain.block_number()
    assert saved["block_hash"] == "0x" + chain.block().hash.hex()
    assert reader.poll() == []
    _poke(chain, signer, address, 1)
    assert len(reader.poll()) == 1
    # a new reader on the same cursor file resumes where the last one stopped
    again = EventReader(chain, address, ABI, cursor_path=cursor_path)
    assert again.poll() == []


def test_confirmations_hold_back_the_newest_blocks(setup) -> None:
    chain, signer, address, _, cursor_path = setup
    reader = EventReader(
        chain,
        address,
        ABI,
        cursor_path=cursor_path.with_name("c2.json"),
        start_block=chain.block_number(),
        confirmations=2,
    )
    _poke(chain, signer, address, 3)
    assert len(reader.poll()) == 1
    chain.mine(2)
    assert len(reader.poll()) == 2


def test_without_auto_commit_events_come_again_until_committed(setup) -> None:
    chain, signer, address, _, cursor_path = setup
    path = cursor_path.with_name("manual.json")
    reader = EventReader(
        chain,
        address,
        ABI,
        cursor_path=path,
        start_block=chain.block_number(),
        auto_commit=False,
    )
    _poke(chain, signer, address, 2)
    assert len(reader.poll()) == 2
    crashed = EventReader(
        chain, address, ABI, cursor_path=path, start_block=reader.start_block, auto_commit=False
    )
    assert len(crashed.poll()) == 2  # nothing committed: read again
    crashed.commit()
    assert EventReader(chain, address, ABI, cursor_path=path).poll() == []


def test_rollback_is_detected_and_rewind_reads_the_new_branch(setup) -> None:
    chain, signer, address, reader, _ = setup
    _poke(chain, signer, address, 2)
    fork_point = chain.block_number()
    snapshot = chain.snapshot()
    reader.poll()
    _poke(chain, signer, address, 3, value=1)
    assert len(reader.poll()) == 3
    chain.revert(snapshot)  # the three blocks vanish ...
    _poke(chain, signer, address, 4, value=2)  # ... and a longer, different branch appears
    with pytest.raises(ChainRollback) as caught:
        reader.poll()
    assert caught.value.from_block == fork_point + 1
    reader.rewind(caught.value.from_block)
    events = reader.poll()
    assert [e.args["value"] for e in events] == [2, 2, 2, 2]


def test_rollback_beyond_every_checkpoint_points_at_the_start(setup) -> None:
    chain, signer, address, reader, _ = setup
    snapshot = chain.snapshot()
    _poke(chain, signer, address, 1)
    reader.poll()
    chain.revert(snapshot)
    _poke(chain, signer, address, 2, value=3)
    with pytest.raises(ChainRollback) as caught:
        reader.poll()
    assert caught.value.from_block == reader.start_block
    reader.rewind(caught.value.from_block)
    assert [e.args["value"] for e in reader.poll()] == [3, 3]


def test_file_cursor_store_round_trip_and_corruption(tmp_path: Path) -> None:
    store = FileCursorStore(tmp_path / "sub" / "cursor.json")
    assert store.load() is None
    cursor = Cursor(7, b"\x01" * 32, ((5, b"\x02" * 32),))
    store.save(cursor)
    assert store.load() == cursor
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["cursor.json"]
    (tmp_path / "sub" / "cursor.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="corrupt cursor"):
        store.load()


def test_reader_rejects_bad_settings(embedded_chain: Chain, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        EventReader(embedded_chain, "0x" + "11" * 20, ABI, cursor_path=tmp_path / "c", chunk_size=0)
