"""Observability: a Prometheus registry on ``prometheus_client`` (multiprocess mode under
``api.serve``), the service's metrics and their hooks, structured JSON logs with request ids
and redaction of secrets and personal data. The HTTP side (request middleware,
``/metrics``) is in ``credential_service.api.observability``."""

from credential_service.observability.logs import (
    JsonFormatter,
    RedactionFilter,
    configure_logging,
    current_request_id,
    redact,
    register_secret,
    request_id_var,
)
from credential_service.observability.metrics import (
    CONTENT_TYPE,
    Counter,
    Gauge,
    Histogram,
    Registry,
)
from credential_service.observability.service_metrics import (
    REGISTRY,
    record_batch_sealed,
    record_chain_error,
    record_verification,
    watch_anchoring_outbox,
)

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "Counter",
    "Gauge",
    "Histogram",
    "JsonFormatter",
    "RedactionFilter",
    "Registry",
    "configure_logging",
    "current_request_id",
    "record_batch_sealed",
    "record_chain_error",
    "record_verification",
    "redact",
    "register_secret",
    "request_id_var",
    "watch_anchoring_outbox",
]
