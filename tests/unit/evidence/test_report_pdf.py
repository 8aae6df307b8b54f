"""The printable report: a PDF whose QR code leads to the verification page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from credential_service.labour.report import render_report_pdf, verification_url
from tests.unit.evidence.conftest import DOCUMENT
from tests.unit.evidence.world import LabourWorld
from wallet_sdk.evidence import verify_evidence


def test_report_is_a_pdf_with_a_link_to_the_verification_page(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    package = contract.package()
    report = verify_evidence(package, DOCUMENT, world.view, **world.verify_kwargs())
    url = verification_url("https://hrss.example.gov.cn/", package)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("hrss.example.gov.cn", "/verify")
    query = parse_qs(parts.query)
    assert query["contract"] == [package.contract_id]
    assert query["digest"] == [package.documents[0].digest]
    pdf = render_report_pdf(
        package, report, base_url="https://hrss.example.gov.cn", now=world.now()
    )
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
