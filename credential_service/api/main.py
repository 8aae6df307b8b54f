"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from credential_service.api.audit import AuditTrailMiddleware
from credential_service.api.body_limit import BodySizeLimitMiddleware
from credential_service.api.errors import install_error_handlers
from credential_service.api.hardening import install_hardening, rate_limit_policy
from credential_service.api.json_nesting import JsonNestingLimitMiddleware
from credential_service.api.observability import install_observability
from credential_service.api.routes import (
    anchors,
    auth,
    cards,
    consents,
    credentials,
    evidence,
    health,
    labour_contracts,
    login,
    me,
    organisations,
    registry,
    schemas,
    vc_api,
)
from credential_service.api.routes.docs import install_docs
from credential_service.context import ServiceContext
from credential_service.core import heap
from credential_service.core.config import Settings
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import ConfigurationError
from credential_service.services.tokens import OrganisationStandingCache
from node_adapter import ChainError

DOCUMENT_UPLOAD_BYTES = 32 * 1024 * 1024
_log = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, context: ServiceContext | None = None, settle_heap: bool = False
) -> FastAPI:
    """The HTTP application. Without ``context`` the app opens one at startup (database
    migrated, keystore unlocked, chain connected, Ministry present) and closes it at shutdown;
    with one, the caller owns it. ``settle_heap`` (for a process that only serves, such as
    `credential_service.api.server`'s) freezes the long-lived heap once startup is done, and
    again once the credential runtime is built (`credential_service.core.heap.settle`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if context is not None:
            yield
            return
        opened = await run_in_threadpool(ServiceContext.open_waiting_for_chain, settings)
        app.state.context = opened
        # The chain-state cache verification reads is built now, not by the first
        # verification request: that one, and every one behind it on this worker, waited
        # for the registries' events to be read (a 146 ms stall at 1,000 requests a second).
        # Should it fail, the first verification builds it, as before.
        runtime: CredentialRuntime | None = None
        try:
            runtime = await run_in_threadpool(CredentialRuntime.from_service, opened)
        except (ChainError, ConfigurationError) as err:
            _log.warning("credential runtime not built at startup: %s", err)
        else:
            app.state.credential_runtime = runtime
        if settle_heap:
            app.state.settle_heap = True
            heap.settle()
        try:
            yield
        finally:
            if runtime is not None:
                runtime.close()
            await run_in_threadpool(opened.close)

    app = FastAPI(
        title="hrss-trust credential service",
        version="0.1.0",
        lifespan=lifespan,
        # served from this process with their assets (routes/docs.py), not from a CDN
        docs_url=None,
        redoc_url=None,
        # Metrics and logs are our own (/metrics, JSON lines); FastAPI's OpenTelemetry
        # instrumentation would only ask, on every request, whether a provider was set.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    if context is not None:
        app.state.context = context
    # one per app, so per worker process; made here rather than by the first request using it
    app.state.standing_cache = OrganisationStandingCache()
    install_error_handlers(app)
    # added first = innermost: JSON bodies are measured once the size limit has let them in
    app.add_middleware(JsonNestingLimitMiddleware)
    # the audit trail also records refused oversized and too deeply nested bodies
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        path_limits={
            "/v1/anchors": anchors.MAX_UPLOAD_BYTES,
            # contract documents and evidence packages with their document are files
            "/v1/labour-contracts": DOCUMENT_UPLOAD_BYTES,
            "/v1/labour-contracts/{contract_id}/versions": DOCUMENT_UPLOAD_BYTES,
            "/v1/evidence/verify": DOCUMENT_UPLOAD_BYTES,
        },
    )
    app.add_middleware(AuditTrailMiddleware)
    # Routes are matched in the order they were added: the verification routes, the hot
    # path, come first, before even /metrics and the health checks.
    app.include_router(credentials.router)
    # outside the audit trail: rate limits, CORS, security headers, then request ids + metrics
    install_hardening(
        app, policy=rate_limit_policy(settings), cors_allow_origins=settings.cors_allow_origins
    )
    install_observability(
        app, metrics_enabled=settings.metrics_enabled, access_log=settings.access_log
    )
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(organisations.router)
    app.include_router(login.router)
    app.include_router(consents.router)
    app.include_router(me.router)
    app.include_router(vc_api.router)
    app.include_router(labour_contracts.router)
    app.include_router(evidence.router)
    app.include_router(anchors.router)
    app.include_router(registry.router)
    app.include_router(cards.router)
    app.include_router(schemas.router)
    install_docs(app)
    return app
