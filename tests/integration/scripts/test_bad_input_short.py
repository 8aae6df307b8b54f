"""The bad-input campaign (``python -m scripts.bad_input``), short: every parser target, the
OpenAPI operations, the oversized bodies and deep and wide JSON, with few examples each. The
full campaign runs the same code with more."""

from __future__ import annotations

import pytest

from scripts import bad_input


@pytest.fixture(scope="module")
def seeds() -> bad_input.Seeds:
    return bad_input.build_seeds()


def test_parsers_raise_only_their_own_errors(seeds: bad_input.Seeds) -> None:
    tallies = bad_input.fuzz_parsers(seeds, examples=40)
    assert {t.target for t in tallies} >= {
        "jose.read_unverified_header",
        "jose.verify_compact",
        "AnchorReceipt.parse",
        "EvidencePackage.parse",
        "CredentialVerifier.verify_presentation",
    }
    for tally in tallies:
        assert tally.examples >= 20, tally.target
        assert tally.failed == 0, (tally.target, tally.failures)


def test_seeds_verify_so_mutations_start_from_valid_input(seeds: bad_input.Seeds) -> None:
    report = seeds.verifier.verify_presentation(
        seeds.sd_presentation, nonce=seeds.nonce, audience=seeds.audience, strict=False
    )
    assert report.passed, report.to_dict()


def test_api_answers_no_5xx_and_413_for_oversized_bodies() -> None:
    with bad_input.running_service() as service:
        api = bad_input.fuzz_api(service, examples=60)
        oversized = bad_input.oversized_bodies(service)
    assert api.failed == 0, api.failures
    assert api.examples >= 30
    assert oversized.failed == 0, oversized.failures
    assert oversized.outcomes["413"] == oversized.examples


def test_deep_json_is_refused_and_wide_json_handled_by_every_parser(
    seeds: bad_input.Seeds,
) -> None:
    tallies = bad_input.nesting_parsers(seeds)
    deep = [t for t in tallies if t.target.startswith("deep JSON: ")]
    assert len(deep) == 8
    for tally in tallies:
        assert tally.failed == 0, (tally.target, tally.failures)
    for tally in deep:
        assert tally.examples >= 10, tally.target
        refused = tally.outcomes["refused: too deep"] + tally.outcomes["report: failed, too deep"]
        assert refused == tally.examples, tally.target


def test_deep_json_bodies_are_400_too_deep_and_wide_ones_never_5xx() -> None:
    with bad_input.running_service(max_body=1024 * 1024) as service:
        deep, wide = bad_input.nesting_bodies(service, depths=(), members=(1000,))
    assert deep.failed == 0, deep.failures
    assert wide.failed == 0, wide.failures
    assert deep.examples >= 200 and wide.examples >= 100
    assert deep.outcomes["400 too_deep (evidence upload)"] >= 5


def test_deep_json_shapes() -> None:
    assert bad_input.deep_json(3, "array") == b"[[[1]]]"
    assert bad_input.deep_json(2, "object") == b'{"a":{"a":1}}'
    assert bad_input.deep_json(3, "unclosed") == b"[[["
    assert bad_input.wide_json(2, "empty arrays") == b"[[],[],[]]"
    texts = bad_input.deep_json_texts(max_bytes=4096, depths=(1000,))
    assert all(len(t) <= 4096 for t in texts)
    assert max(len(t) for t in texts) >= 4000  # one as deep as the room holds


def test_a_non_package_error_is_counted_as_a_failure() -> None:
    tally = bad_input.Tally("probe")
    bad_input._run(tally, lambda: {}["missing"], allowed=(ValueError,))
    bad_input._run(tally, lambda: int("x"), allowed=(ValueError,))
    assert tally.failed == 1
    assert tally.outcomes["rejected:ValueError"] == 1
