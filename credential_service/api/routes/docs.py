"""The API documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served with
their JavaScript and CSS from the service itself: government intranets have no internet, and
FastAPI's defaults load both from a CDN, leaving a blank page. The assets come from the PyPI
package ``fastapi-offline`` (``fastapi_offline/static``), installed like any dependency and
never copied into this repository."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_PATH", "install_docs"]

ASSETS_PATH = "/docs/static"
"""Where the Swagger UI and ReDoc assets are served."""

_OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def _assets_directory() -> Path:
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


def _hoist_local_defs(spec: dict[str, Any]) -> None:
    """Move the ``$defs`` a hand-written operation schema carries (``model_json_schema()``
    in ``openapi_extra``) into ``components/schemas``, and point their ``#/$defs/`` refs
    there: a ref is resolved from the document's root, where ``$defs`` is not, and ReDoc
    stops at the first one ("Invalid reference token: $defs").

    Raises `RuntimeError` when two schemas of one name differ (a ref would be ambiguous)."""
    schemas: dict[str, Any] = spec.setdefault("components", {}).setdefault("schemas", {})

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for name, schema in node.pop("$defs", {}).items():
                if schemas.setdefault(name, schema) != schema:
                    raise RuntimeError(f"two OpenAPI schemas are named {name}")
                walk(schema)
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec.get("paths", {}))


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and their assets from this
    process, and an OpenAPI document whose refs all resolve from its root. `app` must be made
    with ``docs_url=None, redoc_url=None``.

    Raises `RuntimeError` (from Starlette) when the asset package is not installed."""
    title = f"{app.title} API"
    openapi_url = app.openapi_url or "/openapi.json"
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            oauth2_redirect_url=_OAUTH2_REDIRECT,
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        )

    @router.get(_OAUTH2_REDIRECT)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc")
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    app.include_router(router)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _hoist_local_defs(generate())  # generate() caches its result as app.openapi_schema
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point
    app.mount(ASSETS_PATH, StaticFiles(directory=_assets_directory()), name="docs-assets")
