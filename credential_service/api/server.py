"""The production entry point:
``uvicorn --factory credential_service.api.server:app_from_environment``.

Reads `Settings` from the environment, installs the redacting JSON logging (the keystore
passphrase registered as a secret) and builds the app, which opens its `ServiceContext` at
startup. Run several processes (``--workers N``, or one per container) behind a load balancer;
each opens its own database pool and chain connection.
"""

from __future__ import annotations

from fastapi import FastAPI

from credential_service.api.main import create_app
from credential_service.core.config import Settings
from credential_service.core.serving import restore_recursion_limit
from credential_service.observability import configure_logging, register_secret

__all__ = ["app_from_environment"]


def app_from_environment() -> FastAPI:
    """The app of ``HRSS_*`` settings. Raises ``pydantic.ValidationError`` on bad settings."""
    settings = Settings()
    configure_logging(level=settings.log_level, json_format=settings.log_json)
    if settings.keystore_passphrase is not None:
        register_secret(settings.keystore_passphrase.get_secret_value())
    # a process that only serves: its long-lived heap is kept out of the collector's walks
    app = create_app(settings, settle_heap=True)
    restore_recursion_limit()  # the chain libraries raised it on import
    return app
