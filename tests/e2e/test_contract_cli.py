"""A labour contract's whole life through the two command-line tools, as subprocesses, against
`make run` (real HTTP, real anvil, the anchoring worker): the employer (``hrss contract``)
creates, signs, amends, renews and terminates; the employee (``hrss-wallet contract``) lists,
reviews and signs in the wallet; then the employer lists, shows, saves the evidence package and
the report, and ``hrss verify-evidence`` verifies the package from the chain alone (#13.1)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cards import CardCentre
from tests.fixtures.crypto_profile import crypto_profile_of_run
from tests.fixtures.running_service import RunningService, user_environment
from tests.integration.credential_service.labour.harness import DOCUMENT, person
from wallet_sdk import HashAlgorithm
from wallet_sdk.evidence import EvidencePackage
from wallet_sdk.jose import b64url_decode

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

BIN = Path(sys.executable).parent
AMENDED = DOCUMENT + "补充协议: 工作地点变更为广州市天河区\n".encode()
RENEWED = DOCUMENT.replace(b"2029-12-31", b"2032-12-31")
EMPLOYEE = person(601)  # a person of this test's own: the service is the session's
STRANGER = person(602)


class Tools:
    """The two commands, run as a user runs them (HRSS_DEV_MODE=true for the demo keystore)."""

    def __init__(self, service: RunningService, workdir: Path) -> None:
        self.service = service
        self.workdir = workdir
        self.employer = service.client_id("employer")
        passphrase = workdir / "wallet-passphrase"
        passphrase.write_text("correct horse battery staple\n")
        self.wallet = ["--wallet", str(workdir / "wallet"), "--passphrase-file", str(passphrase)]
        self.trust = workdir / "trust.json"
        # what `curl $SERVICE/v1/consents/trust > trust.json` does
        self.trust.write_bytes(httpx.get(f"{service.base}/v1/consents/trust", timeout=30).content)

    def run(self, tool: str, *args: str, expect: int = 0) -> str:
        result = subprocess.run(
            [str(BIN / tool), *args],
            cwd=self.workdir,
            env=user_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == expect, f"{tool} {args}:\n{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr

    def activate_e_card(self) -> None:
        """The Guangdong card centre activates the employee's e-card in the wallet, which
        every login of ``hrss-wallet contract`` presents."""
        with httpx.Client(base_url=self.service.base, timeout=60) as api:
            centre = CardCentre(
                client=api,
                headers=self.service.headers,
                centre=self.service.client_id("card_issuer"),
                province=self.service.client_id("province"),
            )
            code = centre.activation_code(centre.new_person("王小明"))
        self.run(
            "hrss-wallet", "card", "activate", code, "--service", self.service.base, *self.wallet
        )

    def hrss(self, *args: str) -> Any:
        connection = [
            "--service", self.service.base, "--client-id", self.employer,
            "--client-keystore", str(self.service.client_keystore),
        ]  # fmt: skip
        output = self.run("hrss", "contract", *args, *connection)
        return json.loads(output) if output.lstrip().startswith(("{", "[")) else output

    def wallet_contract(self, *args: str, expect: int = 0) -> str:
        service = ["--service", self.service.base, "--trust", str(self.trust)]
        return self.run("hrss-wallet", "contract", *args, *self.wallet, *service, expect=expect)

    def activate_card(self, subject: dict[str, str]) -> None:
        """The Guangdong card centre issues the wallet's e-card (``hrss-wallet card activate``)."""
        service = self.service
        centre = service.client_id("card_issuer")
        allowed = httpx.put(
            f"{service.base}/v1/credential-types/SocialSecurityCard/issuers/{centre}",
            json={"allowed": True},
            headers=service.headers(service.client_id("province")),
            timeout=60,
        )
        assert allowed.status_code == 200, allowed.text
        activation = httpx.post(
            f"{service.base}/v1/cards/activations",
            json=subject,
            headers=service.headers(centre),
            timeout=60,
        )
        assert activation.status_code == 201, activation.text
        code = activation.json()["activation_code"]
        self.run("hrss-wallet", "card", "activate", code, "--service", service.base, *self.wallet)

    def employee_signs(self, contract_id: str, document: Path) -> Any:
        reviewed = self.workdir / "reviewed.pdf"
        shown = json.loads(self.wallet_contract("show", contract_id, "--document", str(reviewed)))
        assert shown["pending"]["role"] == "employee"
        assert reviewed.read_bytes() == document.read_bytes()
        return json.loads(self.wallet_contract("sign", contract_id, "--document", str(reviewed)))


