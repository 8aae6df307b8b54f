"""The printable report, looked at as a court's reader will: a PDF/A-3 file with every font
embedded (``pdffonts``), its Chinese text extractable (``pdftotext``), the evidence package
attached and verifying (``pdfdetach``), the first page rendered (``pdftoppm``) and not blank,
and the unsigned employer name printed only marked as not verified. poppler-utils is
required in CI (``CI=true``): the test fails there without it, and skips elsewhere."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pikepdf
import pytest
from PIL import Image

from credential_service.labour.report import (
    ATTACHMENT_NAME,
    REPORT_TITLE,
    render_report_pdf,
    verification_url,
)
from tests.unit.wallet_sdk.evidence.conftest import DOCUMENT
from tests.unit.wallet_sdk.evidence.world import LabourWorld
from wallet_sdk.evidence import EvidencePackage, Verdict, verify_evidence

BASE_URL = "https://hrss.example.gov.cn"
FORGED_NAME = "伪造人力资源有限公司"


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} is not installed (apt-get install poppler-utils)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _run(tool: str, *args: str | Path) -> str:
    done = subprocess.run(
        [_poppler(tool), *map(str, args)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _signed(world: LabourWorld) -> EvidencePackage:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    return contract.package()


def _pdf(world: LabourWorld, package: EvidencePackage, path: Path) -> Path:
    report = verify_evidence(package, None, world.view, strict=False, **world.verify_kwargs())
    path.write_bytes(render_report_pdf(package, report, base_url=BASE_URL, now=world.now()))
    return path


def test_report_links_to_the_verification_page(world: LabourWorld) -> None:
    package = _signed(world)
    url = verification_url(BASE_URL + "/", package)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("hrss.example.gov.cn", "/verify")
    query = parse_qs(parts.query)
    assert query["contract"] == [package.contract_id]
    assert query["digest"] == [package.documents[0].digest]


def test_report_is_a_court_ready_pdf(world: LabourWorld, tmp_path: Path) -> None:
    package = _signed(world)
    pdf = _pdf(world, package, tmp_path / "report.pdf")

    # every font embedded (pdffonts: a header of two lines, then one line per font)
    fonts = _run("pdffonts", pdf).splitlines()[2:]
    assert fonts, "the report uses no font"
    for line in fonts:
        columns = line.split()
        emb = columns[-5]  # name type [encoding...] emb sub uni object-id generation
        assert emb == "yes", line

    # the Chinese title and the employer's name extractable as text, the name marked
    text = _run("pdftotext", "-layout", pdf, "-")
    assert "电子劳动合同证据报告" in text
    assert "扫码核验" in text
    name_lines = [line for line in text.splitlines() if package.employer.name in line]
    assert name_lines and all("未经核验" in line for line in name_lines)

    # PDF/A-3b identification, and the package attached as an associated file
    with pikepdf.open(pdf) as document:
        meta = document.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("3", "B")
        assert meta["dc:title"] == str(document.docinfo.Title) == REPORT_TITLE
        assert document.pdf_version == "1.7"
        assert document.Root.OutputIntents[0].S == pikepdf.Name.GTS_PDFA1
        associated = document.Root.AF[0]
        assert associated.AFRelationship == pikepdf.Name.Source
        assert associated.UF == ATTACHMENT_NAME

    # the attached package extracts with poppler and verifies against the chain
    listing = _run("pdfdetach", "-list", pdf)
    assert ATTACHMENT_NAME in listing
    extracted = tmp_path / "extracted.json"
    _run("pdfdetach", "-save", "1", "-o", extracted, pdf)
    report = verify_evidence(extracted.read_bytes(), DOCUMENT, world.view, **world.verify_kwargs())
    assert report.verdict is Verdict.VERIFIED

    # the first page rendered: not blank, with the QR code's dark modules on it
    _run("pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", pdf, tmp_path / "p1")
    page = Image.open(io.BytesIO((tmp_path / "p1.png").read_bytes())).convert("L")
    dark = sum(1 for value in page.getdata() if value < 128)
    assert dark > 0.01 * page.width * page.height


def test_report_never_prints_edited_unsigned_members_as_verified(
    world: LabourWorld, tmp_path: Path
) -> None:
    data = _signed(world).to_dict()
    data["contract"]["employer"]["name"] = FORGED_NAME
    data["documents"][0]["filename"] = "forged-contract.pdf"
    data["status"] = "forged-status"
    data["report"] = {"verdict": "forged-verdict"}
    pdf = _pdf(world, EvidencePackage.parse(data), tmp_path / "edited.pdf")
    text = _run("pdftotext", "-layout", pdf, "-")
    assert "已验证 Verified" in text
    for forged in ("forged-contract.pdf", "forged-status", "forged-verdict"):
        assert forged not in text
    name_lines = [line for line in text.splitlines() if FORGED_NAME in line]
    assert name_lines and all("未经核验" in line for line in name_lines)


def test_report_shows_the_employee_the_e_card_proved(world: LabourWorld, tmp_path: Path) -> None:
    """The name, the masked ID number and the card issuer, printed only when the check
    ``employee_identity`` passed; never the whole ID number."""
    package = _signed(world)
    report = verify_evidence(package, None, world.view, strict=False, **world.verify_kwargs())
    pdf = tmp_path / "identity.pdf"
    pdf.write_bytes(
        render_report_pdf(
            package, report, base_url=BASE_URL, now=world.now(), card_issuer_name="北京市社保卡中心"
        )
    )
    text = _run("pdftotext", "-layout", pdf, "-")
    assert "张三" in text and "110105********002X" in text
    assert "北京市社保卡中心" in text and "11010519491231002X" not in text
    _run("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, tmp_path / "id")
    # without a card verifier the check fails: nothing about the employee is printed as fact
    unproved = verify_evidence(package, None, world.view, strict=False, **{
        **world.verify_kwargs(), "card_verifier": None})  # fmt: skip
    pdf.write_bytes(render_report_pdf(package, unproved, base_url=BASE_URL, now=world.now()))
    text = _run("pdftotext", "-layout", pdf, "-")
    assert "110105********002X" not in text and "电子社保卡核验" not in text.split("核验步骤")[0]
