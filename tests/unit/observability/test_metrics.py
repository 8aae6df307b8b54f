"""The Prometheus registry and its text exposition."""

from __future__ import annotations

import re

import pytest

from credential_service.observability import Registry
from credential_service.observability.service_metrics import record_verification

_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]+="([^"\\]|\\.)*",?)*\})? \S+$')


def _parse(exposition: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in exposition.splitlines():
        if line.startswith("#") or not line:
            continue
        assert _LINE.match(line), line
        name, value = line.rsplit(" ", 1)
        values[name] = float(value.replace("+Inf", "inf"))
    return values


def test_counter_gauge_and_histogram_render_in_the_text_format() -> None:
    registry = Registry()
    requests = registry.counter("t_requests", "Requests.", ("route",))
    depth = registry.gauge("t_depth", "Depth.")
    latency = registry.histogram("t_latency_seconds", "Latency.", ("route",), buckets=(0.01, 0.1))
    requests.inc(route="/a")
    requests.inc(2, route="/a")
    depth.set(7)
    for value in (0.005, 0.05, 0.5):
        latency.observe(value, route='/b"x')

    text = registry.exposition()
    values = _parse(text)

    assert "# TYPE t_requests counter" in text
    assert "# TYPE t_latency_seconds histogram" in text
    assert values['t_requests_total{route="/a"}'] == 3
    assert values["t_depth"] == 7
    assert values['t_latency_seconds_bucket{route="/b\\"x",le="0.01"}'] == 1
    assert values['t_latency_seconds_bucket{route="/b\\"x",le="0.1"}'] == 2
    assert values['t_latency_seconds_bucket{route="/b\\"x",le="+Inf"}'] == 3
    assert values['t_latency_seconds_count{route="/b\\"x"}'] == 3
    assert values['t_latency_seconds_sum{route="/b\\"x"}'] == pytest.approx(0.555)


def test_wrong_labels_and_negative_increments_are_refused() -> None:
    registry = Registry()
    counter = registry.counter("t_c", "C.", ("a",))
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc(b="x")
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc(-1, a="x")
    with pytest.raises(ValueError, match="already registered"):
        registry.counter("t_c", "again")


def test_a_failing_collector_is_reported_not_raised() -> None:
    registry = Registry()

    def broken() -> list[object]:
        raise RuntimeError("database down")

    registry.add_collector("outbox", broken)  # type: ignore[arg-type]
    values = _parse(registry.exposition())
    assert values['hrss_metrics_collector_errors{collector="outbox"}'] == 1


def test_verification_reports_are_counted_by_check() -> None:
    from credential_service.observability.service_metrics import (
        VERIFICATION_CHECKS,
        VERIFICATIONS,
    )

    before = VERIFICATION_CHECKS.value(kind="t", check="signature", status="failed")
    record_verification(
        "t",
        {
            "verified": False,
            "checks": [
                {"check": "format", "status": "passed"},
                {"check": "signature", "status": "failed", "detail": "bad"},
            ],
        },
    )
    record_verification("t", {"no": "shape"})
    assert VERIFICATION_CHECKS.value(kind="t", check="signature", status="failed") == before + 1
    assert VERIFICATIONS.value(kind="t", verified="unknown") >= 1


def test_inc_labels_counts_under_the_same_series_as_inc() -> None:
    registry = Registry()
    counter = registry.counter("hrss_things", "Things.", ("kind", "outcome"))
    counter.inc(kind="a", outcome="ok")
    counter.inc_labels("a", "ok")
    counter.inc_labels("b", "failed")
    assert counter.value(kind="a", outcome="ok") == 2.0
    assert counter.value(kind="b", outcome="failed") == 1.0
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc_labels("a")
