"""Small apps for the supervisor tests: each answers with the pid of the worker serving it."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import py_ecc  # noqa: F401  (the chain libraries' import: raises the recursion limit)
from fastapi import FastAPI


def answering_pid() -> FastAPI:
    app = FastAPI()

    @app.get("/pid")
    def pid() -> dict[str, int]:
        return {"pid": os.getpid()}

    @app.get("/recursion-limit")
    def recursion_limit() -> dict[str, int]:
        return {"limit": sys.getrecursionlimit()}

    return app


def failing_at_startup() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("the database is not there")
        yield

    return FastAPI(lifespan=lifespan)


def observed() -> FastAPI:
    """`answering_pid` behind the service's own request middleware and ``/metrics``."""
    from credential_service.api.observability import install_observability

    app = answering_pid()
    install_observability(app, metrics_enabled=True, access_log=False)
    return app
