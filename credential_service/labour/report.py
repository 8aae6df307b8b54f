"""The printable evidence report (PDF, reportlab) with a QR code (segno) leading to the
verification page. The report is a reading aid: the evidence is the package, and the QR code
sends a clerk to the page where the package and the document are verified against the chain.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import urlencode

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from wallet_sdk.evidence import EvidencePackage, EvidenceReport

__all__ = ["render_report_pdf", "verification_url"]

_FONT = "STSong-Light"  # Adobe's CID font, built into reportlab: no font file to ship
_VERDICTS = {
    "verified": "已验证 Verified",
    "not_effective": "证据真实·合同未生效 Authentic, NOT effective",
    "failed": "验证失败 FAILED",
}
_EVENTS = {
    "employer_signed": "用人单位签署 employer signed",
    "employee_signed": "劳动者签署 employee signed",
    "terminated": "解除/终止 terminated",
}


def verification_url(base_url: str, package: EvidencePackage) -> str:
    """The page a QR code leads to, naming the contract and its latest document digest."""
    latest = max(package.documents, key=lambda d: d.version)
    query = urlencode({"contract": package.contract_id, "digest": latest.digest})
    return f"{base_url.rstrip('/')}/verify?{query}"


def _time(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_report_pdf(
    package: EvidencePackage, report: EvidenceReport, *, base_url: str, now: int
) -> bytes:
    """A PDF of the package and its verification `report`, with a QR code to the page."""
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=_FONT, fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=styles["Title"], fontName=_FONT, fontSize=16)
    heading = ParagraphStyle("h2", parent=styles["Heading2"], fontName=_FONT, fontSize=12)

    def p(text: object) -> Paragraph:
        return Paragraph(_escape(text), body)

    url = verification_url(base_url, package)
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=4, border=2)
    qr.seek(0)

    story: list[object] = [
        Paragraph("电子劳动合同证据报告 Labour contract evidence report", title),
        Spacer(1, 4 * mm),
    ]
    summary = [
        [p("结论 Verdict"), p(_VERDICTS.get(report.verdict.value, report.verdict.value))],
        [p("合同编号 Contract"), p(package.contract_id)],
        [p("用人单位 Employer"), p(f"{package.employer.name} ({package.employer.credit_code})")],
        [p("劳动者 Employee (DID)"), p(package.employee)],
        [p("合同状态 Status"), p(report.contract_status.value)],
        [p("生效时间 Effective at"), p(_time(report.effective_at))],
        [p("报告时间 Generated"), p(_time(now))],
    ]
    for document in package.documents:
        summary.append(
            [p(f"文件 v{document.version} SHA-256"), p(f"{document.digest} ({document.filename})")]
        )
    table = Table(summary, colWidths=[45 * mm, 125 * mm])
    table.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        )
    )
    story += [table, Spacer(1, 4 * mm), Paragraph("时间线 Timeline", heading)]
    rows = [
        [
            p("#"),
            p("事件 Event"),
            p("签署方 Signer"),
            p("自述时间 Claimed"),
            p("区块 Block"),
            p("上链时间 Anchored"),
        ]
    ]
    for entry in report.timeline:
        rows.append(
            [
                p(entry.sequence),
                p(f"{_EVENTS.get(entry.event, entry.event)} v{entry.version}"),
                p(entry.signer),
                p(_time(entry.claimed_at)),
                p(entry.block_number or "—"),
                p(_time(entry.block_time)),
            ]
        )
    timeline = Table(rows, colWidths=[8 * mm, 38 * mm, 48 * mm, 28 * mm, 16 * mm, 32 * mm])
    timeline.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]
        )
    )
    story += [timeline, Spacer(1, 4 * mm), Paragraph("核验步骤 Checks", heading)]
    checks = [[p(c.name), p(c.status.value), p(c.detail)] for c in report.checks]
    check_table = Table(checks, colWidths=[35 * mm, 18 * mm, 117 * mm])
    check_table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
    story += [
        check_table,
        Spacer(1, 6 * mm),
        Paragraph("扫码核验 Scan to verify", heading),
        Image(qr, width=35 * mm, height=35 * mm),
        p(url),
        p(
            "核验请使用合同文件与证据包（JSON），不依赖签约服务。Verify with the document and the "
            "evidence package (JSON); the verification relies on the chain only."
        ),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title="Labour contract evidence report",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    ).build(story)
    return out.getvalue()
