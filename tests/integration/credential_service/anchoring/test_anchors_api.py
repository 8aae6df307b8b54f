"""``/v1/anchors``: submit (JSON and streamed multipart), read, look up, verify; tenant rules."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credential_service.anchoring.batcher import Batcher
from credential_service.cli import main
from credential_service.models import OrganisationKind
from tests.integration.credential_service.anchoring.conftest import Service
from wallet_sdk.receipt import AnchorReceipt, verify_receipt_offline

# With the service tests on one xdist worker, so the session's services are built once.
pytestmark = pytest.mark.xdist_group("credential_service")


def _client(service: Service, role: OrganisationKind = OrganisationKind.EMPLOYER) -> str:
    return service.credential(role).client_id


def _submit(service: Service, client_id: str, digests: list[str], **extra: Any) -> Any:
    body = {"document_type": "labour_contract", "digests": digests, **extra}
    return service.client.post("/v1/anchors", json=body, headers=service.headers(client_id))


def test_json_submission_is_idempotent_and_ends_with_a_verifiable_receipt(
    service: Service, service_batcher: Batcher
) -> None:
    employer = _client(service)
    headers = service.headers(employer)
    digests = ["0x" + os.urandom(32).hex() for _ in range(2_000)]
    items: list[dict[str, Any]] = []
    for start in range(0, 2_000, 500):  # the test service takes 64 KiB bodies
        response = _submit(service, employer, digests[start : start + 500])
        assert response.status_code == 202, response.text
        assert response.json()["count"] == 500
        items += response.json()["items"]
    assert [i["digest"] for i in items] == digests
    body = {"items": items}
    again = _submit(service, employer, [*digests[:10], digests[0]])
    assert [i["id"] for i in again.json()["items"]] == [
        i["id"] for i in body["items"][:10] + body["items"][:1]
    ]

    anchor_id = body["items"][7]["id"]
    pending = service.client.get(f"/v1/anchors/{anchor_id}", headers=headers).json()
    assert pending["state"] == "submitted" and pending["receipt"] is None

    service_batcher.drain(timeout=60)
    done = service.client.get(f"/v1/anchors/{anchor_id}", headers=headers).json()
    assert done["state"] == "confirmed"
    receipt = done["receipt"]
    assert receipt["version"] == "hrss-anchor-receipt/1"
    assert receipt["document_digest"] == digests[7]
    by_digest = service.client.get(
        "/v1/anchors", params={"digest": digests[7]}, headers=headers
    ).json()
    assert by_digest == done

    verified = service.client.post(
        "/v1/anchors/verify", json={"receipt": receipt, "digest": digests[7]}
    ).json()
    assert verified["verified"] is True and verified["failed_check"] is None
    assert [c["name"] for c in verified["checks"]][-1] == "anchoring_entity_active"

    other = "0x" + os.urandom(32).hex()
    refused = service.client.post(
        "/v1/anchors/verify", json={"receipt": receipt, "digest": other}
    ).json()
    assert refused["verified"] is False and refused["failed_check"] == "document_digest"

    edited = {**receipt, "block_time": receipt["block_time"] + 1}
    refused = service.client.post(
        "/v1/anchors/verify", json={"receipt": edited, "digest": digests[7]}
    ).json()
    assert refused["failed_check"] == "block"

    malformed = service.client.post(
        "/v1/anchors/verify", json={"receipt": {"version": "x"}, "digest": digests[7]}
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "validation_failed"


def test_files_are_hashed_while_they_stream_in_whatever_their_size(service: Service) -> None:
    employer = _client(service)
    big = os.urandom(3 * 1024 * 1024)  # far over the service's JSON body limit
    small = b"labour contract v1"
    response = service.client.post(
        "/v1/anchors",
        data={"document_type": "labour_contract"},
        files=[
            ("file", ("contract.pdf", small, "application/pdf")),
            ("file", ("scan.tiff", big, "image/tiff")),
        ],
        headers=service.headers(employer),
    )
    assert response.status_code == 202, response.text
    items = response.json()["items"]
    assert [(i["filename"], i["size"]) for i in items] == [
        ("contract.pdf", len(small)),
        ("scan.tiff", len(big)),
    ]
    assert [i["digest"] for i in items] == [
        "0x" + hashlib.sha256(small).hexdigest(),
        "0x" + hashlib.sha256(big).hexdigest(),
    ]


def test_a_json_body_over_the_limit_is_refused(service: Service) -> None:
    employer = _client(service)
    digests = ["0x" + os.urandom(32).hex() for _ in range(1_500)]  # > 64 KiB of JSON
    response = _submit(service, employer, digests)
    assert response.status_code == 413
    assert response.json()["code"] == "request_body_too_large"


def test_bad_submissions_are_refused_with_the_error_body(service: Service) -> None:
    employer = _client(service)
    headers = service.headers(employer)
    bad_digest = _submit(service, employer, ["0x1234"])
    assert bad_digest.status_code == 422 and bad_digest.json()["code"] == "validation_failed"
    nothing = _submit(service, employer, [])
    assert nothing.status_code == 400
    no_auth = service.client.post("/v1/anchors", json={"document_type": "x", "digests": []})
    assert no_auth.status_code == 401
    not_json = service.client.post(
        "/v1/anchors", content=b"{", headers={**headers, "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    no_file = service.client.post(
        "/v1/anchors", data={"document_type": "labour_contract"}, files=[], headers=headers
    )
    assert no_file.status_code in (400, 422)


def test_an_organisation_sees_only_its_own_anchors(service: Service) -> None:
    employer = _client(service)
    issuer = _client(service, OrganisationKind.ISSUER)
    digest = "0x" + os.urandom(32).hex()
    anchor_id = _submit(service, employer, [digest]).json()["items"][0]["id"]
    theirs = service.client.get(f"/v1/anchors/{anchor_id}", headers=service.headers(issuer))
    assert theirs.status_code == 404
    by_digest = service.client.get(
        "/v1/anchors", params={"digest": digest}, headers=service.headers(issuer)
    )
    assert by_digest.status_code == 404
    unknown = service.client.get(f"/v1/anchors/{uuid.uuid4()}", headers=service.headers(employer))
    assert unknown.status_code == 404


class _ServiceHttp:
    """What `hrss anchor` uses of an httpx.Client, routed into the app's test client."""

    def __init__(self, service: Service, token: str) -> None:
        self._service = service
        self._headers = {"Authorization": f"Bearer {token}"}

    def __enter__(self) -> _ServiceHttp:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._service.client.post(path, headers=self._headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._service.client.get(path, headers=self._headers, **kwargs)


def test_hrss_anchor_submits_files_and_writes_their_receipts(
    service: Service,
    service_batcher: Batcher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    employer = _client(service)
    monkeypatch.setattr(
        "credential_service.anchoring.cli._client",
        lambda url, token: _ServiceHttp(service, token),
    )
    files = []
    for index in range(3):
        path = tmp_path / f"certificate-{index}.pdf"
        path.write_bytes(os.urandom(10_000))
        files.append(str(path))
    runner = CliRunner()
    args = ["anchor", *files, "--service", "http://testserver", "--token", service.token(employer)]
    first = runner.invoke(main, [*args, "--quiet"])
    assert first.exit_code == 0, first.output
    submitted = [json.loads(line) for line in first.output.splitlines()]
    assert [s["digest"] for s in submitted] == [
        "0x" + hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in files
    ]

    service_batcher.drain(timeout=60)
    again = runner.invoke(main, [*args, "--quiet", "--wait", "30"])
    assert again.exit_code == 0, again.output
    lines = [json.loads(line) for line in again.output.splitlines()]
    assert [line["id"] for line in lines] == [s["id"] for s in submitted]
    for line in lines:
        receipt = AnchorReceipt.parse(Path(line["receipt"]).read_text())
        verify_receipt_offline(receipt, bytes.fromhex(line["digest"][2:]))
