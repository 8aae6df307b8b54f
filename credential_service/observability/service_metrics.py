"""The service's own metrics in the process-wide `REGISTRY`, and the hooks that feed them.

- ``hrss_http_request_duration_seconds{method,route,status}``: histogram, fed by the API's
  request middleware, labelled with the route template (``/v1/credentials/{credential_id}``),
  never the raw path, so ids never become label values.
- ``hrss_http_rate_limited_total{kind}``: requests refused with 429.
- ``hrss_chain_errors_total{kind,source}``: chain RPC failures (``unavailable``,
  ``rejected``); `record_chain_error` is the hook for any code that talks to the chain.
- ``hrss_verification_checks_total{kind,check,status}`` and
  ``hrss_verifications_total{kind,verified}``: outcomes of verification reports, by named
  check (`record_verification`).
- ``hrss_anchoring_batch_leaves``: histogram of sealed batch sizes (`record_batch_sealed`, for
  a worker process that exposes its own metrics).
- ``hrss_anchoring_items{state}``, ``hrss_anchoring_batches{state}``,
  ``hrss_anchoring_batch_size_leaves`` (histogram over the batches in the database): read from
  the outbox tables at scrape time (`watch_anchoring_outbox`), so they are the same whichever
  process or worker did the work.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Engine, case, func, select

from credential_service.observability.metrics import (
    CollectedFamily,
    Registry,
    Sample,
)

__all__ = [
    "ANCHOR_BATCH_LEAVES",
    "CHAIN_ERRORS",
    "HTTP_RATE_LIMITED",
    "HTTP_REQUEST_SECONDS",
    "REGISTRY",
    "VERIFICATIONS",
    "VERIFICATION_CHECKS",
    "record_batch_sealed",
    "record_chain_error",
    "record_verification",
    "watch_anchoring_outbox",
]

REGISTRY = Registry()
_Report = TypeVar("_Report", bound=Mapping[str, Any])

HTTP_REQUEST_SECONDS = REGISTRY.histogram(
    "hrss_http_request_duration_seconds",
    "HTTP request latency by route template and status, from first byte in to last byte out.",
    ("method", "route", "status"),
)
HTTP_RATE_LIMITED = REGISTRY.counter(
    "hrss_http_rate_limited", "Requests refused with 429, by bucket kind.", ("kind",)
)
CHAIN_ERRORS = REGISTRY.counter(
    "hrss_chain_errors",
    "Chain RPC failures by kind and by where they surfaced.",
    ("kind", "source"),
)
VERIFICATIONS = REGISTRY.counter(
    "hrss_verifications", "Verification reports by kind and verdict.", ("kind", "verified")
)
VERIFICATION_CHECKS = REGISTRY.counter(
    "hrss_verification_checks",
    "Named checks of verification reports by outcome (passed, failed, skipped).",
    ("kind", "check", "status"),
)
BATCH_BUCKETS = (1, 10, 100, 1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000)
ANCHOR_BATCH_LEAVES = REGISTRY.histogram(
    "hrss_anchoring_batch_leaves",
    "Leaves of the batches this process sealed.",
    buckets=BATCH_BUCKETS,
)


def record_chain_error(kind: str, *, source: str = "api") -> None:
    """Count one chain failure (``kind``: ``unavailable`` or ``rejected``)."""
    CHAIN_ERRORS.inc(kind=kind, source=source)


def record_batch_sealed(leaves: int) -> None:
    """Count one sealed batch of ``leaves`` items."""
    ANCHOR_BATCH_LEAVES.observe(leaves)


def record_verification(kind: str, report: _Report) -> _Report:
    """Count a verification report shaped ``{"verified": bool, "checks": [{"check" (or
    "name"), "status"}, ...]}`` (credential, presentation and evidence reports all are); nested
    ``credentials`` reports of a presentation count under ``kind="presentation.credential"``.
    Returns `report`. Never raises: a report of another shape is counted as
    ``verified="unknown"``."""
    try:
        VERIFICATIONS.inc_labels(kind, "true" if report["verified"] else "false")
        for check in report.get("checks", ()):
            name = check["check"] if "check" in check else check["name"]
            VERIFICATION_CHECKS.inc_labels(kind, str(name), str(check["status"]))
        for nested in report.get("credentials", ()) or ():
            record_verification(f"{kind}.credential", nested)
    except (KeyError, TypeError, AttributeError):
        VERIFICATIONS.inc(kind=kind, verified="unknown")
    return report


class _OutboxCollector:
    """Reads the anchoring outbox at scrape time, at most once every ``min_interval`` seconds
    (a count over a million waiting items takes a while; scrapes every few seconds must not
    add up)."""

    def __init__(self, engine: Engine, *, min_interval: float) -> None:
        self._engine = engine
        self._min_interval = min_interval
        self._cached: tuple[float, list[CollectedFamily]] | None = None

    def __call__(self) -> Iterable[CollectedFamily]:
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < self._min_interval:
            return self._cached[1]
        families = self._read()
        self._cached = (now, families)
        return families

    def _read(self) -> list[CollectedFamily]:
        from credential_service.anchoring.outbox import BATCH, ITEM

        with self._engine.connect() as connection:
            waiting = connection.execute(
                select(func.count()).select_from(ITEM).where(ITEM.c.batch_id.is_(None))
            ).scalar_one()
            by_state = connection.execute(
                select(
                    BATCH.c.state, func.count(), func.coalesce(func.sum(BATCH.c.leaf_count), 0)
                ).group_by(BATCH.c.state)
            ).all()
            bucket_columns = [
                func.coalesce(func.sum(case((BATCH.c.leaf_count <= bound, 1), else_=0)), 0)
                for bound in BATCH_BUCKETS
            ]
            histogram = connection.execute(
                select(
                    func.count(), func.coalesce(func.sum(BATCH.c.leaf_count), 0), *bucket_columns
                )
            ).one()
        items = [Sample("hrss_anchoring_items", (("state", "submitted"),), float(waiting))]
        batches = []
        for state, count, leaves in by_state:
            items.append(Sample("hrss_anchoring_items", (("state", str(state)),), float(leaves)))
            batches.append(Sample("hrss_anchoring_batches", (("state", str(state)),), float(count)))
        count, total, *cumulative = histogram
        size_samples = [
            Sample("hrss_anchoring_batch_size_leaves_bucket", (("le", str(bound)),), float(c))
            for bound, c in zip(BATCH_BUCKETS, cumulative, strict=True)
        ]
        size_samples += [
            Sample("hrss_anchoring_batch_size_leaves_bucket", (("le", "+Inf"),), float(count)),
            Sample("hrss_anchoring_batch_size_leaves_count", (), float(count)),
            Sample("hrss_anchoring_batch_size_leaves_sum", (), float(total)),
        ]
        return [
            CollectedFamily(
                "hrss_anchoring_items",
                "gauge",
                "Anchoring outbox items by state; submitted is the queue depth.",
                tuple(items),
            ),
            CollectedFamily(
                "hrss_anchoring_batches", "gauge", "Anchoring batches by state.", tuple(batches)
            ),
            CollectedFamily(
                "hrss_anchoring_batch_size_leaves",
                "histogram",
                "Sizes of the anchoring batches in the database.",
                tuple(size_samples),
            ),
        ]


def watch_anchoring_outbox(
    engine: Engine, *, registry: Registry = REGISTRY, min_interval: float = 5.0
) -> None:
    """Report the outbox of `engine` at every scrape of `registry` (read at most every
    `min_interval` seconds). A failing read is reported by the registry, not raised."""
    registry.add_collector("anchoring_outbox", _OutboxCollector(engine, min_interval=min_interval))
