"""A certificate as a one-page A4 PDF (fpdf2) with Chinese text and a QR code.

The text is set in Noto Sans CJK SC, subset-embedded, so the file renders the same on any
reader without Chinese fonts. Debian ships the font in `fonts-noto-cjk`; another file can
be named with TONGBAN_CJK_FONT (a `.ttc` collection uses face 2, Simplified Chinese; an
`.otf`/`.ttf` file its only face). A bold face beside it (`…-Bold.ttc`) is used for the title
when present.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

DEFAULT_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
TTC_FACE_SC = 2  # NotoSansCJK-*.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK

TZ = ZoneInfo("Asia/Shanghai")
INK = (29, 39, 51)
MUTED = (91, 103, 117)
RED = (179, 38, 30)


class FontMissing(RuntimeError):
    """The CJK font file is not installed."""


@dataclass(frozen=True)
class CertificateDoc:
    """Everything printed on a certificate, as plain values (no database rows)."""

    name: str
    number: str
    holder: str
    grants: str
    issuer: str
    issued_on: str  # YYYY-MM-DD (Asia/Shanghai)
    valid_from: str = ""  # YYYY-MM-DD, or YYYY-MM-DD HH:MM for a validity with times
    valid_to: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # field key -> label
    units: Mapping[str, str] = field(default_factory=dict)  # field key -> unit
    qr_payload: str = ""  # the QR code's text: the verify address with the signed payload
    verify_path: str = ""  # printed under the QR, e.g. https://…/verify/<number>
    key_id: str = ""
    issued_at: datetime | None = None  # the PDF's creation date, so output is reproducible


def text_of(value: Any, unit: str | None = None) -> str:
    """A field value as one line of text."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        return f"{value} {unit}" if unit else str(value)
    if isinstance(value, Mapping):
        if "text" in value:
            return str(value["text"])
        if "name" in value:
            return str(value["name"])
        return "；".join(f"{k}：{text_of(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, Mapping) for v in value):
            # Rows of a table, one per line; spaces between the cells so a long row wraps
            # between them rather than inside a number (see _wrap).
            return "\n".join(
                "  ".join(f"{k}：{text_of(v)}" for k, v in row.items()) for row in value
            )
        return "、".join(text_of(v) for v in value) or "—"
    return f"{value} {unit}" if unit else str(value)


def _wrap(text: str) -> WrapMode:
    """Chinese text wraps anywhere; table rows (several lines, cells spaced) between cells."""
    return WrapMode.WORD if "\n" in text and "  " in text else WrapMode.CHAR


def instant_text(value: datetime | None, timed: bool) -> str:
    """A validity bound as printed: the Beijing date, or date and time to the minute when
    the validity has times."""
    if value is None:
        return ""
    local = value.astimezone(TZ)
    return f"{local:%Y-%m-%d %H:%M}" if timed else local.date().isoformat()


def validity_text(valid_from: str, valid_to: str) -> str:
    if valid_from and valid_to:
        return f"{valid_from} 至 {valid_to}"
    if valid_from:
        return f"自 {valid_from} 起长期有效"
    if valid_to:
        return f"至 {valid_to}"
    return "长期有效"


QR_BORDER = 2  # modules of white around the code (the page around it is white too)
# Printed size of one module: a phone reads 0.5 mm modules from a hand's length, and the
# verify address with a long Chinese holder name needs a version 14–17 code (77–89 modules
# with the border). So the code grows with its content, between 42 and 52 mm.
QR_MODULE_MM = 0.6
QR_MIN_MM, QR_MAX_MM = 42.0, 52.0


def qr_png(payload: str, scale: int = 8) -> bytes:
    """The payload as a QR code (error correction M, UTF-8 byte mode), PNG bytes."""
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=scale, border=QR_BORDER)
    return out.getvalue()


def qr_size_mm(payload: str) -> float:
    """The printed width of the payload's QR code, border included."""
    if not payload:
        return QR_MIN_MM
    modules = segno.make(payload, error="m", micro=False).symbol_size(border=QR_BORDER)[0]
    return min(max(modules * QR_MODULE_MM, QR_MIN_MM), QR_MAX_MM)


def _font(pdf: FPDF, font_path: str) -> None:
    path = Path(font_path)
    if not path.is_file():
        raise FontMissing(
            f"找不到中文字体 {path}：请安装 fonts-noto-cjk（apt-get install -y fonts-noto-cjk），"
            "或用 TONGBAN_CJK_FONT 指定 Noto Sans CJK 字体文件"
        )
    face = TTC_FACE_SC if path.suffix.lower() == ".ttc" else 0
    pdf.add_font("cjk", "", str(path), collection_font_number=face)
    bold = path.with_name(path.name.replace("Regular", "Bold"))
    if bold != path and bold.is_file():
        pdf.add_font("cjk", "B", str(bold), collection_font_number=face)
    else:
        pdf.add_font("cjk", "B", str(path), collection_font_number=face)


