"""Small apps for the supervisor tests: each answers with the pid of the worker serving it."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import node_adapter  # noqa: F401  (as the service does: it raises the recursion limit)


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
