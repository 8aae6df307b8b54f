"""The court clerk's verification page in a real headless Chromium: the clerk chooses the
document and the evidence package in the page's file inputs (CDP ``DOM.setFileInputFiles``),
presses verify, and reads the verdict. A genuine pair shows "已验证" (and "Verified" in
English); a tampered document shows verification failed at the ``document`` check; a
terminated contract shows the termination in the timeline; a contract signed by the employer
only is shown as not effective. Fails (never skips) in CI without Chromium."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential_service import create_app
from tests.e2e.browser import Page, chromium_page, find_chromium, serve
from tests.integration.credential_service.labour.harness import (
    DOCUMENT,
    LabourService,
    open_labour_service,
)
from wallet_sdk.evidence import EVIDENCE_CHECKS

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
        # the employee as their e-card proved them: name, masked ID number, card issuer
        named = service.people[wallet.did]
        shown = page.evaluate(
            "['employee-name', 'employee-id-number', 'card-issuer']"
            ".map(id => document.getElementById(id).textContent)"
        )
        masked = named["idNumber"][:6] + "********" + named["idNumber"][-4:]
        assert shown[:2] == [named["name"], masked]
        assert shown[2].startswith("广东省社会保障卡服务中心 (0x")
        assert named["idNumber"] not in page.evaluate("document.body.innerText")
        _screenshot(page, tmp_path / "employee-identity.png")

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
        explanation = page.evaluate("document.getElementById('verdict-detail').textContent")
        assert "与证据包中任何版本都不一致" in explanation

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
        # nobody has proved who the employee is yet: no identity is shown
        assert page.evaluate("document.getElementById('employee-identity').hidden") is True


FORGED_NAME = "伪造人力资源有限公司"
# What a Chinese reason may still hold in Latin letters: hex values, DIDs, the format name,
# the digest algorithm, UTC times. Anything else is English text on a Chinese page.
_IDENTIFIERS = re.compile(r"0x[0-9a-f]+|did:jwk:[A-Za-z0-9_-]+|hrss-evidence/1|SHA-256|SM3|UTC")


def _screenshot(page: Page, path: Path) -> None:
    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 10_000  # a rendered page, not an empty canvas


def _reasons(page: Page) -> list[str]:
    texts: list[str] = page.evaluate(
        "[...document.querySelectorAll('#checks td.reason')].map(td => td.textContent)"
    )
    return texts


def _shown_text(page: Page) -> str:
    text: str = page.evaluate("document.getElementById('result').innerText")
    return text


def test_page_in_chinese_translates_every_reason_and_marks_unsigned_text(
    labour_service: LabourService, tmp_path: Path
) -> None:
    """#13.3 and #11.5 on screen: a genuine and a tampered pair (and a package whose unsigned
    members were edited), verified on the Chinese page; no check reason is in English, the
    tampered file is not reported as a version, and the edited name is shown only under
    "未经核验". Screenshots are written next to the test's files (``*.png``)."""
    chromium = find_chromium()
    service = labour_service
    contract_id = service.signed_contract(service.wallet())
    package = tmp_path / "evidence.json"
    package.write_bytes(service.evidence(contract_id))
    edited = json.loads(package.read_bytes())
    edited["contract"]["employer"]["name"] = FORGED_NAME
    edited["documents"][0]["filename"] = "forged-contract.pdf"
    edited["status"] = "forged-status"
    edited["report"] = {"verdict": "forged-verdict"}
    edited_package = tmp_path / "edited.json"
    edited_package.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    document = tmp_path / "contract.pdf"
    document.write_bytes(DOCUMENT)
    tampered = tmp_path / "contract-tampered.pdf"
    tampered.write_bytes(DOCUMENT.replace(b"25,000", b"52,000"))
    contract_text = contract_id

    app = create_app(service.settings, context=service.context)
    with serve(app) as base_url, chromium_page(chromium, tmp_path / "profile") as page:
        page.send(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.navigate(f"{base_url}/verify")
        page.wait_for("document.body && document.body.dataset.ready === '1'")

        def verify(document_path: Path, package_path: Path) -> None:
            page.evaluate("document.body.dataset.state = ''")
            page.set_files("#document-input", document_path)
            page.set_files("#package-input", package_path)
            page.evaluate("document.getElementById('verify-button').click()")
            page.wait_for("document.body.dataset.state === 'done'")

        def assert_chinese(reasons: list[str]) -> None:
            assert len(reasons) == len(EVIDENCE_CHECKS)
            for reason in reasons:
                latin = _IDENTIFIERS.sub("", reason.replace(contract_text, ""))
                assert not re.search(r"[A-Za-z]{2,}", latin), reason
                assert re.search(r"[\u4e00-\u9fff]", reason), reason

        # 1. the genuine pair
        verify(document, package)
        assert page.evaluate("document.getElementById('verdict').textContent") == (
            "已验证 · 证据真实有效"
        )
        assert_chinese(_reasons(page))
        assert page.evaluate("document.getElementById('version').textContent") == "1"
        _screenshot(page, tmp_path / "genuine-zh.png")

        # the same report in English: every reason in English, none left in Chinese
        page.evaluate("document.getElementById('lang-toggle').click()")
        english = _reasons(page)
        assert len(english) == len(EVIDENCE_CHECKS)
        assert not any(re.search(r"[\u4e00-\u9fff]", reason) for reason in english), english
        assert "version 1 signed by employer and employee" in english[-1]
        _screenshot(page, tmp_path / "genuine-en.png")
        page.evaluate("document.getElementById('lang-toggle').click()")

        # 2. the tampered document: failed, in Chinese, and about no version
        verify(tampered, package)
        assert page.evaluate("document.getElementById('verdict').dataset.verdict") == "failed"
        reasons = _reasons(page)
        assert_chinese(reasons)
        assert "与证据包中任何版本都不一致" in reasons[1]
        assert "未执行" in reasons[-1]
        shown = _shown_text(page)
        assert "该文件不是本合同的任何版本" in shown
        assert "已生效" not in page.evaluate(
            "document.getElementById('version-status').textContent"
        )
        assert not re.search(
            r"[A-Za-z]{2,}",
            _IDENTIFIERS.sub(
                "", page.evaluate("document.getElementById('verdict-detail').textContent")
            ),
        )
        _screenshot(page, tmp_path / "tampered-zh.png")

        # 3. unsigned members edited: still verified, but the edits are never shown as proved
        verify(document, edited_package)
        assert page.evaluate("document.getElementById('verdict').dataset.verdict") == "verified"
        assert_chinese(_reasons(page))
        proved = page.evaluate(
            "[...document.querySelectorAll('#result > :not(#unverified)')]"
            ".map(e => e.innerText).join('\\n')"
        )
        for forged in (FORGED_NAME, "forged-contract.pdf", "forged-status", "forged-verdict"):
            assert forged not in proved
        marked = page.evaluate("document.getElementById('unverified').innerText")
        assert "未经核验" in marked and FORGED_NAME in marked
        _screenshot(page, tmp_path / "edited-zh.png")
