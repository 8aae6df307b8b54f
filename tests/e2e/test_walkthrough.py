"""docs/walkthrough.md, run as written against `make run` (issue #13 item 7): every ``sh``
block in order, in bash with ``set -euo pipefail``, one shell state carried across blocks, the
venv's ``bin`` on PATH, from a directory laid out like the repository (``.venv`` and the
service's ``var``), the documented default addresses (API 127.0.0.1:8000, chain 127.0.0.1:8545)
rewritten to the test's ports and nothing else. Each block's ``<!-- expect ... -->`` is checked;
a failure names the block and shows its output. The runner's own tests show it can fail."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.walkthrough import WalkthroughError, parse_blocks, run_blocks
from tests.fixtures.crypto_profile import crypto_profile_of_run
from tests.fixtures.running_service import REPO, RunningService, environment_without_hrss

DOCUMENT = REPO / "docs" / "walkthrough.md"
BIN = Path(sys.executable).parent


def _environment() -> dict[str, str]:
    env = environment_without_hrss()
    # the reader of a national deployment has its profile set, so their wallet is SM2 too
    env["HRSS_CRYPTO_PROFILE"] = crypto_profile_of_run()
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture
def walkthrough_service(running_service: RunningService) -> RunningService:
    """The session's `make run` (tests.fixtures.running_service): its state is in
    ``<checkout>/var`` of a directory standing for the repository, as the walkthrough's reader
    has it. Its person (陈秀英, 440106199003070028) is no other module's."""
    return running_service


@pytest.mark.slow
@pytest.mark.anvil
def test_the_walkthrough_runs_as_written(walkthrough_service: RunningService) -> None:
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"{tool} is missing: the walkthrough's reader types it"
    service = walkthrough_service
    blocks = parse_blocks(DOCUMENT.read_text(encoding="utf-8"))
    assert len(blocks) >= 10, "the walkthrough lost its commands"
    rewrite = {
        "127.0.0.1:8000": f"127.0.0.1:{service.port}",
        "127.0.0.1:8545": f"127.0.0.1:{service.chain_port}",
    }
    outcomes = list(
        run_blocks(blocks, workdir=service.var.parent, env=_environment(), rewrite=rewrite)
    )
    assert len(outcomes) == len(blocks)
    # The page the walkthrough sends the court clerk to is served, in Chinese and in English.
    for lang, title in (("zh", "核验"), ("en", "erif")):
        page = httpx.get(f"{service.base}/verify", params={"lang": lang}, timeout=30)
        assert page.status_code == 200 and title in page.text, page.text[:500]


# The runner itself, on small documents (no service).


def _document(*blocks: str) -> str:
    return "Intro.\n\n" + "\n".join(blocks)


def _run(text: str, tmp_path: Path) -> list[str]:
    blocks = parse_blocks(text)
    outcomes = run_blocks(blocks, workdir=tmp_path, env=_environment(), rewrite={})
    return [outcome.output for outcome in outcomes]


def test_state_carries_across_blocks(tmp_path: Path) -> None:
    text = _document(
        "```sh\nNAME=陈秀英\nexport LOUD=yes\nmkdir -p sub && cd sub\nLIST=(a 'b c')\n"
        'hi() { echo "hi $1"; }\n```\n'
        "<!-- expect exit 0 -->\n",
        '```sh\necho "$NAME $LOUD $(basename "$PWD") ${LIST[1]}"\n'
        "bash -c 'echo $LOUD'\nhi there\n```\n"
        "<!-- expect: 陈秀英 yes sub b c -->\n",
    )
    assert _run(text, tmp_path) == ["", "陈秀英 yes sub b c\nyes\nhi there\n"]


def test_a_failing_command_inside_a_block_fails_it_with_its_line(tmp_path: Path) -> None:
    text = _document("```sh\necho one\nfalse\necho never\n```\n<!-- expect: one -->\n")
    with pytest.raises(WalkthroughError) as caught:
        _run(text, tmp_path)
    message = str(caught.value)
    assert "block at line 3" in message and "exit status 1, expected 0" in message
    assert "never" not in message.split("output:")[1]


def test_a_missing_text_fails_and_later_blocks_do_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = _document(
        "```sh\necho verified\n```\n<!-- expect: failed -->\n",
        f"```sh\ntouch {marker}\n```\n<!-- expect exit 0 -->\n",
    )
    with pytest.raises(WalkthroughError, match="output lacks 'failed'"):
        _run(text, tmp_path)
    assert not marker.exists()


def test_an_expected_failure_must_fail_and_state_survives_it(tmp_path: Path) -> None:
    text = _document(
        "```sh\nSEEN=before\nfalse\n```\n<!-- expect exit 1 -->\n",
        "```sh\necho $SEEN\n```\n<!-- expect: before -->\n",
    )
    assert _run(text, tmp_path)[1] == "before\n"
    with pytest.raises(WalkthroughError, match="exit status 0, expected 1"):
        _run(_document("```sh\ntrue\n```\n<!-- expect exit 1 -->\n"), tmp_path)


def test_a_block_without_an_expectation_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WalkthroughError, match="line 3 has no <!-- expect"):
        parse_blocks(_document("```sh\necho unchecked\n```\n\nProse.\n"))


def test_unset_variables_fail_and_only_sh_blocks_run(tmp_path: Path) -> None:
    text = _document(
        "```text\nnot run\n```\n", '```sh\necho "$UNSET"\n```\n<!-- expect exit 0 -->\n'
    )
    assert len(parse_blocks(text)) == 1
    with pytest.raises(WalkthroughError, match="UNSET: unbound variable"):
        _run(text, tmp_path)


def test_the_documented_addresses_are_rewritten_and_nothing_else(tmp_path: Path) -> None:
    text = _document(
        "```sh\necho http://127.0.0.1:8000/verify 127.0.0.1:80001\n```\n"
        "<!-- expect: http://127.0.0.1:8000/verify -->\n"
    )
    outcomes = run_blocks(
        parse_blocks(text), workdir=tmp_path, env=_environment(),
        rewrite={"127.0.0.1:8000": "127.0.0.1:9"},
    )  # fmt: skip
    assert [o.output for o in outcomes] == ["http://127.0.0.1:9/verify 127.0.0.1:80001\n"]


def test_an_absent_text_that_appears_fails(tmp_path: Path) -> None:
    text = _document(
        "```sh\necho level 3, 陈秀英\n```\n"
        "<!-- expect: level 3 -->\n<!-- expect absent: 陈秀英 -->\n"
    )
    with pytest.raises(WalkthroughError, match="output has '陈秀英'"):
        _run(text, tmp_path)
    assert _run(text.replace(", 陈秀英", ""), tmp_path) == ["level 3\n"]
