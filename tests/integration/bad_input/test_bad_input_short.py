"""The bad-input campaign (``python -m scripts.bad_input``), short: every parser target, the
OpenAPI operations and the oversized bodies, with few examples each. The full campaign runs the
same code with more."""

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


def test_a_non_package_error_is_counted_as_a_failure() -> None:
    tally = bad_input.Tally("probe")
    bad_input._run(tally, lambda: {}["missing"], allowed=(ValueError,))
    bad_input._run(tally, lambda: int("x"), allowed=(ValueError,))
    assert tally.failed == 1
    assert tally.outcomes["rejected:ValueError"] == 1
