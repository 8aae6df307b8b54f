"""`credential_service.api.routes.docs`: the OpenAPI document the offline docs pages read
has every ref resolvable from its root."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from credential_service.api.routes.docs import ASSETS_PATH, install_docs


class Item(BaseModel):
    digest: str


class Batch(BaseModel):
    items: list[Item]


def _app(extra_schema: dict[str, Any]) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)

    @app.post(
        "/batches",
        openapi_extra={"requestBody": {"content": {"application/json": {"schema": extra_schema}}}},
    )
    def submit() -> None:
        return None

    install_docs(app)
    return app


def test_local_defs_of_a_hand_written_schema_move_to_components() -> None:
    spec = _app(Batch.model_json_schema()).openapi()
    schema = spec["paths"]["/batches"]["post"]["requestBody"]["content"]["application/json"]
    assert "$defs" not in schema["schema"]
    assert schema["schema"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Item"}
    assert spec["components"]["schemas"]["Item"] == Item.model_json_schema()
    assert "$defs" not in str(spec)


def test_two_different_schemas_of_one_name_are_refused() -> None:
    clash = Batch.model_json_schema()
    clash["properties"]["other"] = {"$ref": "#/$defs/Item"}
    clash["$defs"]["Item"] = {"type": "string"}
    app = _app(clash)

    @app.post("/items")
    def add(item: Item) -> None:
        return None

    app.openapi_schema = None
    with pytest.raises(RuntimeError, match="two OpenAPI schemas are named Item"):
        app.openapi()


def test_docs_pages_load_only_local_assets() -> None:
    with TestClient(_app(Batch.model_json_schema())) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            assert f'"{ASSETS_PATH}/' in html or f"'{ASSETS_PATH}/" in html, page
            assert "cdn.jsdelivr.net" not in html and "fonts.googleapis" not in html, page
        assert client.get(f"{ASSETS_PATH}/swagger-ui-bundle.js").status_code == 200
        assert client.get(f"{ASSETS_PATH}/redoc.standalone.js").status_code == 200