def _file(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path


def test_the_whole_lifecycle_through_the_two_command_line_tools(
    running_service: RunningService, tmp_path: Path
) -> None:
    tools = Tools(running_service, tmp_path)
    identity = tools.run("hrss-wallet", "init", *tools.wallet, "--scrypt-n", "1024")
    tools.activate_e_card()
    employee = _file(tmp_path, "employee.json", identity.encode())
    tools.activate_card(EMPLOYEE)
    named = ("--employee-name", EMPLOYEE["name"], "--employee-id", EMPLOYEE["idNumber"])
    v1 = _file(tmp_path, "contract-v1.pdf", DOCUMENT)
    v2 = _file(tmp_path, "contract-v2.pdf", AMENDED)
    v3 = _file(tmp_path, "contract-v3.pdf", RENEWED)

    # 1. the employer uploads, then signs; the employee reviews and signs: effective
    created = tools.hrss(
        "create", str(v1), "--employee", str(employee), *named,
        "--hr-operator", "人事经理 陈静 (HR-007)",
        "--key-term", "position=后端工程师", "--key-term", "term=2027-01-01/2029-12-31",
        "--key-term", "monthly_wage_fen=2500000",
    )  # fmt: skip
    contract_id = created["contract_id"]
    assert created["state"] == "awaiting_employer_signature"
    assert created["key_terms"]["1"]["terms"]["monthly_wage_fen"] == 2_500_000, created
    signed = tools.hrss("sign", contract_id)
    assert signed["state"] == "awaiting_employee_signature"
    listed = tools.wallet_contract("list")
    assert f"{contract_id}\tawaiting_employee_signature\tv1" in listed
    assert "next: employee" in listed
    # A document other than the one the record names is refused before anything is signed.
    other = _file(tmp_path, "other.pdf", AMENDED)
    refused = tools.wallet_contract("sign", contract_id, "--document", str(other), expect=1)
    assert "the record names another document" in refused
    assert tools.employee_signs(contract_id, v1)["state"] == "effective"
    # A contract naming someone else cannot be signed with this wallet's e-card.
    elsewhere = tools.hrss(
        "create", str(v1), "--employee", str(employee), "--employee-name", STRANGER["name"],
        "--employee-id", STRANGER["idNumber"], "--hr-operator", "HR", "--key-term", "x=1",
        "--sign",
    )  # fmt: skip
    refused = tools.wallet_contract("sign", elsewhere["contract_id"], expect=1)
    assert '"code":"employee_mismatch"' in refused.replace(" ", "")

    # 2. amendment, signed at once by the employer, then by the employee
    amended = tools.hrss(
        "amend", contract_id, str(v2), "--hr-operator", "人事经理 陈静",
        "--key-term", "workplace=广州市天河区", "--sign",
    )  # fmt: skip
    assert amended["pending"]["role"] == "employee"
    assert tools.employee_signs(contract_id, v2)["effective_version"] == 2

    # 3. renewal
    renewed = tools.hrss(
        "renew", contract_id, str(v3), "--hr-operator", "人事经理 陈静",
        "--key-term", "term=2030-01-01/2032-12-31", "--sign",
    )  # fmt: skip
    assert renewed["latest_version"] == 3
    assert tools.employee_signs(contract_id, v3)["effective_version"] == 3

    # 4. the employer terminates, then signs the termination
    prepared = tools.hrss(
        "terminate", contract_id, "--reason-code", "mutual-agreement",
        "--reason", "双方协商一致解除劳动合同", "--effective-date", "2031-06-30",
    )  # fmt: skip
    assert prepared["pending"]["role"] == "employer"
    assert tools.hrss("sign", contract_id)["state"] == "terminated"

    # 5. list, show (until the worker has anchored every event), evidence, report
    assert f"{contract_id}\tterminated\tv3" in tools.hrss("list")
    deadline = time.monotonic() + 90
    shown = tools.hrss("show", contract_id)
    while any(e["anchor_state"] != "confirmed" for e in shown["events"]):
        assert time.monotonic() < deadline, shown["events"]
        time.sleep(1)
        shown = tools.hrss("show", contract_id)
    assert [e["event"] for e in shown["events"]] == [
        "employer_signed", "employee_signed", "employer_signed", "employee_signed",
        "employer_signed", "employee_signed", "terminated",
    ]  # fmt: skip
    evidence = tmp_path / "evidence.json"
    assert "wrote" in tools.hrss("evidence", contract_id, "-o", str(evidence))
    report = tmp_path / "report.pdf"
    tools.hrss("report", contract_id, "-o", str(report))
    assert report.read_bytes().startswith(b"%PDF")

    deployment = running_service.var / "deployment.json"
    verified = tools.run(
        "hrss", "verify-evidence", str(evidence), str(v3), "--json",
        "--rpc-url", running_service.chain_url, "--deployment", str(deployment),
    )  # fmt: skip
    result = json.loads(verified)
    assert result["verdict"] == "verified", result["checks"]
    # The wallet is in the deployment's profile: in the national one its did:jwk is an SM2 key
    # and the employee's contract signatures are SM2 with SM3, and they verified above.
    curve, alg = (
        ("SM2", "SM2SM3") if crypto_profile_of_run() == "national" else ("Ed25519", "EdDSA")
    )
    did = json.loads(identity)["did"]
    assert json.loads(b64url_decode(did.removeprefix("did:jwk:")))["crv"] == curve
    signatures = [event.signature for event in EvidencePackage.parse(evidence.read_bytes()).events]
    employee_algs = {
        json.loads(b64url_decode(signature.jws.split(".")[0]))["alg"]
        for signature in signatures
        if signature.signer == did
    }
    assert employee_algs == {alg}, employee_algs
    # The contract's hash is the profile's (SM3 in the national one, issue #17), named in
    # the package and the report; the wallet hashed the reviewed files with it to sign.
    digest_alg = "sm3" if crypto_profile_of_run() == "national" else "sha-256"
    package = json.loads(evidence.read_text(encoding="utf-8"))
    assert {d["digest_alg"] for d in package["documents"]} == {digest_alg}
    assert result["document_digest_alg"] == digest_alg
    assert result["document_digest"] == "0x" + HashAlgorithm(digest_alg).digest(RENEWED).hex()
    assert result["employee_identity"]["name"] == EMPLOYEE["name"]
    masked = EMPLOYEE["idNumber"][:6] + "********" + EMPLOYEE["idNumber"][-4:]
    assert result["employee_identity"]["id_number_masked"] == masked
    assert result["version_status"] == "terminated"
