"""`scripts.bench_instructions`: callgrind's instruction counts of one operation, this tree
against a git ref, are repeatable enough to judge a 5 % change, and a change in the work done
shows up in them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scripts import bench_instructions
from scripts.bench_instructions import InstructionCountError, callgrind_totals

ROOT = Path(__file__).resolve().parents[3]

needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="valgrind is not installed"
)


def _worktrees() -> str:
    return subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_a_profile_total_is_read_from_its_totals_line() -> None:
    dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 1234\ntotals: 1234\n"
    assert callgrind_totals(dump) == 1234
    with pytest.raises(InstructionCountError):
        callgrind_totals("events: Ir\nfn=(1) main\n0 12\n")


@needs_valgrind
def test_the_same_code_counts_the_same_and_more_work_counts_more(tmp_path: Path) -> None:
    # a copy of the SDK whose JWS verify checks every signature twice
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "wallet_sdk", tree / "wallet_sdk")
    jose = tree / "wallet_sdk" / "jose.py"
    source = jose.read_text()
    marker = "\ndef verify_compact("
    assert marker in source
    jose.write_text(
        source.replace(marker, "\ndef _verify_compact_once(", 1)
        + "\n\ndef verify_compact(*args, **kwargs):\n"
        "    _verify_compact_once(*args, **kwargs)\n"
        "    return _verify_compact_once(*args, **kwargs)\n"
    )

    with ThreadPoolExecutor(max_workers=3) as pool:
        sides = [
            pool.submit(bench_instructions.measure_side, root, ["verify_eddsa"], 20, sys.executable)
            for root in (ROOT, ROOT, tree)
        ]
        ours, again, doubled = (side.result()["verify_eddsa"] for side in sides)

    assert ours > 100_000  # a real signature check, not an empty loop
    assert abs(again - ours) / ours < 0.01, (ours, again)
    assert 1.8 < doubled / ours < 2.2, (ours, doubled)


def test_the_ref_is_checked_out_beside_and_removed_afterwards() -> None:
    before = _worktrees()
    with bench_instructions.worktree("HEAD") as checkout:
        assert (checkout / "scripts" / "bench_instructions.py").is_file()
        assert str(checkout) in _worktrees()
    assert _worktrees() == before
    assert not checkout.exists()


def test_the_table_names_each_row_and_its_change() -> None:
    table = bench_instructions.table(
        "v1",
        {"verify_jwt": 1000.0},
        {"verify_jwt": 1100.0, "issue_jwt": 50.0},
        ["verify_jwt", "issue_jwt"],
    )
    assert "| vc+jwt credentials verified, whole pipeline | 1,000 | 1,100 | +10.0% |" in table
    assert "| vc+jwt credentials issued |  | 50 | new |" in table
