"""The printable evidence report: a PDF/A-3b file (reportlab, then pikepdf) for a court's
paper file, with the evidence package attached inside it, so the paper and the proof travel
as one file, and a QR code (segno) on the first page leading to the verification page.

The report is a reading aid: the evidence is the attached package, verified against the chain.
Every font is embedded (a subset of WenQuanYi Micro Hei, shipped by the PyPI package
``paperang-p2-fonts-cjk``, never a system font), so any reader shows the same glyphs and the
text can be extracted. It shows only what the verification proved; the employer's name, which
nobody signs, is printed marked as stated in the package and not verified.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from urllib.parse import urlencode

import pikepdf
import segno
from PIL import ImageCms
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from wallet_sdk.evidence import EvidencePackage, EvidenceReport

__all__ = ["ATTACHMENT_NAME", "REPORT_TITLE", "render_report_pdf", "verification_url"]

REPORT_TITLE = "电子劳动合同证据报告 Labour contract evidence report"
ATTACHMENT_NAME = "evidence.json"
"""The name under which the evidence package is attached to the PDF."""

_FONT = "WenQuanYiMicroHei"
_FONT_PACKAGE, _FONT_FILE = "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"

_VERDICTS = {
    "verified": "已验证 Verified",
    "not_effective": "证据真实·合同未生效 Authentic, NOT effective",
    "failed": "验证失败 FAILED",
}
_STATUSES = {
    "awaiting_employee_signature": "待劳动者签署（未生效） awaiting the employee's signature",
    "effective": "已生效 effective",
    "superseded": "已被新版本取代 superseded",
    "terminated": "已解除/终止 terminated",
    "unknown": "未知 unknown",
}
_EVENTS = {
    "employer_signed": "用人单位签署 employer signed",
    "employee_signed": "劳动者签署 employee signed",
    "terminated": "解除/终止 terminated",
}
# Chinese for the identifiers a reason names (`wallet_sdk.evidence.Reason.text` terms).
_ZH_TERMS = {
    "status": {key: text.split(" ")[0] for key, text in _STATUSES.items()},
    "event": {key: text.split(" ")[0] for key, text in _EVENTS.items()},
    "role": {
        "employer": "用人单位",
        "employee": "劳动者",
        "province": "省级人社厅",
        "ministry": "人社部",
    },
}
_RESULTS = {"passed": "通过 passed", "failed": "未通过 FAILED", "skipped": "未执行 skipped"}
_CHECKS = {
    "format": "证据包格式 package format",
    "document": "合同文件摘要比对 document digest",
    "event_chain": "事件哈希链 event hash chain",
    "signer_keys": "签名密钥链上登记 signing keys on chain",
    "signatures": "电子签名 signatures",
    "anchoring": "上链存证 anchoring",
    "key_validity": "密钥有效期 key validity",
    "accreditation": "用人单位资质链 accreditation path",
    "employee_identity": "劳动者身份（电子社保卡） employee identity (e-card)",
    "key_terms": "关键条款承诺 key-terms commitments",
    "lifecycle": "合同生命周期 contract lifecycle",
    "both_parties_signed": "双方均已签署 signed by both parties",
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


def _register_font() -> None:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        path = resources.files(_FONT_PACKAGE).joinpath(_FONT_FILE)
        with resources.as_file(path) as font_file:
            pdfmetrics.registerFont(TTFont(_FONT, str(font_file), subfontIndex=0))


def _grid(rows: list[list[Paragraph]], widths: list[float], *, header: bool = False) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), _FONT),  # a table sets its cells' font: Helvetica by default
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
    table.setStyle(TableStyle(style))
    return table


def _layout(
    package: EvidencePackage,
    report: EvidenceReport,
    *,
    url: str,
    now: int,
    card_issuer_name: str | None,
) -> bytes:
    _register_font()
    body = ParagraphStyle("body", fontName=_FONT, fontSize=8.5, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10)
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=20, spaceAfter=2 * mm)
    heading = ParagraphStyle("h2", parent=body, fontSize=11, leading=15, spaceBefore=3 * mm)
    warn = ParagraphStyle("warn", parent=body, textColor=colors.HexColor("#7a5300"))

    def p(text: object, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(_escape(text), style)

    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=4, border=2)
    qr.seek(0)
    # The QR code and its caption on the first page, beside the verdict.
    verdict = _VERDICTS.get(report.verdict.value, report.verdict.value)
    top = Table(
        [
            [
                [
                    p(REPORT_TITLE, title),
                    p(f"结论 Verdict: {verdict}", heading),
                    p(f"合同编号 Contract: {package.contract_id}"),
                    p(f"报告时间 Generated: {_time(now)}"),
                ],
                [
                    Image(qr, width=32 * mm, height=32 * mm),
                    p("扫码核验 Scan to verify", small),
                ],
            ]
        ],
        colWidths=[140 * mm, 40 * mm],
    )
    top.setStyle(
        TableStyle([("FONT", (0, 0), (-1, -1), _FONT), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    story: list[object] = [top, Spacer(1, 3 * mm)]

    subject = report.subject_version
    summary = [
        [p("统一社会信用代码 Credit code"), p(report.employer_credit_code or "—")],
        *_employee_rows(report, card_issuer_name, p),
        [p("劳动者 Employee (DID)"), p(report.employee or "—")],
        [p("所核验版本 Version"), p(subject if subject is not None else "—")],
        [p("合同状态 Contract status"), p(_STATUSES[report.contract_status.value])],
        [p("生效时间 Effective at"), p(_time(report.effective_at))],
    ]
    for document in package.documents:
        label = f"文件 v{document.version} {document.digest_alg.label}"
        summary.append([p(label), p(document.digest)])
    story += [_grid(summary, [45 * mm, 135 * mm])]
    # Nobody signs the name: print it apart and say so (the credit code above is proved).
    story += [
        Spacer(1, 2 * mm),
        _grid(
            [
                [
                    p("用人单位名称 Employer name", warn),
                    p(
                        f"{package.employer.name}（证据包自述，未经核验 stated in the package, "
                        "NOT verified）",
                        warn,
                    ),
                ]
            ],
            [45 * mm, 135 * mm],
        ),
        p("时间线 Timeline", heading),
    ]
    rows = [
        [
            p("序号 #"),
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
                p(entry.signer, small),
                p(_time(entry.claimed_at)),
                p(entry.block_number or "—"),
                p(_time(entry.block_time)),
            ]
        )
    story += [
        _grid(rows, [12 * mm, 34 * mm, 50 * mm, 28 * mm, 16 * mm, 40 * mm], header=True),
        p("核验步骤 Checks", heading),
    ]
    checks = [[p("检查项 Check"), p("结果 Result"), p("原因 Reason")]]
    for check in report.checks:
        reason = report.reasons.get(check.name)
        why = (
            check.detail
            if reason is None
            else f"{reason.text('zh', terms=_ZH_TERMS)}\n{reason.text('en')}"
        )
        checks.append(
            [
                p(_CHECKS.get(check.name, check.name)),
                p(_RESULTS[check.status.value]),
                Paragraph(_escape(why).replace("\n", "<br/>"), small),
            ]
        )
    story += [
        _grid(checks, [40 * mm, 22 * mm, 118 * mm], header=True),
        Spacer(1, 4 * mm),
        p(f"核验地址 Verification page: {url}", small),
        p(
            f"证据包已作为附件 {ATTACHMENT_NAME} 嵌入本 PDF；核验请使用合同文件与该证据包，"
            "只依据区块链，不依赖签约服务。The evidence package is attached to this PDF as "
            f"{ATTACHMENT_NAME}; verify it with the document against the chain alone.",
            small,
        ),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=REPORT_TITLE,
        author="hrss-trust",
        subject=f"contract {package.contract_id}",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        initialFontName=_FONT,  # else the canvas preamble references (unembedded) Helvetica
    ).build(story)
    return out.getvalue()


def _srgb_profile() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    data: bytes = profile.tobytes()
    return data


def _to_pdfa3(layout: bytes, package_json: bytes, *, now: int) -> bytes:
    """Make the reportlab output PDF/A-3b: XMP identification, an sRGB output intent, and
    the package as an associated file (``/AF``, relationship ``Source``)."""
    stamp = datetime.fromtimestamp(now, UTC)
    with pikepdf.open(io.BytesIO(layout)) as pdf:
        icc = pikepdf.Stream(pdf, _srgb_profile())
        icc[pikepdf.Name.N] = 3
        pdf.Root[pikepdf.Name.OutputIntents] = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.OutputIntent,
                    S=pikepdf.Name.GTS_PDFA1,
                    OutputConditionIdentifier="sRGB IEC61966-2.1",
                    Info="sRGB IEC61966-2.1",
                    DestOutputProfile=icc,
                )
            ]
        )
        attached = pikepdf.AttachedFileSpec(
            pdf,
            package_json,
            description="hrss-evidence/1 evidence package",
            filename=ATTACHMENT_NAME,
            mime_type="application/json",
            creation_date=_pdf_date(stamp),
            mod_date=_pdf_date(stamp),
            relationship=pikepdf.Name.Source,
        )
        pdf.attachments[ATTACHMENT_NAME] = attached
        # PDF/A-3 names the attachment from the catalogue as an associated file as well
        pdf.Root[pikepdf.Name.AF] = pikepdf.Array([pdf.attachments[ATTACHMENT_NAME].obj])
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            # XMP must state what the document information dictionary states (and is
            # written back over it on closing: without this the title would be lost)
            if pikepdf.Name.Trapped in pdf.docinfo:
                del pdf.docinfo[pikepdf.Name.Trapped]  # no XMP equivalent to keep it in step
            meta.load_from_docinfo(pdf.docinfo)
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
        out = io.BytesIO()
        pdf.save(out, fix_metadata_version=False, min_version="1.7")  # PDF/A-3 is PDF 1.7
    return out.getvalue()


def _employee_rows(
    report: EvidenceReport, card_issuer_name: str | None, p: Callable[..., Paragraph]
) -> list[list[Paragraph]]:
    """The employee as their e-card proved them: only when ``employee_identity`` passed."""
    identity = report.employee_identity
    if identity is None:
        return []
    issuer = "0x" + identity.card_issuer_id.hex()
    return [
        [p("劳动者 Employee（电子社保卡核验 verified by e-card）"), p(identity.name)],
        [p("身份证号 ID number"), p(identity.masked_id_number)],
        [
            p("发卡机构 Card issuer"),
            p(f"{card_issuer_name}（{issuer}）" if card_issuer_name else issuer),
        ],
    ]


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def render_report_pdf(
    package: EvidencePackage,
    report: EvidenceReport,
    *,
    base_url: str,
    now: int,
    card_issuer_name: str | None = None,
) -> bytes:
    """A PDF/A-3b report of the package and its verification `report`: the QR code to the
    page on the first page, every font embedded, the package attached as ``evidence.json``.
    When the employee's identity was verified, their name, masked ID number and card issuer
    (`card_issuer_name`, the registry's name of the issuer the chain proved) are shown.

    Raises `ModuleNotFoundError` when the font package is not installed (a packaging
    error, not an input error); any package and report render.
    """
    url = verification_url(base_url, package)
    layout = _layout(package, report, url=url, now=now, card_issuer_name=card_issuer_name)
    return _to_pdfa3(layout, package.to_json().encode("utf-8"), now=now)