class _CertificatePDF(FPDF):
    def header(self) -> None:
        # Frame: a thick outer line and a thin inner one, as on a paper certificate.
        self.set_draw_color(*RED)
        self.set_line_width(1.2)
        self.rect(12, 12, self.w - 24, self.h - 24)
        self.set_line_width(0.3)
        self.rect(15, 15, self.w - 30, self.h - 30)


def render(doc: CertificateDoc, font_path: str = DEFAULT_FONT) -> bytes:
    """One A4 page (more only if the rows cannot fit even in small type): title, number,
    holder, grants, details, validity, issuer, QR."""
    pdf = _CertificatePDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.set_title(f"{doc.name} {doc.number}")
    pdf.set_subject(doc.name)
    pdf.set_creator("通办")
    pdf.set_lang("zh-CN")
    if doc.issued_at is not None:
        pdf.set_creation_date(doc.issued_at)
    _font(pdf, font_path)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_y(32)
    pdf.set_text_color(*RED)
    pdf.set_font("cjk", "B", 24)
    pdf.multi_cell(width, 12, doc.name, align="C", wrapmode=WrapMode.CHAR)
    pdf.ln(3)
    pdf.set_text_color(*MUTED)
    pdf.set_font("cjk", "", 11)
    pdf.cell(width, 7, f"证照编号：{doc.number}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(10)

    rows: list[tuple[str, str]] = [("持证人", doc.holder or "—")]
    if doc.grants:
        rows.append(("许可内容", doc.grants))
    for key, value in doc.details.items():
        rows.append((doc.labels.get(key, key), text_of(value, doc.units.get(key))))
    rows.append(("有效期限", validity_text(doc.valid_from, doc.valid_to)))
    rows.append(("发证机关", doc.issuer))
    rows.append(("发证日期", doc.issued_on))

    # Issuer block bottom right, QR bottom left; the rows fill the space above, in a
    # smaller size when there are many of them. Rows that still do not fit continue on a
    # second page (the QR and issuer then sit on the last one).
    qr_size = qr_size_mm(doc.qr_payload)
    qr_top = pdf.h - 25 - qr_size - 14
    pdf.set_auto_page_break(True, margin=pdf.h - qr_top + 6)
    label_w = 32
    room = qr_top - 6 - pdf.get_y()
    for size, line, pad in ((13, 8.0, 3.0), (11, 6.5, 2.4), (9, 5.0, 1.8), (7, 3.6, 1.2)):
        pdf.set_font("cjk", "", size)
        needed = sum(
            pdf.multi_cell(
                width - label_w, line, v, wrapmode=_wrap(v), dry_run=True, output="HEIGHT"
            )
            + pad
            for _, v in rows
        )
        if needed <= room:
            break
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.2)
    limit = qr_top - 6
    for label, value in rows:
        pdf.set_font("cjk", "", size)
        height = pdf.multi_cell(
            width - label_w, line, value, wrapmode=_wrap(value), dry_run=True, output="HEIGHT"
        )
        if pdf.get_y() + height > limit and pdf.get_y() > 40:  # keep a row on one page
            pdf.add_page()
            pdf.set_y(30)
        top = pdf.get_y()
        pdf.set_text_color(*MUTED)
        pdf.set_font("cjk", "", size - 1)
        pdf.cell(label_w, line, label)
        pdf.set_xy(pdf.l_margin + label_w, top)
        pdf.set_text_color(*INK)
        pdf.set_font("cjk", "", size)
        pdf.multi_cell(
            width - label_w,
            line,
            value,
            align="L" if _wrap(value) == WrapMode.WORD else "J",  # no stretched spaces
            wrapmode=_wrap(value),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        bottom = pdf.get_y()
        pdf.line(pdf.l_margin, bottom + pad / 2, pdf.l_margin + width, bottom + pad / 2)
        pdf.set_y(bottom + pad)

    pdf.set_auto_page_break(False)  # the bottom block sits below the rows' margin
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", "B", 14)
    pdf.set_xy(pdf.l_margin + qr_size + 8, qr_top + 12)
    pdf.cell(width - qr_size - 8, 8, doc.issuer, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", "", 12)
    pdf.set_x(pdf.l_margin + qr_size + 8)
    pdf.cell(width - qr_size - 8, 8, doc.issued_on, align="R")
    if doc.qr_payload:
        pdf.image(io.BytesIO(qr_png(doc.qr_payload)), x=pdf.l_margin, y=qr_top, w=qr_size)
    pdf.set_xy(pdf.l_margin, qr_top + qr_size + 2)
    pdf.set_text_color(*MUTED)
    pdf.set_font("cjk", "", 9)
    path = doc.verify_path or f"/verify/{doc.number}"
    pdf.cell(width, 5, f"扫码或访问 {path} 核验", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    note = "本证照由通办平台签发，附 Ed25519 电子签名"
    if doc.key_id:
        note += f"（密钥 {doc.key_id}）"
    pdf.cell(width, 5, note)
    return bytes(pdf.output())
