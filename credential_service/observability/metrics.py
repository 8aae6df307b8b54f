"""The service's Prometheus registry, on ``prometheus_client``: counters, gauges and histograms
with labels, scrape-time collectors, and the text exposition format (version 0.0.4).

Every metric lives in one `Registry`; `REGISTRY` (in `service_metrics`) is the process-wide
one the service uses. Updates are ``prometheus_client``'s (a lock per value, safe from worker
threads); the labelled child of each label set is looked up once and kept, because several
counts a request through ``labels()`` were a measurable cost. Collectors registered with
`Registry.add_collector` are called at scrape time and return extra samples (queue depths read
from the database, for instance).

Several worker processes (``python -m credential_service.api.serve --workers N``) count
together through ``prometheus_client``'s multiprocess mode: the supervisor creates a fresh
directory and names it in ``PROMETHEUS_MULTIPROC_DIR`` before it starts the workers; every
worker then keeps its values in files there, and a scrape, whichever worker answers it, sums
the files of all workers, the dead ones included (so a counter never goes backwards when a
worker is replaced). Without that variable each process reports its own numbers.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import prometheus_client
from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.multiprocess import mark_process_dead as _mark_process_dead

__all__ = [
    "CONTENT_TYPE",
    "MULTIPROCESS_DIRECTORY_VARIABLE",
    "CollectedFamily",
    "Counter",
    "Gauge",
    "Histogram",
    "Registry",
    "Sample",
    "mark_process_dead",
    "multiprocess_directory",
]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip

# ``*_created`` series were never part of this service's exposition (and the multiprocess
# mode has none): dashboards see the same series as before the move to prometheus_client.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client's multiprocess API is untyped


def multiprocess_directory() -> str | None:
    """The multiprocess directory when this process counts in multiprocess mode, else None.

    Read from the environment, not from the service's settings, because ``prometheus_client``
    decides from the same variable, when it is imported, where every value lives: the
    scrape must follow the decision the library took."""
    return os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE) or None


def mark_process_dead(pid: int | None, directory: str) -> None:
    """Tell the multiprocess `directory` that worker `pid` is gone: its live-only gauges stop
    being reported; its counters and histograms stay counted. A process that never started
    (no pid) left nothing to mark."""
    if pid is not None:
        _mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]  # prometheus_client's multiprocess API is untyped


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of the exposition: ``name{labels} value``."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True, slots=True)
class CollectedFamily:
    """What a scrape-time collector returns: one metric family with its samples."""

    name: str
    kind: str
    documentation: str
    samples: tuple[Sample, ...]


Collector = Callable[[], Iterable[CollectedFamily]]


class _Metric:
    """One ``prometheus_client`` metric and the labelled children already asked for."""

    kind = "untyped"

    def __init__(self, name: str, labelnames: Sequence[str], metric: Any) -> None:
        self.name = name
        self.labelnames = tuple(labelnames)
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}
        self._registry: CollectorRegistry | None = None

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        # on every request several times: no sets, no generator
        try:
            values = [labels[n] for n in self.labelnames]
        except KeyError:
            values = None
        if values is None or len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(map(str, values))

    def _child(self, key: tuple[str, ...]) -> Any:
        child = self._children.get(key)
        if child is None:
            if len(key) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {key}")
            child = self._metric.labels(*key) if self.labelnames else self._metric
            self._children[key] = child
        return child

    def _sample(self, suffix: str, labels: dict[str, str]) -> float:
        """This process's value of one sample, read through the public registry API."""
        if self._registry is None:
            raise ValueError(f"{self.name} is not registered")
        pairs = dict(zip(self.labelnames, self._key(labels), strict=True))
        value = self._registry.get_sample_value(f"{self.name}{suffix}", pairs)
        return 0.0 if value is None else value


