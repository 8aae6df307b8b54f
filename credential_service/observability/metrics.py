"""A small Prometheus registry: counters, gauges and histograms with labels, and the text
exposition format (version 0.0.4) written by hand, because ``prometheus_client`` is not a
dependency.

Every metric lives in one `Registry`; `REGISTRY` is the process-wide one the service uses.
Updates take a lock per metric, so they are safe from worker threads; an update costs a dict
lookup and, for a histogram, a bisection over its bucket bounds. Collectors registered with
`Registry.add_collector` are called at scrape time and return extra samples (queue depths read
from the database, for instance).

Each process keeps its own numbers: run one scrape target per process (the usual layout with
one uvicorn worker per container) or add a ``process`` label through the scrape config.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "CONTENT_TYPE",
    "Counter",
    "Gauge",
    "Histogram",
    "Registry",
    "Sample",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of the exposition: ``name{labels} value``."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _line(sample: Sample) -> str:
    if sample.labels:
        inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sample.labels)
        return f"{sample.name}{{{inner}}} {_format_value(sample.value)}"
    return f"{sample.name} {_format_value(sample.value)}"


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        if not name.replace("_", "").replace(":", "").isalnum():
            raise ValueError(f"invalid metric name {name!r}")
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        # on every request several times: no sets, no generator
        try:
            values = [labels[n] for n in self.labelnames]
        except KeyError:
            values = None
        if values is None or len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(map(str, values))

    def _pairs(self, key: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        return tuple(zip(self.labelnames, key, strict=True))

    def samples(self) -> Iterable[Sample]:  # pragma: no cover - overridden
        return ()

    def header(self) -> list[str]:
        doc = self.documentation.replace("\\", "\\\\").replace("\n", "\\n")
        return [f"# HELP {self.name} {doc}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    """A value that only goes up. Raises `ValueError` for a negative increment."""

    kind = "counter"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self._add(self._key(labels), amount)

    def _add(self, key: tuple[str, ...], amount: float) -> None:
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def inc_labels(self, *values: str) -> None:
        """`inc` by one with the label values in `labelnames` order: on the hot path, where
        ten counts a request made building keyword dicts a measurable cost."""
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
        self._add(values, 1.0)

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[Sample]:
        with self._lock:
            items = list(self._values.items())
        for key, value in items:
            yield Sample(f"{self.name}_total", self._pairs(key), value)


class Gauge(_Metric):
    """A value that goes up and down."""

    kind = "gauge"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self._values: dict[tuple[str, ...], float] = {}

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[Sample]:
        with self._lock:
            items = list(self._values.items())
        for key, value in items:
            yield Sample(self.name, self._pairs(key), value)


class Histogram(_Metric):
    """Observations counted into cumulative buckets (upper bounds, ``+Inf`` added)."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        super().__init__(name, documentation, labelnames)
        bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        if not bounds:
            raise ValueError("a histogram needs at least one finite bucket")
        self.bounds = tuple(bounds)
        # per label set: [count per bucket (non-cumulative, last is +Inf)..., sum]
        self._series: dict[tuple[str, ...], list[float]] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        index = bisect.bisect_left(self.bounds, value)
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = [0.0] * (len(self.bounds) + 2)
            series[index] += 1
            series[-1] += value

    def count(self, **labels: str) -> int:
        series = self._series.get(self._key(labels))
        return 0 if series is None else int(sum(series[:-1]))

    def samples(self) -> Iterable[Sample]:
        with self._lock:
            items = [(key, list(series)) for key, series in self._series.items()]
        for key, series in items:
            pairs = self._pairs(key)
            cumulative = 0.0
            for bound, count in zip((*self.bounds, math.inf), series[:-1], strict=True):
                cumulative += count
                le = "+Inf" if math.isinf(bound) else _format_value(bound)
                yield Sample(f"{self.name}_bucket", (*pairs, ("le", le)), cumulative)
            yield Sample(f"{self.name}_count", pairs, cumulative)
            yield Sample(f"{self.name}_sum", pairs, series[-1])


@dataclass(frozen=True, slots=True)
class CollectedFamily:
    """What a scrape-time collector returns: one metric family with its samples."""

    name: str
    kind: str
    documentation: str
    samples: tuple[Sample, ...]


Collector = Callable[[], Iterable[CollectedFamily]]


_M = TypeVar("_M", bound=_Metric)


class Registry:
    """Named metrics and scrape-time collectors; `exposition` renders them all."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._collectors: dict[str, Collector] = {}
        self._lock = threading.Lock()

    def register(self, metric: _M) -> _M:
        """Add `metric`. Raises `ValueError` when another metric has its name."""
        with self._lock:
            if metric.name in self._metrics:
                raise ValueError(f"metric {metric.name} is already registered")
            self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
        return self.register(Counter(name, documentation, labelnames))

    def gauge(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self.register(Gauge(name, documentation, labelnames))

    def histogram(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        return self.register(Histogram(name, documentation, labelnames, buckets=buckets))

    def add_collector(self, key: str, collector: Collector) -> None:
        """Call `collector` at every scrape; a later collector under `key` replaces it."""
        with self._lock:
            self._collectors[key] = collector

    def remove_collector(self, key: str) -> None:
        with self._lock:
            self._collectors.pop(key, None)

    def exposition(self) -> str:
        """The Prometheus text format of every metric and collector. A collector that raises
        is reported through ``hrss_metrics_collector_errors`` instead of failing the scrape."""
        lines: list[str] = []
        with self._lock:
            metrics = list(self._metrics.values())
            collectors = list(self._collectors.items())
        for metric in metrics:
            lines.extend(metric.header())
            lines.extend(_line(s) for s in metric.samples())
        failed: list[str] = []
        for key, collector in collectors:
            try:
                families = list(collector())
            except Exception:  # a broken collector must not take the other metrics down
                failed.append(key)
                continue
            for family in families:
                doc = family.documentation.replace("\n", " ")
                lines.append(f"# HELP {family.name} {doc}")
                lines.append(f"# TYPE {family.name} {family.kind}")
                lines.extend(_line(s) for s in family.samples)
        lines.append("# HELP hrss_metrics_collector_errors Collectors that failed this scrape.")
        lines.append("# TYPE hrss_metrics_collector_errors gauge")
        for key in failed:
            lines.append(_line(Sample("hrss_metrics_collector_errors", (("collector", key),), 1)))
        return "\n".join(lines) + "\n"
