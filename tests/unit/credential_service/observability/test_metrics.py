"""The Prometheus registry and its text exposition."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from credential_service.observability import REGISTRY, Registry
from credential_service.observability.service_metrics import record_verification

_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]+="([^"\\]|\\.)*",?)*\})? \S+$')


def _parse(exposition: str) -> dict[str, float]:
    """Samples by ``name{labels}``, labels in name order (the text format leaves it free)."""
    values: dict[str, float] = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            assert _LINE.match(line), line
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{inner}}}" if inner else sample.name] = sample.value
    return values


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


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

    # the family of a counter is named after its samples, as the text format wants
    assert "# TYPE t_requests_total counter" in text
    assert "# TYPE t_latency_seconds histogram" in text
    assert values['t_requests_total{route="/a"}'] == 3
    assert values["t_depth"] == 7
    assert values['t_latency_seconds_bucket{le="0.01",route="/b\\"x"}'] == 1
    assert values['t_latency_seconds_bucket{le="0.1",route="/b\\"x"}'] == 2
    assert values['t_latency_seconds_bucket{le="+Inf",route="/b\\"x"}'] == 3
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


# Names and labels dashboards query; they were there before the move to prometheus_client.
_SERVICE_SERIES = {
    "hrss_http_request_duration_seconds_bucket": {"method", "route", "status", "le"},
    "hrss_http_request_duration_seconds_count": {"method", "route", "status"},
    "hrss_http_request_duration_seconds_sum": {"method", "route", "status"},
    "hrss_http_rate_limited_total": {"kind"},
    "hrss_chain_errors_total": {"kind", "source"},
    "hrss_verifications_total": {"kind", "verified"},
    "hrss_verification_checks_total": {"kind", "check", "status"},
    "hrss_anchoring_batch_leaves_bucket": {"le"},
    "hrss_anchoring_batch_leaves_count": set(),
    "hrss_anchoring_batch_leaves_sum": set(),
}


def test_the_service_series_keep_their_names_and_parse_as_prometheus_text() -> None:
    from credential_service.observability.service_metrics import (
        HTTP_RATE_LIMITED,
        HTTP_REQUEST_SECONDS,
        record_batch_sealed,
        record_chain_error,
    )

    HTTP_REQUEST_SECONDS.observe(0.002, method="GET", route="/x/{id}", status="200")
    HTTP_RATE_LIMITED.inc(kind="client")
    record_chain_error("unavailable")
    record_batch_sealed(12)
    record_verification(
        "t", {"verified": True, "checks": [{"check": "format", "status": "passed"}]}
    )

    seen: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(REGISTRY.exposition()):
        for sample in family.samples:
            seen.setdefault(sample.name, set()).update(sample.labels)
    for name, labels in _SERVICE_SERIES.items():
        assert seen.get(name) == labels, (name, seen.get(name))
    assert not any(name.endswith("_created") for name in seen)
