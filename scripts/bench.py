"""`make bench`: every benchmark in one run, printed as one markdown table.

Each section is a module under `scripts/` with a `run() -> list[dict]` returning rows with the
keys `benchmark`, `value`, `baseline`, `unit`, `note`; a baseline is always measured in the
same run, on the same machine, never copied from elsewhere. Sections run in order; a section
that fails prints its error in the table instead of a figure, and the command exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

SECTIONS: list[tuple[str, str]] = [
    ("scripts.bench_chain", "Gas of registry writes"),
    ("scripts.bench_anchoring", "Anchoring"),
    ("scripts.bench_credentials", "Credentials"),
    ("scripts.bench_signatures", "Signatures per key algorithm"),
    ("scripts.bench_http", "HTTP verification"),
]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _table(rows: list[dict[str, Any]]) -> str:
    head = "| section | benchmark | hrss-trust | baseline (same run) | unit | note |"
    sep = "|---|---|---|---|---|---|"
    lines = [head, sep]
    for r in rows:
        lines.append(
            "| {section} | {benchmark} | {value} | {baseline} | {unit} | {note} |".format(
                **{
                    k: str(r.get(k, "")).replace("|", "\\|")
                    for k in ("section", "benchmark", "value", "baseline", "unit", "note")
                }
            )
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="run only these sections")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    failed = False
    for module_name, title in SECTIONS:
        short = module_name.rsplit(".", 1)[1].removeprefix("bench_")
        if args.only and short not in args.only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        started = time.perf_counter()
        print(f"# running {title} ...", file=sys.stderr, flush=True)
        try:
            section_rows = module.run()
        except Exception as err:  # report the failure in the table, keep going
            traceback.print_exc()
            failed = True
            section_rows = [{"benchmark": "(failed)", "value": "", "note": repr(err)}]
        print(f"# {title}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        rows.extend({"section": title, **r} for r in section_rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\nhrss-trust benchmarks, {stamp}, {_machine()}\n")
    print(_table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
