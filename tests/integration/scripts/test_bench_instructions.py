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
def test_more_work_per_call_counts_more_instructions(tmp_path: Path) -> None:
    # a copy of the JOSE module whose verify checks every signature twice
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

    with ThreadPoolExecutor(max_workers=2) as pool:
        sides = [
            pool.submit(bench_instructions.measure_side, root, ["verify_eddsa"], 20, sys.executable)
            for root in (ROOT, tree)
        ]
        ours, doubled = (side.result() for side in sides)

    assert 1.8 < doubled["verify_eddsa"] / ours["verify_eddsa"] < 2.2


@needs_valgrind
def test_the_same_code_on_both_sides_counts_the_same_instructions() -> None:
    before = _worktrees()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.bench_instructions",
            "--against",
            "HEAD",
            "--only",
            "verify_eddsa",
            "--calls",
            "20",
            "--limit",
            "0.05",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "compact JWS verify, EdDSA" in line)
    old, new, _change = (cell.strip() for cell in row.strip("|").split("|")[1:])
    assert int(old.replace(",", "")) > 100_000  # a real signature check, not an empty loop
    assert (
        abs(int(new.replace(",", "")) - int(old.replace(",", ""))) / int(old.replace(",", ""))
        < 0.01
    ), row
    assert _worktrees() == before  # the ref's checkout is removed afterwards
