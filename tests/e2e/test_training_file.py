"""End to end, over a real JSON-RPC node (anvil) and the service's HTTP API: a Guangdong
technical school and a Zhejiang training institution add entries to one person's lifelong
training file over time; the Shanghai HRSS department, a third province, checks the file as
the holder presents it, sees who issued each entry and where, and catches a file with an
entry of another person and a file with its middle entry removed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.bootstrap import ZHEJIANG, bootstrap_demo, load_client_key
from credential_service.context import ServiceContext
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.keystore import FileKeystore
from credential_service.models import OrganisationKind
from node_adapter import AnvilProcess
from tests.fixtures.organisations import fresh_credit_code
from tests.integration.credential_service.conftest import sign_assertion
from tests.unit.credentials.world import training_subject
from wallet_sdk.credentials import TrainingFile
from wallet_sdk.jose import Curve, Jwk

pytestmark = pytest.mark.anvil

SHANGHAI = "https://rsj.sh.example/training-check"
PERSON = {"name": "王小明", "idNumber": "11010519900307123X"}
OTHER_PERSON = {"name": "李四", "idNumber": "440300199001011234"}


def test_training_file_from_two_provinces_checked_in_a_third(
    anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path
) -> None:
    node = anvil_process_factory()
    settings = Settings(
        dev_mode=True,
        chain_rpc_urls=(node.url,),
        database_url=f"sqlite:///{tmp_path / 'hrss.db'}",
        keystore_path=tmp_path / "service.keystore",
        keystore_passphrase=SecretStr("e2e-passphrase"),
        deployment_path=tmp_path / "deployment.json",
        issuer_url="http://testserver",
    )
    context = ServiceContext.open(settings)
    demo = bootstrap_demo(
        context, client_keystore_path=tmp_path / "clients.ks", client_passphrase="d"
    )
    clients = FileKeystore.open(tmp_path / "clients.ks", "d")
    app = create_app(settings, context=context)
    runtime = CredentialRuntime.from_service(context, follow_interval=None)
    app.state.credential_runtime = runtime
    keys: dict[str, dict[str, str]] = {}

    def headers(client_id: str) -> dict[str, str]:
        jwk = keys.get(client_id) or load_client_key(clients, client_id)
        response = client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": sign_assertion(jwk, client_id=client_id),
            },
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def accredit(by: str, name: str, kind: str, region: int, prefix: str) -> str:
        key = Jwk.generate(Curve.ED25519)
        code = fresh_credit_code(region, prefix)
        public = {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x")}
        response = client.post(
            "/v1/organisations",
            json={"name": name, "kind": kind, "region": region, "credit_code": code,
                  "keys": [public]},
            headers=headers(by),
        )  # fmt: skip
        assert response.status_code == 201, response.text
        keys[code] = {**key.private_jwk(), "kid": key.thumbprint_b64()}
        return code

    holder = Jwk.generate(Curve.ED25519)

    def add_entry(
        training_file: TrainingFile, issuer: str, course: str, hours: int, end: str, **who: str
    ) -> TrainingFile:
        subject = {**training_subject(course, hours, end), **PERSON, **who}
        response = client.post(
            "/v1/credentials",
            json={
                "credentials": [
                    {
                        "type": "TrainingRecord",
                        "subject": subject,
                        "holder_jwk": holder.public_jwk(),
                        "training_file": training_file.next_link().to_claim(),
                    }
                ]
            },
            headers=headers(issuer),
        )
        assert response.status_code == 201, response.text
        token = response.json()["credentials"][0]["credential"]
        return TrainingFile(training_file.file_id, (*training_file.entries, token))

    def check(training_file: TrainingFile, verifier: str) -> dict[str, Any]:
        nonce = f"sh-{time.monotonic_ns()}"
        presentation = training_file.present(
            holder_key=holder, nonce=nonce, audience=SHANGHAI, issued_at=int(time.time())
        )
        runtime.trust_state.refresh()
        response = client.post(
            "/v1/training-files/verify",
            json={"presentation": presentation.to_dict(), "nonce": nonce, "audience": SHANGHAI},
            headers=headers(verifier),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    try:
        with TestClient(app, base_url="http://testserver") as client:
            by_role = {c.role: c.client_id for c in reversed(demo)}
            guangdong, school = by_role[OrganisationKind.PROVINCE], by_role[OrganisationKind.ISSUER]
            ministry = by_role[OrganisationKind.MINISTRY]
            hangzhou = accredit(ZHEJIANG, "杭州市职业技能培训中心", "issuer", 330100, "12")
            shanghai = accredit(ministry, "上海市人力资源和社会保障局", "province", 310000, "11")
            for province, issuer in ((guangdong, school), (ZHEJIANG, hangzhou)):
                response = client.put(
                    f"/v1/credential-types/TrainingRecord/issuers/{issuer}",
                    json={"allowed": True},
                    headers=headers(province),
                )
                assert response.status_code == 200, response.text

            # Over time, the file grows: Guangdong, Zhejiang, Guangdong.
            training_file = TrainingFile.for_holder(holder)
            training_file = add_entry(training_file, school, "电工基础", 40, "2025-03-31")
            training_file = add_entry(training_file, hangzhou, "电子商务", 32, "2025-11-15")
            training_file = add_entry(training_file, school, "PLC 编程", 64, "2026-05-20")

            report = check(training_file, shanghai)
            assert report["verdict"] == "verified", report
            assert report["verified_hours"] == 136
            assert report["hours_by_period"] == {"2025": 72, "2026": 64}
            issuers = [(e["issuer"]["name"], e["issuer"]["province"]) for e in report["entries"]]
            assert issuers == [
                ("广州市高级技工学校", "广东省"),
                ("杭州市职业技能培训中心", "浙江省"),
                ("广州市高级技工学校", "广东省"),
            ]
            assert report["entries"][1]["issuer"]["accreditation_path_text"].startswith(
                "杭州市职业技能培训中心, accredited by 浙江省人力资源和社会保障厅, accredited by "
            )

            # Shanghai may read the Zhejiang institution's public profile, though not its
            # tenant-scoped record.
            response = client.get(f"/v1/organisations/{hangzhou}", headers=headers(shanghai))
            assert response.status_code == 403
            response = client.get(
                f"/v1/registry/organisations/{hangzhou}", headers=headers(shanghai)
            )
            assert response.status_code == 200, response.text
            assert response.json()["province"] == "浙江省"

            # The middle entry removed: each remaining entry verifies, the file does not.
            middle_removed = TrainingFile(
                training_file.file_id, (training_file.entries[0], training_file.entries[2])
            )
            report = check(middle_removed, shanghai)
            assert report["verdict"] == "failed" and report["verified_hours"] == 0
            failed = {c["check"]: c["detail"] for c in report["checks"] if c["status"] == "failed"}
            assert (
                list(failed) == ["entry_links"] and "an entry was removed" in failed["entry_links"]
            )

            # Zhejiang adds an entry naming another person to this file: caught and named.
            mixed = add_entry(training_file, hangzhou, "焊接", 700, "2026-06-30", **OTHER_PERSON)
            report = check(mixed, shanghai)
            assert report["verdict"] == "failed" and report["verified_hours"] == 0
            failed = {c["check"]: c["detail"] for c in report["checks"] if c["status"] == "failed"}
            assert failed == {
                "one_person": "entries of someone else: entry 3 names another person "
                "(name, idNumber differ)"
            }
            assert report["entries"][3]["outcome"] == "foreign"
            assert report["entries"][3]["issuer"]["name"] == "杭州市职业技能培训中心"
    finally:
        runtime.close()
        context.close()
