"""End to end on a real JSON-RPC node (anvil): an employer uploads and signs a labour
contract, the employee reviews and signs it in the wallet after a QR login, the employer
amends it, the employee terminates it; every event is anchored. Then the service is shut down
and its database and keystore deleted, and the evidence package is verified from the chain
alone: with ``hrss verify-evidence`` and with the wallet SDK."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from credential_service.cli import main as hrss
from node_adapter import AnvilProcess, Chain, Deployment
from tests.integration.credential_service.labour.harness import DOCUMENT, open_labour_service
from wallet_sdk.credentials import CredentialVerifier, DirectTrustView
from wallet_sdk.evidence import Verdict, sign_as_employee, verify_evidence
from wallet_sdk.evidence.chain import NodeEvidenceChainView

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

AMENDED = DOCUMENT + "补充协议: 工作地点变更为广州市天河区\n".encode()


def test_contract_lifecycle_and_evidence_that_outlives_the_service_database(
    anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path
) -> None:
    directory = tmp_path / "service"
    directory.mkdir()
    # A node of its own: the signatures' times are the wall clock's, and the session's shared
    # node may have had its clock moved ahead by other tests (key_validity would then fail).
    anvil = anvil_process_factory()
    chain = Chain.from_urls([anvil.url], receipt_timeout=30.0)
    service_run = open_labour_service(directory, chain=chain)
    service = next(service_run)
    try:
        wallet = service.wallet()
        # 1. upload, employer signs, employee reviews and signs: effective
        contract_id = service.signed_contract(wallet)
        # 2. amendment: a new version linked to the first, signed by both
        amendment = service.client.post(
            f"/v1/labour-contracts/{contract_id}/versions",
            files={"document": ("amendment.pdf", AMENDED, "application/pdf")},
            data={
                "terms": json.dumps(
                    {
                        "relation": "amendment",
                        "hr_operator": "人事经理 陈静",
                        "key_terms": {"workplace": "广州市天河区"},
                    }
                )
            },
            headers=service.employer_headers(),
        )
        assert amendment.status_code == 201, amendment.text
        assert service.employer_signs(amendment.json()).status_code == 200
        assert service.employee_signs(contract_id, wallet).status_code == 200
        # 3. the employee terminates
        headers = service.login(wallet)
        prepared = service.client.post(
            f"/v1/me/labour-contracts/{contract_id}/termination",
            json={
                "reason_code": "employee-notice",
                "reason": "劳动者提前三十日书面通知解除",
                "effective_date": "2028-03-31",
            },
            headers=headers,
        )
        assert prepared.status_code == 200, prepared.text
        signature = sign_as_employee(
            service.pending_record(prepared.json()),
            wallet=wallet,
            card=wallet.social_security_card().token,
        )
        done = service.client.post(
            f"/v1/me/labour-contracts/{contract_id}/signature",
            json={"jws": signature.jws, "card_proof": signature.card_proof},
            headers=headers,
        )
        assert done.status_code == 200 and done.json()["state"] == "terminated"
        service.batcher.drain()
        package = service.client.get(
            f"/v1/me/labour-contracts/{contract_id}/evidence?disclose_key_terms=true",
            headers=headers,
        ).content
    finally:
        next(service_run, None)  # closes the service
    # 4. the service is gone: database, keystore, everything but the deployment addresses
    deployment = tmp_path / "deployment.json"
    shutil.copy(directory / "deployment.json", deployment)
    shutil.rmtree(directory)
    (tmp_path / "evidence.json").write_bytes(package)
    (tmp_path / "contract-v1.pdf").write_bytes(DOCUMENT)
    (tmp_path / "contract-v2.pdf").write_bytes(AMENDED)
    (tmp_path / "tampered.pdf").write_bytes(AMENDED.replace("天河".encode(), "越秀".encode()))

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            hrss,
            ["verify-evidence", *args, "--rpc-url", anvil.url, "--deployment", str(deployment)],
        )
        return result.exit_code, result.output

    code, output = cli(str(tmp_path / "evidence.json"), str(tmp_path / "contract-v2.pdf"), "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["verdict"] == "verified"
    assert report["version_status"] == "terminated"
    assert [e["event"] for e in report["timeline"]] == [
        "employer_signed",
        "employee_signed",
        "employer_signed",
        "employee_signed",
        "terminated",
    ]
    assert {c["status"] for c in report["checks"]} == {"passed"}

    code, output = cli(str(tmp_path / "evidence.json"), str(tmp_path / "contract-v1.pdf"))
    assert code == 0, output
    assert "VERIFIED" in output and "version status: superseded" in output

    code, output = cli(str(tmp_path / "evidence.json"), str(tmp_path / "tampered.pdf"))
    assert code == 1
    assert "FAILED" in output
    assert "failed   document" in output

    # the same through the wallet SDK, with the registries given directly
    trusted = Deployment.load(deployment)
    result = verify_evidence(
        package,
        AMENDED,
        NodeEvidenceChainView.from_urls([anvil.url]),
        anchor_registry=trusted.anchor_registry,
        trust_registry=trusted.trust_registry,
        card_verifier=CredentialVerifier(DirectTrustView(chain, trusted)),
    )
    assert result.verdict is Verdict.VERIFIED
    assert result.timeline[-1].event == "terminated"
    # three employee signatures, each with its e-card proof
    assert result.reasons["employee_identity"].code == "employee_identity.ok"
    assert dict(result.reasons["employee_identity"].params)["events"] == 3


def test_cli_without_a_node_or_registries_is_a_usage_error(tmp_path: Path) -> None:
    package = tmp_path / "evidence.json"
    package.write_text("{}")
    result = CliRunner().invoke(
        hrss,
        ["verify-evidence", str(package)],
        env={"HRSS_CHAIN_RPC_URLS": "", "HRSS_DEPLOYMENT_PATH": ""},
    )
    assert result.exit_code == 2
    assert "--rpc-url" in result.output
    unreachable = CliRunner().invoke(
        hrss,
        [
            "verify-evidence",
            str(package),
            "--rpc-url",
            "http://127.0.0.1:1",
            "--trust-registry",
            "0x" + "11" * 20,
            "--anchor-registry",
            "0x" + "22" * 20,
        ],
    )
    assert unreachable.exit_code == 2
    assert "no node reachable" in unreachable.output
