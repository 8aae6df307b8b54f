"""Run a Markdown walkthrough as written: its ```` ```sh ```` blocks in order, in bash, each
followed by the comments that say what its output must contain (``<!-- expect: TEXT -->``),
must not contain (``<!-- expect absent: TEXT -->``) and with which status it must exit
(``<!-- expect exit N -->``, default 0). The blocks share one shell state (variables, exports, the
working directory) as if typed into one terminal, though each runs in its own ``bash`` so
that the runner can tell which block failed and show its output."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

_BLOCK = re.compile(r"^```sh\n(?P<code>.*?)^```\n(?P<after>(?:[ \t]*<!--.*?-->\n?)*)", re.S | re.M)
_EXPECT = re.compile(
    r"<!--\s*expect(?:\s+exit\s+(?P<exit>\d+)|\s+(?P<absent>absent))?\s*(?::\s*(?P<text>.*?))?"
    r"\s*-->",
    re.S,
)

# After each block: every variable except bash's own and the read-only ones, the functions and
# the working directory, written as statements the next block sources.
_SAVE_STATE = r"""
__walkthrough_save() {
  set +eu
  local name
  for name in $(compgen -v); do
    case $name in
      BASH*|FUNCNAME|PIPESTATUS|GROUPS|RANDOM|SRANDOM|SECONDS|LINENO|EPOCH*|HISTCMD|DIRSTACK|\
PWD|OLDPWD|SHLVL|_|COMP_WORDBREAKS|OPTIND|OPTARG|PPID|UID|EUID|SHELLOPTS|__walkthrough*) continue;;
    esac
    [[ ${!name@a} == *r* ]] && continue
    declare -p "$name"
  done > "$__walkthrough_state"
  declare -f >> "$__walkthrough_state"
  printf 'cd %q\n' "$PWD" >> "$__walkthrough_state"
}
trap __walkthrough_save EXIT
"""


@dataclass(frozen=True)
class Block:
    """One ```` ```sh ```` block: its first line in the document, its code, and what it must
    do (exit status, texts its combined output contains, texts it must not contain)."""

    line: int
    code: str
    exit_status: int
    contains: tuple[str, ...]
    absent: tuple[str, ...] = ()

    def describe(self, source: str) -> str:
        return f"{source} block at line {self.line}:\n{self.code}"


class WalkthroughError(AssertionError):
    """A block broke its expectation, or the document has a block that states none."""


def parse_blocks(text: str) -> list[Block]:
    """The ``sh`` blocks of `text` in order. Raises `WalkthroughError` for a block with no
    expectation (a command whose outcome nobody checks could drift unseen)."""
    blocks = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        expectations = list(_EXPECT.finditer(match.group("after")))
        if not expectations:
            raise WalkthroughError(
                f"the sh block at line {line} has no <!-- expect ... --> after it"
            )
        exits = {int(e.group("exit")) for e in expectations if e.group("exit") is not None}
        if len(exits) > 1:
            raise WalkthroughError(f"the sh block at line {line} expects two exit statuses")
        texts = [(e.group("absent") is not None, e.group("text")) for e in expectations]
        contains = tuple(text for is_absent, text in texts if text and not is_absent)
        absent = tuple(text for is_absent, text in texts if text and is_absent)
        exit_status = exits.pop() if exits else 0
        blocks.append(Block(line, match.group("code"), exit_status, contains, absent))
    return blocks


@dataclass(frozen=True)
class Outcome:
    block: Block
    exit_status: int
    output: str


def run_blocks(
    blocks: list[Block],
    *,
    workdir: Path,
    env: Mapping[str, str],
    rewrite: Mapping[str, str],
    timeout: float = 300.0,
) -> Iterator[Outcome]:
    """Run `blocks` in order with ``bash`` (``set -euo pipefail``) from `workdir`, each text
    of `rewrite` replaced in the code and the expectations (the documented addresses by the
    test's), one shell state carried from block to block. Yields each block's outcome, then
    raises `WalkthroughError` naming the first block whose status or output is not what its
    expectation says (the blocks after it are not run)."""
    state = workdir / ".walkthrough-state"
    state.write_text(f"cd {workdir}\n")
    for original in blocks:
        block = _rewritten(original, rewrite)
        script = (
            f"__walkthrough_state={state}\n{_SAVE_STATE}\nsource {state}\n"
            f"set -euo pipefail\n{block.code}"
        )
        result = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", script],
            cwd=workdir,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        outcome = Outcome(block, result.returncode, result.stdout + result.stderr)
        problems = []
        if outcome.exit_status != block.exit_status:
            problems.append(f"exit status {outcome.exit_status}, expected {block.exit_status}")
        problems += [
            f"output lacks {text!r}" for text in block.contains if text not in outcome.output
        ]
        problems += [f"output has {text!r}" for text in block.absent if text in outcome.output]
        if problems:
            raise WalkthroughError(
                f"{original.describe('walkthrough')}\n--- {'; '.join(problems)}; output:\n"
                f"{outcome.output}"
            )
        yield outcome


def _rewritten(block: Block, rewrite: Mapping[str, str]) -> Block:
    code, contains, absent = block.code, block.contains, block.absent
    for old, new in rewrite.items():
        whole = re.compile(re.escape(old) + r"(?!\d)")  # 127.0.0.1:8000, never :80001
        code = whole.sub(new, code)
        contains = tuple(whole.sub(new, text) for text in contains)
        absent = tuple(whole.sub(new, text) for text in absent)
    return Block(block.line, code, block.exit_status, contains, absent)
