"""End to end, over a real JSON-RPC node (anvil) and the service's HTTP API: a Guangdong
technical school and a Zhejiang training institution add entries to one person's lifelong
training file over time; the Shanghai HRSS department, a third province, checks the file as
the holder presents it, sees who issued each entry and where, and catches a file with an
entry of another person, a file with its middle entry removed, a file with its last entry
dropped and a forked file (a branch an issuer signed beside the service, which the file head on
chain never took). The service refuses a second entry at a taken sequence; after the scenario
the chain holds no name, ID number, file id or holder key."""

from __future__ import annotations

import json
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
from tests.unit.wallet_sdk.credentials.world import training_subject
from wallet_sdk.credentials import FILE_HEAD_CLAIM, TrainingFile, issue_vc_jwt
from wallet_sdk.jose import Curve, Jwk, b64url_decode
from wallet_sdk.privacy import PersonalValue, scan_chain_for

pytestmark = pytest.mark.anvil

SHANGHAI = "https://rsj.sh.example/training-check"
PERSON = {"name": "王小明", "idNumber": "11010519900307123X"}
OTHER_PERSON = {"name": "李四", "idNumber": "440300199001011234"}


def payload(token: str) -> dict[str, Any]:
    """The claims of a compact entry (read, not verified)."""
    claims: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return claims


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

    def failures(
        training_file: TrainingFile, verifier: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The report of a file that must fail, and its failed checks with their details."""
        report = check(training_file, verifier)
        assert report["verdict"] == "failed" and report["verified_hours"] == 0
        failed = {c["check"]: c["detail"] for c in report["checks"] if c["status"] == "failed"}
        return report, failed

    def rogue_entry(training_file: TrainingFile, issuer: str) -> str:
        """An entry `issuer` signs with its registered key and registers as an ordinary
        credential, beside the service (which would refuse it), so no head advances."""
        claims = payload(training_file.entries[-1])
        entity = bytes.fromhex(payload(training_file.entries[1])["issuer"][-64:])
        issued = issue_vc_jwt(
            credential_type=runtime.types.get("TrainingRecord"),
            subject={**training_subject("焊接", 16, "2026-06-01"), **PERSON},
            issuer_id=entity,
            key=runtime.keystore.get(f"credential-signing/{issuer}/0"),
            status_registry=runtime.status_registry,
            issued_at=runtime.chain.block().timestamp,
            holder_key=holder,
            extra_claims={
                "trainingFile": training_file.next_link().to_claim(),
                FILE_HEAD_CLAIM: claims[FILE_HEAD_CLAIM],
            },
        )
        runtime.clients.status_registry.register(
            runtime.controller(issuer),
            issuer=entity,
            credential_ids=[issued.credential_id],
            digests=[issued.digest],
        )
        return issued.token

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
            report, failed = failures(middle_removed, shanghai)
            assert list(failed) == ["entry_links", "file_head"]
            assert "an entry was removed" in failed["entry_links"]

            # A second entry at a taken sequence: the service refuses it (no fork signed).
            response = client.post(
                "/v1/credentials",
                json={
                    "credentials": [
                        {
                            "type": "TrainingRecord",
                            "subject": {**training_subject("焊接", 8, "2026-06-01"), **PERSON},
                            "holder_jwk": holder.public_jwk(),
                            "training_file": TrainingFile(
                                training_file.file_id, training_file.entries[:2]
                            )
                            .next_link()
                            .to_claim(),
                        }
                    ]
                },
                headers=headers(hangzhou),
            )
            assert response.status_code == 409, response.text
            assert response.json()["code"] == "training_file_sequence_taken"

            # A fork signed beside the service: Zhejiang signs another entry 2 with its
            # registered key and registers it without advancing the head. The entry alone
            # verifies; the branch does not.
            fork = TrainingFile(training_file.file_id, training_file.entries[:2])
            fork = fork.append(rogue_entry(fork, hangzhou))
            report, failed = failures(fork, shanghai)
            assert failed == {
                "file_head": "entry 2 is not the head on chain: a branch the file never took "
                "(a fork)"
            }
            assert report["entries"][2]["outcome"] == "counted"

            # Zhejiang adds an entry naming another person to this file: caught and named.
            mixed = add_entry(training_file, hangzhou, "焊接", 700, "2026-06-30", **OTHER_PERSON)
            report, failed = failures(mixed, shanghai)
            assert failed == {
                "one_person": "entries of someone else: entry 3 names another person "
                "(name, idNumber differ)"
            }
            assert report["entries"][3]["outcome"] == "foreign"
            assert report["entries"][3]["issuer"]["name"] == "杭州市职业技能培训中心"

            # The holder drops the unwelcome last entry: the head on chain says entry 3.
            report, failed = failures(training_file, shanghai)
            assert failed == {
                "file_head": "the file shows 3 entries but its head on chain is entry 3: "
                "entries dropped from the end"
            }

            # Nothing on chain names the person or links the file to its holder.
            values = [
                PersonalValue.person_name(PERSON["name"]),
                PersonalValue.id_number(PERSON["idNumber"]),
                PersonalValue.person_name(OTHER_PERSON["name"], label="other_name"),
                PersonalValue.id_number(OTHER_PERSON["idNumber"], label="other_id_number"),
                PersonalValue.text("file_id", training_file.file_id),
                PersonalValue.binary("holder_key", holder.thumbprint()),
                PersonalValue.text("holder_key_b64", holder.thumbprint_b64()),
            ]
            head_key = bytes.fromhex(payload(training_file.entries[0])[FILE_HEAD_CLAIM][2:])
            control = PersonalValue.binary("control_file_head", head_key)
            privacy = scan_chain_for([control, *values], runtime.chain)
            assert privacy.hits_for("control_file_head"), "the scan is blind"
            assert all(not privacy.hits_for(v.label) for v in values), privacy.describe()
    finally:
        runtime.close()
        context.close()
