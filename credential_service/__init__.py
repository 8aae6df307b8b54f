"""The hrss-trust credential service: FastAPI + SQLModel over the trust registries.

The exports load on first use, so the ``hrss`` command, which lives in this package, starts
without importing the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wallet_sdk._lazy import lazy_exports

if TYPE_CHECKING:
    from credential_service.api import create_app
    from credential_service.core.config import Settings
    from credential_service.errors import ErrorCode, ServiceError

__all__ = ["ErrorCode", "ServiceError", "Settings", "create_app"]

__getattr__ = lazy_exports(
    __name__,
    {
        "ErrorCode": "credential_service.errors",
        "ServiceError": "credential_service.errors",
        "Settings": "credential_service.core.config",
        "create_app": "credential_service.api",
    },
)
