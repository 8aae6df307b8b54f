"""The API docs with no internet (#13.4), in a real headless Chromium whose host resolver
knows only 127.0.0.1: every other host (a CDN included) is unresolvable, as on a government
intranet. ``/docs`` (Swagger UI) and ``/redoc`` must render the service's operations from
assets the service serves itself. Fails (never skips) in CI without Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from credential_service import create_app
from credential_service.core.config import Settings
from tests.e2e.browser import chromium_page, find_chromium, serve

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("docs-browser")]

NO_INTERNET = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def test_docs_render_their_operations_without_internet(tmp_path: Path) -> None:
    chromium = find_chromium()
    settings = Settings(
        dev_mode=True,
        database_url=f"sqlite:///{tmp_path / 'docs.db'}",
        keystore_path=tmp_path / "ks",
        keystore_passphrase=SecretStr("pw"),
    )
    app = create_app(settings)  # served without its lifespan: the docs need no chain
    operations = len([path for path in app.openapi()["paths"].values() for _ in path])
    assert operations > 20
    with serve(app) as base_url, chromium_page(chromium, tmp_path / "profile", NO_INTERNET) as page:
        # the resolver rule holds: a CDN host cannot be reached from this browser
        page.navigate("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js")
        page.wait_for("document.readyState === 'complete'")
        assert "swagger" not in page.evaluate("document.body ? document.body.innerText : ''")

        page.navigate(f"{base_url}/docs")
        shown = page.wait_for(
            "document.querySelectorAll('.opblock').length >= 20 &&"
            " document.querySelectorAll('.opblock').length"
        )
        assert shown >= 20
        summary = page.evaluate(
            "[...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent)"
        )
        assert any(path.startswith("/v1/evidence/verify") for path in summary)
        assert page.evaluate("document.title") == f"{app.title} API"
        assets = (
            "[...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
        )
        assert all(url.startswith(base_url + "/docs/static/") for url in page.evaluate(assets))

        page.navigate(f"{base_url}/redoc")
        found = page.wait_for(
            "document.querySelectorAll('[data-section-id^=\"operation/\"]').length"
        )
        assert found >= 20
        assert all(url.startswith(base_url + "/docs/static/") for url in page.evaluate(assets))
