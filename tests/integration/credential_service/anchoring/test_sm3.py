"""SM3 (GB/T 32905) end to end: digests and streamed uploads through ``/v1/anchors`` on SQLite
and PostgreSQL, SM3 batches apart from SHA-256 ones, receipts verified with `wallet_sdk`
against the chain, ``POST /v1/anchors/verify``, ``hrss anchor`` and ``hrss verify-receipt``."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from credential_service.anchoring import outbox
from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.cli import verify_receipt_command
from credential_service.anchoring.outbox import NewItem
from credential_service.anchoring.service import ALGORITHMS, anchor_status, submit_digests
from credential_service.cli import main
from credential_service.crypto_profile import CryptoProfile
from credential_service.models import OrganisationKind
from node_adapter import AnvilProcess
from tests.fixtures.anchoring import AnchoringRegistries
from tests.fixtures.database import BACKENDS
from tests.integration.credential_service.anchoring.conftest import Service
from wallet_sdk.chain_view import NodeChainView
from wallet_sdk.errors import VerificationError
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.receipt import AnchorReceipt, verify_receipt, verify_receipt_offline

SM3 = HashAlgorithm.SM3
SHA256 = HashAlgorithm.SHA256


def _hex(digest: bytes) -> str:
    return "0x" + digest.hex()


def _employer(service: Service) -> str:
    return service.credential(OrganisationKind.EMPLOYER).client_id


def _submit(service: Service, client_id: str, body: dict[str, Any]) -> Any:
    return service.client.post(
        "/v1/anchors",
        json={"document_type": "labour_contract", **body},
        headers=service.headers(client_id),
    )


def _multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    """A multipart body with the parts in exactly this order: (name, filename, content)."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"
        chunks.append(head.encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _upload(service: Service, client_id: str, parts: list[tuple[str, str | None, bytes]]) -> Any:
    body, content_type = _multipart(parts)
    return service.client.post(
        "/v1/anchors",
        content=body,
        headers={**service.headers(client_id), "content-type": content_type},
    )


def _verify_on_chain(
    service: Service, receipt: dict[str, Any], digest: bytes, algorithm: HashAlgorithm
) -> None:
    """`wallet_sdk.verify_receipt` against the service's chain and registries (raises on
    failure)."""
    ledger = service.context.ledger
    chain, deployment = ledger.chain, ledger.deployment  # type: ignore[attr-defined]
    verify_receipt(
        AnchorReceipt.parse(receipt),
        digest,
        NodeChainView(chain),
        anchor_registry=deployment.anchor_registry,
        trust_registry=deployment.trust_registry,
        algorithm=algorithm,
    )


def _anchor(service: Service, client_id: str, anchor_id: str) -> dict[str, Any]:
    response = service.client.get(f"/v1/anchors/{anchor_id}", headers=service.headers(client_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------------------- the API


@pytest.mark.xdist_group("credential_service")
def test_the_openapi_schema_lists_both_algorithms(service: Service) -> None:
    assert sorted(ALGORITHMS) == ["sha-256", "sm3"]
    spec = service.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["VerifyRequest"]["properties"]["algorithm"]["enum"] == ["sha-256", "sm3"]
    submit = spec["paths"]["/v1/anchors"]["post"]["requestBody"]["content"]
    multipart = submit["multipart/form-data"]["schema"]["properties"]["algorithm"]
    assert multipart["enum"] == ["sha-256", "sm3"]
    assert submit["application/json"]["schema"]["properties"]["algorithm"]["enum"] == [
        "sha-256",
        "sm3",
    ]
    (query,) = [
        p for p in spec["paths"]["/v1/anchors"]["get"]["parameters"] if p["name"] == "algorithm"
    ]
    assert query["schema"]["enum"] == ["sha-256", "sm3"]


@pytest.mark.xdist_group("credential_service")
def test_sm3_digests_and_an_sm3_upload_end_in_receipts_that_verify(
    service: Service, service_batcher: Batcher
) -> None:
    employer = _employer(service)
    headers = service.headers(employer)
    documents = [os.urandom(2_000) for _ in range(12)]
    big = os.urandom(3 * 1024 * 1024)  # streamed: far over the JSON body limit
    sm3 = [SM3.digest(document) for document in documents]

    as_json = _submit(
        service,
        employer,
        {
            "algorithm": "sm3",
            "digests": [_hex(d) for d in sm3[:9]],
            "items": [{"digest": _hex(sm3[9]), "commitments": [_hex(os.urandom(32))]}],
        },
    )
    assert as_json.status_code == 202, as_json.text
    assert as_json.json()["algorithm"] == "sm3" and as_json.json()["count"] == 10
    uploaded = _upload(
        service,
        employer,
        [
            ("algorithm", None, b"sm3"),
            ("file", "contract-10.pdf", documents[10]),
            ("document_type", None, b"labour_contract"),
            ("file", "contract-11.pdf", documents[11]),
            ("file", "scan.tiff", big),
        ],
    )
    assert uploaded.status_code == 202, uploaded.text
    assert uploaded.json()["algorithm"] == "sm3"
    upload_items = uploaded.json()["items"]
    assert [(i["filename"], i["digest"]) for i in upload_items] == [
        ("contract-10.pdf", _hex(sm3[10])),
        ("contract-11.pdf", _hex(sm3[11])),
        ("scan.tiff", _hex(SM3.digest(big))),
    ]
    assert upload_items[2]["digest"] != _hex(SHA256.digest(big))
    ids = [i["id"] for i in as_json.json()["items"] + upload_items]
    pending = service.client.get(
        "/v1/anchors", params={"digest": _hex(sm3[3]), "algorithm": "sm3"}, headers=headers
    )
    assert pending.status_code == 200 and pending.json()["state"] == "submitted"
    assert pending.json()["algorithm"] == "sm3"
    as_sha = service.client.get("/v1/anchors", params={"digest": _hex(sm3[3])}, headers=headers)
    assert as_sha.status_code == 404 and as_sha.json()["code"] == "not_found"

    service_batcher.drain(timeout=60)
    for anchor_id, document in zip(ids, [*documents, big], strict=True):
        done = _anchor(service, employer, anchor_id)
        assert done["state"] == "confirmed" and done["algorithm"] == "sm3"
        receipt = done["receipt"]
        assert receipt["hash_algorithm"] == "sm3"
        assert receipt["document_digest"] == _hex(SM3.digest(document))
        _verify_on_chain(service, receipt, SM3.digest(document), SM3)
    by_digest = service.client.get(
        "/v1/anchors", params={"digest": _hex(sm3[10]), "algorithm": "sm3"}, headers=headers
    ).json()
    assert by_digest == _anchor(service, employer, ids[10])

    receipt = by_digest["receipt"]
    verified = service.client.post(
        "/v1/anchors/verify",
        json={"receipt": receipt, "digest": _hex(sm3[10]), "algorithm": "sm3"},
    ).json()
    assert verified["verified"] is True and verified["failed_check"] is None
    assert [c["status"] for c in verified["checks"]] == ["passed"] * 8
    as_sha256 = service.client.post(
        "/v1/anchors/verify", json={"receipt": receipt, "digest": _hex(sm3[10])}
    ).json()
    assert as_sha256["verified"] is False and as_sha256["failed_check"] == "document_digest"
    assert "receipt is for a digest of sm3" in as_sha256["checks"][0]["detail"]
    # The receipt claims sm3; the document's SHA-256 digest does not match it.
    sha_digest = _hex(SHA256.digest(documents[10]))
    wrong = service.client.post(
        "/v1/anchors/verify", json={"receipt": receipt, "digest": sha_digest, "algorithm": "sm3"}
    ).json()
    assert wrong["verified"] is False and wrong["failed_check"] == "document_digest"


@pytest.mark.xdist_group("credential_service")
def test_a_mixed_run_ends_in_separate_batches_and_the_same_bytes_are_two_items(
    service: Service, service_batcher: Batcher
) -> None:
    employer = _employer(service)
    documents = [os.urandom(500) for _ in range(30)]
    shared = [_hex(os.urandom(32)) for _ in range(5)]  # the same 32 bytes under each algorithm
    submitted: dict[str, list[dict[str, Any]]] = {}
    for algorithm in ("sha-256", "sm3"):
        digests = [_hex(HashAlgorithm(algorithm).digest(d)) for d in documents]
        response = _submit(service, employer, {"algorithm": algorithm, "digests": digests + shared})
        assert response.status_code == 202, response.text
        submitted[algorithm] = response.json()["items"]
    sha_ids = [i["id"] for i in submitted["sha-256"]]
    sm3_ids = [i["id"] for i in submitted["sm3"]]
    assert not set(sha_ids) & set(sm3_ids)
    assert [i["digest"] for i in submitted["sha-256"][30:]] == shared
    assert [i["digest"] for i in submitted["sm3"][30:]] == shared
    # One file uploaded under each algorithm: two digests, two items.
    file_ids = {}
    for algorithm in ("sha-256", "sm3"):
        response = _upload(
            service,
            employer,
            [
                ("document_type", None, b"labour_contract"),
                ("algorithm", None, algorithm.encode()),
                ("file", "same.pdf", documents[0]),
            ],
        )
        assert response.status_code == 202, response.text
        (item,) = response.json()["items"]
        assert item["digest"] == _hex(HashAlgorithm(algorithm).digest(documents[0]))
        file_ids[algorithm] = item["id"]
    # the upload is the document already submitted as a digest: idempotent, same item
    assert file_ids == {"sha-256": sha_ids[0], "sm3": sm3_ids[0]}

    service_batcher.drain(timeout=60)
    batches: dict[str, set[str]] = {"sha-256": set(), "sm3": set()}
    for algorithm, ids in (("sha-256", sha_ids), ("sm3", sm3_ids)):
        hash_algorithm = HashAlgorithm(algorithm)
        for index, anchor_id in enumerate(ids):
            done = _anchor(service, employer, anchor_id)
            assert done["state"] == "confirmed"
            assert done["receipt"]["hash_algorithm"] == algorithm
            batches[algorithm].add(done["batch_id"])
            digest = bytes.fromhex(done["digest"][2:])
            if index < len(documents):
                assert digest == hash_algorithm.digest(documents[index])
            verify_receipt_offline(
                AnchorReceipt.parse(done["receipt"]), digest, algorithm=hash_algorithm
            )
        _verify_on_chain(service, done["receipt"], digest, hash_algorithm)
    assert batches["sha-256"] and batches["sm3"]
    assert not batches["sha-256"] & batches["sm3"]
    with service.context.engine.connect() as connection:
        mixed = connection.execute(
            select(outbox.ITEM.c.id)
            .join(outbox.BATCH, outbox.BATCH.c.id == outbox.ITEM.c.batch_id)
            .where(outbox.BATCH.c.algorithm != outbox.ITEM.c.algorithm)
        ).all()
        assert mixed == []
        algorithms = {
            str(uuid.UUID(bytes=bytes(row.id))): row.algorithm
            for row in connection.execute(select(outbox.BATCH.c.id, outbox.BATCH.c.algorithm))
        }
    assert {algorithms[b] for b in batches["sha-256"]} == {"sha-256"}
    assert {algorithms[b] for b in batches["sm3"]} == {"sm3"}


@pytest.mark.xdist_group("credential_service")
def test_unusable_algorithms_are_refused_with_a_stable_code(service: Service) -> None:
    employer = _employer(service)
    headers = service.headers(employer)
    digest = _hex(os.urandom(32))
    for name in ("SM3", "md5", "sha256"):
        response = _submit(service, employer, {"algorithm": name, "digests": [digest]})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_failed"
    lookup = service.client.get(
        "/v1/anchors", params={"digest": digest, "algorithm": "md5"}, headers=headers
    )
    assert lookup.status_code == 422 and lookup.json()["code"] == "validation_failed"
    verify = service.client.post(
        "/v1/anchors/verify", json={"receipt": {}, "digest": digest, "algorithm": "sha-512"}
    )
    assert verify.status_code == 422 and verify.json()["code"] == "validation_failed"

    cases = [
        (
            [("file", "a.pdf", b"a"), ("algorithm", None, b"sm3")],
            "the algorithm field must come before the files",
        ),
        (
            [("algorithm", None, b"sm3"), ("algorithm", None, b"sha-256"), ("file", "a", b"a")],
            "the algorithm field is given twice",
        ),
        ([("algorithm", None, b"md5"), ("file", "a.pdf", b"a")], "unsupported digest algorithm"),
    ]
    for parts, message in cases:
        response = _upload(service, employer, [("document_type", None, b"contract"), *parts])
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "validation_failed"
        assert message in response.json()["message"]


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


@pytest.mark.xdist_group("credential_service")
def test_hrss_anchor_with_sm3_writes_sm3_receipts_that_verify_receipt_accepts(
    service: Service,
    service_batcher: Batcher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    employer = _employer(service)
    monkeypatch.setattr(
        "credential_service.anchoring.cli._client",
        lambda url, token: _ServiceHttp(service, token),
    )
    files = []
    for index in range(3):
        path = tmp_path / f"certificate-{index}.pdf"
        path.write_bytes(os.urandom(3 * 1024 * 1024 + index))  # several 1 MiB reads
        files.append(path)
    runner = CliRunner()
    args = [
        "anchor",
        *map(str, files),
        "--algorithm",
        "sm3",
        "--service",
        "http://testserver",
        "--token",
        service.token(employer),
        "--quiet",
    ]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    submitted = [json.loads(line) for line in first.output.splitlines()]
    assert [(s["algorithm"], s["digest"]) for s in submitted] == [
        ("sm3", _hex(SM3.digest(path.read_bytes()))) for path in files
    ]

    service_batcher.drain(timeout=60)
    again = runner.invoke(main, [*args, "--wait", "30"])
    assert again.exit_code == 0, again.output
    lines = [json.loads(line) for line in again.output.splitlines()]
    assert [line["id"] for line in lines] == [s["id"] for s in submitted]
    for path, line in zip(files, lines, strict=True):
        receipt_path = Path(line["receipt"])
        receipt = AnchorReceipt.parse(receipt_path.read_text())
        assert receipt.hash_algorithm == "sm3"
        _verify_on_chain(service, receipt.to_dict(), SM3.digest(path.read_bytes()), SM3)
        ok = runner.invoke(main, ["verify-receipt", str(path), str(receipt_path), "--offline"])
        assert ok.exit_code == 0, ok.output
        assert "leaf hash recomputed with sm3" in ok.output
        pinned = runner.invoke(
            main,
            ["verify-receipt", str(path), str(receipt_path), "--offline", "--algorithm", "sha-256"],
        )
        assert pinned.exit_code == 1 and "FAIL document_digest" in pinned.output


# ---------------------------------------------------------------------------- on anvil


@pytest.mark.anvil
@pytest.mark.parametrize("_chain_base", ["anvil"], indirect=True)
@pytest.mark.parametrize("backend", BACKENDS)
def test_hrss_verify_receipt_checks_an_sm3_receipt_against_a_node(
    backend: str,
    anchoring_db: Callable[..., Engine],
    anchoring_registries: AnchoringRegistries,
    anvil: AnvilProcess,
    tmp_path: Path,
) -> None:
    engine = anchoring_db(backend)
    documents = []
    for index in range(4):
        path = tmp_path / f"contract-{index}.pdf"
        path.write_bytes(os.urandom(4096))
        documents.append(path)
    with engine.begin() as connection:
        for algorithm in ("sm3", "sha-256"):
            submit_digests(
                connection,
                organisation_id=5,
                algorithm=algorithm,
                items=[
                    NewItem(HashAlgorithm(algorithm).digest(p.read_bytes()), "labour_contract")
                    for p in documents
                ],
            )
        (first,) = submit_digests(
            connection,
            organisation_id=5,
            algorithm="sm3",
            items=[NewItem(SM3.digest(documents[0].read_bytes()), "labour_contract")],
        )
    report = Batcher(
        engine=engine,
        ledger=anchoring_registries.ledger(),
        owner="sm3-anvil",
        policy=BatchPolicy(max_age=timedelta(0)),
    ).drain(timeout=60)
    assert (report.sealed, report.confirmed_items) == (2, 8)
    with engine.connect() as connection:
        receipt = anchor_status(connection, organisation_id=5, item_id=first.id).receipt
    assert receipt is not None and receipt.hash_algorithm == "sm3"
    view = NodeChainView(anchoring_registries.chain)
    verify_receipt(
        receipt,
        SM3.digest(documents[0].read_bytes()),
        view,
        anchor_registry=anchoring_registries.anchor_registry,
        trust_registry=anchoring_registries.trust_registry,
        algorithm=SM3,
    )
    with pytest.raises(VerificationError) as info:
        verify_receipt(
            receipt,
            SHA256.digest(documents[0].read_bytes()),
            view,
            anchor_registry=anchoring_registries.anchor_registry,
            trust_registry=anchoring_registries.trust_registry,
        )
    assert info.value.check == "document_digest"

    receipt_path = tmp_path / "receipt.json"
    receipt_path.write_text(receipt.to_json())
    deployment_path = tmp_path / "deployment.json"
    anchoring_registries.registries.deployment.save(deployment_path)
    args = [str(receipt_path), "--rpc-url", anvil.url, "--deployment", str(deployment_path)]
    runner = CliRunner()
    ok = runner.invoke(verify_receipt_command, [str(documents[0]), *args])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().endswith("VERIFIED")
    assert "PASS anchoring_entity_active" in ok.output
    pinned = runner.invoke(verify_receipt_command, [str(documents[0]), *args, "--algorithm", "sm3"])
    assert pinned.exit_code == 0, pinned.output

    for document, extra, check in [
        (documents[1], [], "document_digest"),  # another document of the same batch
        (documents[0], ["--algorithm", "sha-256"], "document_digest"),
    ]:
        bad = runner.invoke(verify_receipt_command, [str(document), *args, *extra, "--json"])
        assert bad.exit_code == 1, bad.output
        result = json.loads(bad.output)
        assert result["verified"] is False
        assert next(c["name"] for c in result["checks"] if c["status"] == "failed") == check


@pytest.mark.xdist_group("credential_service")
def test_an_upload_without_an_algorithm_is_hashed_with_the_profiles(service: Service) -> None:
    """The service hashes uploads itself: unless the field names one, with its profile's hash
    (SM3 in the national profile). Digests a client sends keep ``sha-256`` unless named: the
    client hashed them, and the label must say how."""
    employer = _employer(service)
    document = os.urandom(1_000)
    parts: list[tuple[str, str | None, bytes]] = [
        ("document_type", None, b"labour_contract"),
        ("file", "contract.pdf", document),
    ]
    settings = service.context.settings
    try:
        for profile, algorithm in (
            (CryptoProfile.INTERNATIONAL, SHA256),
            (CryptoProfile.NATIONAL, SM3),
        ):
            service.context.settings = settings.model_copy(update={"crypto_profile": profile})
            uploaded = _upload(service, employer, parts)
            assert uploaded.status_code == 202, uploaded.text
            assert uploaded.json()["algorithm"] == algorithm.value
            assert uploaded.json()["items"][0]["digest"] == _hex(algorithm.digest(document))
            sent = _submit(service, employer, {"digests": [_hex(os.urandom(32))]})
            assert sent.status_code == 202 and sent.json()["algorithm"] == "sha-256"
    finally:
        service.context.settings = settings
