"""The court clerk's verification page in a real headless Chromium: the clerk chooses the
document and the evidence package in the page's file inputs (CDP ``DOM.setFileInputFiles``),
presses verify, and reads the verdict. A genuine pair shows "已验证" (and "Verified" in
English); a tampered document shows verification failed at the ``document`` check; a
terminated contract shows the termination in the timeline; a contract signed by the employer
only is shown as not effective. Fails (never skips) in CI without Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from credential_service import create_app
from tests.e2e.browser import chromium_page, find_chromium, serve
from tests.integration.labour.harness import DOCUMENT, LabourService, open_labour_service

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("labour-browser")]


@pytest.fixture(scope="module")
def labour_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabourService]:
    yield from open_labour_service(tmp_path_factory.mktemp("labour-browser"))


def test_clerk_verifies_genuine_tampered_terminated_and_unsigned_contracts(
    labour_service: LabourService, tmp_path: Path
) -> None:
    chromium = find_chromium()
    service = labour_service
    wallet = service.wallet()
    contract_id = service.signed_contract(wallet)
    package = tmp_path / "evidence.json"
    package.write_bytes(service.evidence(contract_id))
    document = tmp_path / "contract.pdf"
    document.write_bytes(DOCUMENT)
    tampered = tmp_path / "contract-tampered.pdf"
    tampered.write_bytes(DOCUMENT.replace(b"25,000", b"52,000"))
    # a second contract, terminated by the employer, and a third signed by the employer only
    ended = service.signed_contract(service.wallet())
    prepared = service.client.post(
        f"/v1/labour-contracts/{ended}/termination",
        json={
            "reason_code": "mutual-agreement",
            "reason": "协商一致解除",
            "effective_date": "2028-01-31",
        },
        headers=service.employer_headers(),
    )
    assert service.employer_signs(prepared.json()).status_code == 200
    unsigned = service.upload(service.wallet())
    assert service.employer_signs(unsigned).status_code == 200
    service.batcher.drain()
    terminated_package = tmp_path / "terminated.json"
    terminated_package.write_bytes(service.evidence(ended))
    unsigned_package = tmp_path / "employer-only.json"
    unsigned_package.write_bytes(service.evidence(unsigned["contract_id"]))

    app = create_app(service.settings, context=service.context)
    with serve(app) as base_url, chromium_page(chromium, tmp_path / "profile") as page:
        page.navigate(f"{base_url}/verify")
        page.wait_for("document.body && document.body.dataset.ready === '1'")
        assert page.evaluate("document.querySelector('h1').textContent") == "电子劳动合同证据核验"

        # 1. the genuine pair
        page.set_files("#document-input", document)
        page.set_files("#package-input", package)
        page.evaluate("document.getElementById('verify-button').click()")
        page.wait_for("document.body.dataset.state === 'done'")
        verdict = page.evaluate("document.getElementById('verdict').textContent")
        assert "已验证" in verdict
        assert page.evaluate("document.getElementById('verdict').dataset.verdict") == "verified"
        assert page.evaluate("document.getElementById('contract-status').textContent") == "已生效"
        events = page.evaluate(
            "[...document.querySelectorAll('#timeline tbody tr')].map(r => r.dataset.event)"
        )
        assert events == ["employer_signed", "employee_signed"]
        block = page.evaluate(
            "document.querySelector('#timeline tbody tr').children[5].textContent"
        )
        assert block.isdigit()
        failed = page.evaluate("document.querySelectorAll('#checks tr.failed').length")
        assert failed == 0

        # 2. the same report in English
        page.evaluate("document.getElementById('lang-toggle').click()")
        assert "Verified" in page.evaluate("document.getElementById('verdict').textContent")
        assert page.evaluate("document.documentElement.lang") == "en"

        # 3. a tampered document: which check failed, said on the page
        page.evaluate("document.body.dataset.state = ''")
        page.set_files("#document-input", tampered)
        page.evaluate("document.getElementById('verify-button').click()")
        page.wait_for("document.body.dataset.state === 'done'")
        assert page.evaluate("document.getElementById('verdict').dataset.verdict") == "failed"
        assert "FAILED" in page.evaluate("document.getElementById('verdict').textContent")
        failed_check = page.evaluate("document.querySelector('#checks tr.failed').dataset.check")
        assert failed_check == "document"
        explanation = page.evaluate("document.getElementById('verdict-detail').textContent")
        assert "matches no version" in explanation
        page.evaluate("document.getElementById('lang-toggle').click()")
        assert "验证失败" in page.evaluate("document.getElementById('verdict').textContent")

        # 4. a terminated contract: the termination is in the timeline, the status says so
        page.evaluate("document.body.dataset.state = ''")
        page.set_files("#document-input", document)
        page.set_files("#package-input", terminated_package)
        page.evaluate("document.getElementById('verify-button').click()")
        page.wait_for("document.body.dataset.state === 'done'")
        assert page.evaluate("document.getElementById('verdict').dataset.verdict") == "verified"
        rows = page.evaluate(
            "[...document.querySelectorAll('#timeline tbody tr')].map(r => r.dataset.event)"
        )
        assert rows[-1] == "terminated"
        assert "协商一致解除" in page.evaluate(
            "document.querySelector('#timeline tbody tr:last-child').textContent"
        )
        assert page.evaluate("document.getElementById('contract-status').textContent") == (
            "已解除/终止"
        )

        # 5. signed by the employer only: authentic, but shown as not effective
        page.evaluate("document.body.dataset.state = ''")
        page.set_files("#package-input", unsigned_package)
        page.evaluate("document.getElementById('verify-button').click()")
        page.wait_for("document.body.dataset.state === 'done'")
        assert page.evaluate("document.getElementById('verdict').dataset.verdict") == (
            "not_effective"
        )
        assert "合同未生效" in page.evaluate("document.getElementById('verdict').textContent")
        assert page.evaluate("document.querySelector('#checks tr.failed').dataset.check") == (
            "both_parties_signed"
        )
