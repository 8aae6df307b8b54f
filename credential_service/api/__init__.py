"""HTTP interface: the only package that imports FastAPI."""

from credential_service.api.main import create_app

__all__ = ["create_app"]