class Counter(_Metric):
    """A value that only goes up. Raises `ValueError` for a negative increment."""

    kind = "counter"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        metric = prometheus_client.Counter(name, documentation, labelnames, registry=None)
        super().__init__(name, labelnames, metric)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self._child(self._key(labels)).inc(amount)

    def inc_labels(self, *values: str) -> None:
        """`inc` by one with the label values in `labelnames` order: on the hot path, where
        ten counts a request made building keyword dicts a measurable cost."""
        self._child(values).inc()

    def value(self, **labels: str) -> float:
        """This process's count (in multiprocess mode too)."""
        return self._sample("_total", labels)


class Gauge(_Metric):
    """A value that goes up and down. In multiprocess mode a scrape reports the value a live
    process set last."""

    kind = "gauge"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        metric = prometheus_client.Gauge(
            name, documentation, labelnames, registry=None, multiprocess_mode="livemostrecent"
        )
        super().__init__(name, labelnames, metric)

    def set(self, value: float, **labels: str) -> None:
        self._child(self._key(labels)).set(float(value))

    def value(self, **labels: str) -> float:
        return self._sample("", labels)


class Histogram(_Metric):
    """Observations counted into cumulative buckets (upper bounds, ``+Inf`` added). Raises
    `ValueError` without a finite bucket."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        if not bounds:
            raise ValueError("a histogram needs at least one finite bucket")
        self.bounds = tuple(bounds)
        metric = prometheus_client.Histogram(
            name, documentation, labelnames, registry=None, buckets=(*bounds, math.inf)
        )
        super().__init__(name, labelnames, metric)

    def observe(self, value: float, **labels: str) -> None:
        self._child(self._key(labels)).observe(value)

    def count(self, **labels: str) -> int:
        """This process's number of observations."""
        return int(self._sample("_count", labels))


_M = TypeVar("_M", bound=_Metric)


def _family(family: CollectedFamily) -> Metric:
    metric = Metric(family.name, family.documentation.replace("\n", " "), family.kind)
    for sample in family.samples:
        metric.add_sample(sample.name, dict(sample.labels), sample.value)
    return metric


class _Scrape:
    """What one scrape exposes, in the shape ``generate_latest`` reads."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


class Registry:
    """Named metrics and scrape-time collectors; `exposition` renders them all."""

    def __init__(self) -> None:
        self._registry = CollectorRegistry(auto_describe=True)
        self._names: set[str] = set()
        self._collectors: dict[str, Collector] = {}
        self._lock = threading.Lock()

    def register(self, metric: _M) -> _M:
        """Add `metric`. Raises `ValueError` when another metric has its name."""
        with self._lock:
            if metric.name in self._names:
                raise ValueError(f"metric {metric.name} is already registered")
            self._registry.register(metric._metric)
            self._names.add(metric.name)
            metric._registry = self._registry
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

    def _collected(self) -> Iterator[Metric]:
        with self._lock:
            collectors = list(self._collectors.items())
        errors = GaugeMetricFamily(
            "hrss_metrics_collector_errors",
            "Collectors that failed this scrape.",
            labels=("collector",),
        )
        for key, collector in collectors:
            try:
                families = [_family(family) for family in collector()]
            except Exception:  # a broken collector must not take the other metrics down
                errors.add_metric((key,), 1)
                continue
            yield from families
        yield errors

    def exposition(self) -> str:
        """The Prometheus text format (0.0.4) of every metric and collector: of every worker
        process in multiprocess mode (`multiprocess_directory`), of this process otherwise. A
        collector that raises is reported through ``hrss_metrics_collector_errors`` instead
        of failing the scrape. Raises `ValueError` when the multiprocess directory is gone."""
        directory = multiprocess_directory()
        metrics: Iterable[Metric]
        if directory is not None:
            collector = MultiProcessCollector(None, path=directory)  # type: ignore[no-untyped-call]  # prometheus_client's multiprocess API is untyped
            metrics = collector.collect()  # type: ignore[no-untyped-call]  # prometheus_client's multiprocess API is untyped
        else:
            metrics = self._registry.collect()
        scrape = _Scrape([*metrics, *self._collected()])
        return generate_latest(scrape).decode("utf-8")
