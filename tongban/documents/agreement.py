"""The mediation agreement (人民调解协议书) as an A4 PDF (fpdf2, Noto Sans CJK SC).

Plain values in (`AgreementDoc`), bytes out; the service layer
(`tongban.services.reports.mediation`) reads the case and its history. The font set-up and
value formatting are shared with the certificate renderer in `tongban.documents.pdf`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from tongban.documents.pdf import DEFAULT_FONT, INK, MUTED, RED, _font

TITLE = "人民调解协议书"
# 《中华人民共和国人民调解法》第三十一条、第三十三条
LEGAL_NOTES = (
    "本协议经双方当事人签名（盖章或按指印），人民调解员签名并加盖人民调解委员会印章后生效，"
    "对双方当事人具有法律约束力，当事人应当按照约定履行。",
    "双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认；"
    "人民法院依法确认协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。",
    "本协议一式三份，双方当事人、人民调解委员会各执一份。",
)


@dataclass(frozen=True)
class Party:
    role: str  # 申请人 / 被申请人
    name: str
    id_card: str = ""  # printed as given: the service masks it
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class Session:
    date: str
    mode: str
    place: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Instalment:
    due_date: str
    amount: float
    paid: bool = False


@dataclass(frozen=True)
class AgreementDoc:
    """Everything printed on the agreement, as plain values."""

    number: str  # the case number the agreement belongs to
    committee: str  # e.g. 阳澄湖镇人民调解委员会
    dispute_type: str
    facts: str
    request: str
    terms: str
    agreed_on: str  # YYYY-MM-DD
    mediator: str
    parties: tuple[Party, ...] = ()
    dispute_amount: float | None = None
    sessions: tuple[Session, ...] = ()
    instalments: tuple[Instalment, ...] = ()
    total: float | None = None
    created_at: datetime | None = None  # the PDF's creation date, so output is reproducible


SIGNATURE_HEIGHT = 70  # mm: three signature lines, the committee's seal line and the date

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")


def _four(n: int) -> str:
    """0 < n < 10000 in capital numerals, with the zeros a cheque writer puts in."""
    out, zero = "", False
    for i in range(3, -1, -1):
        d = n // 10**i % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _UNITS[i]
    return out


def rmb_upper(amount: float) -> str:
    """2800 → 人民币贰仟捌佰元整; 1234.5 → 人民币壹仟贰佰叁拾肆元伍角."""
    cents = int(Decimal(str(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)
    if cents < 0:
        return "负" + rmb_upper(-cents / 100)[3:]
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    text = ""
    if yuan:
        groups, n = [], yuan
        while n:
            groups.append(n % 10000)
            n //= 10000
        for i in range(len(groups) - 1, -1, -1):
            g = groups[i]
            if g == 0:
                if text and not text.endswith("零"):
                    text += "零"
                continue
            if text and g < 1000 and not text.endswith("零"):
                text += "零"
            text += _four(g) + _SECTIONS[i]
        text = text.rstrip("零") + "元"
    if not jiao and not fen:
        return "人民币" + (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return "人民币" + text


def yuan(amount: float | None) -> str:
    if amount is None:
        return "—"
    return f"{Decimal(str(amount)).quantize(Decimal('0.01'), ROUND_HALF_UP):,} 元"


class _AgreementPDF(FPDF):
    doc_number = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("cjk", "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{TITLE}　{self.doc_number}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"第 {self.page_no()} 页 共 {{nb}} 页", align="R")


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("cjk", "B", 12)
    pdf.set_text_color(*INK)
    pdf.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", "", 10.5)


# Closing punctuation never starts a line (禁则): it hangs in the right margin instead.
_CLOSING = frozenset("，。、；：？！）》」』】〉…%,.;:?!)]}")
_OPENING = frozenset("（《「『【〈([{")  # … and opening punctuation never ends one
# Runs of Latin letters and digits (dates, amounts, 2026-11-10) are not broken.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:/%\-]*|.", re.S)
LINE = 6.2


def _lines(pdf: FPDF, text: str, width: float) -> list[str]:
    """Break one paragraph into lines of at most `width` (closing punctuation may hang)."""
    lines: list[str] = []
    cur, used = "", 0.0
    tokens = _TOKEN.findall(text)
    while tokens:
        tok = tokens.pop(0)
        w = pdf.get_string_width(tok)
        if cur and used + w > width and tok not in _CLOSING:
            if w > width and len(tok) > 1:  # a run longer than a line: by characters
                tokens[:0] = list(tok)
                continue
            carry = ""
            while len(cur) > 1 and cur[-1] in _OPENING:
                cur, carry = cur[:-1], cur[-1] + carry
            lines.append(cur)
            cur, used = carry, pdf.get_string_width(carry)
            if tok == " ":
                continue
        cur += tok
        used += w
    if cur or not lines:
        lines.append(cur)
    return lines


def _para(pdf: FPDF, text: str, indent: bool = True, *, dry_run: bool = False) -> float:
    """Paragraphs (one per line of `text`), each indented by two full-width spaces; returns
    the height they take."""
    pdf.set_font("cjk", "", 10.5)
    pdf.set_text_color(*INK)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    height = 0.0
    for paragraph in (text or "—").strip().splitlines() or ["—"]:
        body = ("\u3000\u3000" if indent else "") + paragraph.strip()
        for line in _lines(pdf, body, width):
            height += LINE
            if not dry_run:
                pdf.cell(width, LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return height


def _table(pdf: FPDF, widths: tuple[int, ...], header: tuple[str, ...], rows, aligns=None) -> None:
    pdf.set_font("cjk", "", 9.5)
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.2)
    head = FontFace(emphasis="BOLD", color=INK, fill_color=(238, 241, 245))
    with pdf.table(
        col_widths=widths,
        line_height=5.6,
        headings_style=head,
        text_align=aligns or "LEFT",
        wrapmode=WrapMode.CHAR,
        padding=1.2,
    ) as table:
        table.row(header)
        for r in rows:
            table.row(tuple(str(c) for c in r))


def render(doc: AgreementDoc, font_path: str = DEFAULT_FONT) -> bytes:
    """The agreement: parties, facts, sessions, terms, the payment schedule, legal notes and
    the signature block. Raises pdf.FontMissing when the CJK font is not installed."""
    pdf = _AgreementPDF(orientation="P", unit="mm", format="A4")
    pdf.doc_number = doc.number
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(f"{TITLE} {doc.number}")
    pdf.set_subject(TITLE)
    pdf.set_creator("通办")
    pdf.set_lang("zh-CN")
    if doc.created_at is not None:
        pdf.set_creation_date(doc.created_at)
    _font(pdf, font_path)
    pdf.add_page()

    pdf.set_text_color(*RED)
    pdf.set_font("cjk", "B", 22)
    pdf.cell(0, 12, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*MUTED)
    pdf.set_font("cjk", "", 10)
    pdf.cell(
        0, 6, f"{doc.committee}　编号：{doc.number}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(5)

    _heading(pdf, "一、当事人")
    _table(
        pdf,
        (16, 40, 42, 26, 42),
        ("身份", "姓名或名称", "身份证号码", "联系电话", "住所"),
        [(p.role, p.name, p.id_card or "—", p.phone or "—", p.address or "—") for p in doc.parties],
    )

    _heading(pdf, "二、纠纷主要事实和争议事项")
    summary = f"纠纷类型：{doc.dispute_type}"
    if doc.dispute_amount is not None:
        summary += f"；争议金额：{yuan(doc.dispute_amount)}"
    _para(pdf, summary + "。")
    _para(pdf, doc.facts)
    _para(pdf, "申请调解的事项：" + (doc.request or "—"))

    if doc.sessions:
        _heading(pdf, "三、调解经过")
        _table(
            pdf,
            (26, 16, 40, 84),
            ("日期", "方式", "地点或平台", "调解情况"),
            [(s.date, s.mode, s.place or "—", s.notes or "—") for s in doc.sessions],
        )
        n = "四"
    else:
        n = "三"

    _heading(pdf, f"{n}、经调解，双方当事人自愿达成如下协议")
    _para(pdf, doc.terms)
    if doc.instalments:
        pdf.ln(1.5)
        _table(
            pdf,
            (18, 44, 52, 52),
            ("期次", "履行日期", "金额", "履行情况"),
            [
                (f"第{i}期", it.due_date, yuan(it.amount), "已履行" if it.paid else "未履行")
                for i, it in enumerate(doc.instalments, 1)
            ],
            aligns=("CENTER", "CENTER", "RIGHT", "CENTER"),
        )
        total = doc.total if doc.total is not None else sum(i.amount for i in doc.instalments)
        pdf.ln(1.5)
        _para(
            pdf,
            f"以上共 {len(doc.instalments)} 期，合计 {yuan(total)}（{rmb_upper(total)}）。"
            "任何一期到期未履行的，人民调解委员会将提醒双方当事人。",
        )

    # The legal notes and the signature block stay together on one page.
    notes = sum(_para(pdf, note, dry_run=True) for note in LEGAL_NOTES)
    if pdf.get_y() + 11 + notes + SIGNATURE_HEIGHT > pdf.h - pdf.b_margin:
        pdf.add_page()
    _heading(pdf, "履行方式、时限和效力")
    for note in LEGAL_NOTES:
        _para(pdf, note)
    pdf.ln(8)
    pdf.set_font("cjk", "", 11)
    pdf.set_text_color(*INK)
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    for role in ("申请人", "被申请人"):
        names = "、".join(p.name for p in doc.parties if p.role == role) or "—"
        pdf.cell(half, 9, f"{role}：{names}")
        pdf.cell(
            half, 9, "（签名或盖章、按指印）", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    pdf.cell(half, 9, f"人民调解员：{doc.mediator or '—'}")
    pdf.cell(half, 9, "（签名）", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_font("cjk", "B", 12)
    pdf.cell(0, 8, f"{doc.committee}（印章）", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", "", 11)
    pdf.cell(0, 8, _date_zh(doc.agreed_on), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _date_zh(iso: str) -> str:
    try:
        y, m, d = (int(x) for x in iso[:10].split("-"))
    except ValueError:
        return iso
    return f"{y}年{m}月{d}日"
