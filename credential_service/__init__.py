"""The hrss-trust credential service: FastAPI + SQLModel over the trust registries."""

from credential_service.api import create_app
from credential_service.core.config import Settings
from credential_service.errors import ErrorCode, ServiceError

__all__ = ["ErrorCode", "ServiceError", "Settings", "create_app"]
