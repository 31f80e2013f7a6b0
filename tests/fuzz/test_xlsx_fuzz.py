"""The Excel importer under any file: rows checked one by one, or one clear reason why the
file cannot be read (FileRejected → a fatal Problem), never any other exception.

Workbooks are written by hand from random parts — relationships pointing anywhere,
shared strings, number formats and cells of every type with odd references, styles and
values — plus raw bytes and damaged real workbooks, and then go through the same
check_file the import job runs, for every registry kind."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from tongban.engine.validators import ValidationError
from tongban.registry import xlsx
from tongban.registry.importing import check_file
from tongban.registry.kinds import KINDS
from tongban.registry.validate import OrgRef, RowContext

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
GRID = OrgRef(7, "32050710300101", "湘城社区第一网格", {"j_grid": "32050710300101"})


def _resolve(text: str) -> OrgRef:
    if text in (GRID.code, GRID.name):
        return GRID
    raise ValidationError(f"找不到网格或社区“{text}”")


CTX = RowContext(resolve_org=_resolve, may_write_health=lambda org: True)
HEADERS = sorted({c.header for k in KINDS.values() for c in k.columns})

# XML-safe text: no control characters or surrogates (expat would refuse the file, which
# is tested separately with raw bytes).
TEXT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
    st.sampled_from(
        [
            *HEADERS,
            "",
            " ",
            "0",
            "-1",
            "1e308",
            "1e309",
            "NaN",
            "inf",
            "2958466",
            "-693594",
            "3.5",
            "99999999999999999999",
            "2024-02-30",
            "2024-01-01T25:00",
            "#N/A",
            "TRUE",
            "11010519491231002X",
            "91110000600037341L",
            "13800000000",
            GRID.code,
            "是",
            "否",
        ]
    ),  # fmt: skip
)
NUMBERS = st.one_of(
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    TEXT,
)
REFS = st.one_of(
    st.none(),
    st.builds(lambda c, r: f"{c}{r}", st.sampled_from(["A", "B", "C", "Z", "AA", "$B$", "XFD",
              "ZZZZ", "a", "", "1"]), st.sampled_from(["1", "2", "0", "", "999999999999"])),
    TEXT,
)  # fmt: skip
CELL_TYPES = st.sampled_from(["n", "s", "str", "inlineStr", "b", "e", "d", "x", ""])


def _attr(name: str, value) -> str:
    return "" if value is None else f" {name}={quoteattr(str(value))}"


@st.composite
def cell(draw) -> str:
    ref = draw(REFS)
    kind = draw(st.one_of(st.none(), CELL_TYPES))
    style = draw(st.one_of(st.none(), st.integers(-2, 12), TEXT))
    body = draw(
        st.sampled_from(["v", "f", "fv", "is", "isrph", "none"]),
    )
    value = escape(draw(NUMBERS))
    inner = {
        "v": f"<v>{value}</v>",
        "f": f"<f>{value}</f>",
        "fv": f"<f>{value}</f><v>1</v>",
        "is": f"<is><t>{value}</t></is>",
        "isrph": f"<is><r><t>{value}</t></r><rPh><t>ピン</t></rPh></is>",
        "none": "",
    }[body]
    return f"<c{_attr('r', ref)}{_attr('t', kind)}{_attr('s', style)}>{inner}</c>"


@st.composite
def sheet(draw) -> str:
    rows = []
    header = draw(
        st.one_of(
            st.sampled_from([[c.header for c in k.columns] for k in KINDS.values()]),
            st.lists(st.sampled_from(HEADERS), max_size=10),
        )
    )
    if header:
        cells = "".join(f'<c t="inlineStr"><is><t>{escape(h)}</t></is></c>' for h in header)
        rows.append(f'<row r="1">{cells}</row>')
    for _ in range(draw(st.integers(0, 6))):
        r = draw(st.one_of(st.none(), st.integers(-1, 10), TEXT))
        cells = "".join(draw(st.lists(cell(), max_size=8)))
        rows.append(f"<row{_attr('r', r)}>{cells}</row>")
    return f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'


@st.composite
def styles(draw) -> str:
    fmts = draw(st.lists(st.tuples(st.one_of(st.integers(0, 200), TEXT), st.one_of(
        st.sampled_from(["yyyy-mm-dd", "[h]:mm:ss", "0.00", "@", 'yyyy"年"m"月"', "mm:ss.0",
                         "General", "[Red]0", "", "d"]), TEXT)), max_size=4))  # fmt: skip
    xfs = draw(st.lists(st.one_of(st.integers(0, 200), TEXT), max_size=8))
    num = "".join(f"<numFmt{_attr('numFmtId', i)}{_attr('formatCode', c)}/>" for i, c in fmts)
    xf = "".join(f"<xf{_attr('numFmtId', i)}/>" for i in xfs)
    return (
        f'<styleSheet xmlns="{MAIN}"><numFmts>{num}</numFmts><cellXfs>{xf}</cellXfs></styleSheet>'
    )


def _rels(targets: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{REL}/{kind}" Target={quoteattr(t)}/>'
        for i, (kind, t) in enumerate(targets, 1)
    )
    return f'<Relationships xmlns="{PKG}">{items}</Relationships>'


def mostly(usual: str, *odd: str):
    """The usual value three times in four, so most files get as far as their rows."""
    return st.sampled_from([usual] * (3 * len(odd)) + list(odd))


TARGETS = mostly(
    "worksheets/sheet1.xml", *["/xl/worksheets/sheet1.xml", "../xl/worksheets/sheet1.xml",
     "worksheets/missing.xml", "", "sharedStrings.xml", "styles.xml", "workbook.xml",
     "../../../../etc/passwd"]
)  # fmt: skip


@st.composite
def workbook(draw) -> dict[str, str]:
    parts = {
        "_rels/.rels": _rels([("officeDocument", draw(mostly(
            "xl/workbook.xml", "/xl/workbook.xml", "xl/nothing.xml", "xl")))]),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            f"<workbookPr{_attr('date1904', draw(st.sampled_from([None, '1', 'true', 'x'])))}/>"
            f'<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": _rels([
            ("worksheet", draw(TARGETS)),
            (draw(mostly("sharedStrings", "worksheet", "styles")), "sharedStrings.xml"),
            ("styles", draw(mostly("styles.xml", "missing.xml"))),
        ]),
        "xl/worksheets/sheet1.xml": draw(sheet()),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{MAIN}">'
            + "".join(f"<si><t>{escape(t)}</t></si>" for t in draw(st.lists(TEXT, max_size=5)))
            + "</sst>"
        ),
        "xl/styles.xml": draw(styles()),
    }  # fmt: skip
    gone = draw(mostly("", *sorted(parts)))  # a part the others refer to may be missing
    parts.pop(gone, None)
    return parts


def _zip(parts: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _real_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    kind = KINDS["person"]
    ws.append([c.header for c in kind.columns])
    ws.append(["张三", "11010519491231002X", "13800000000", "湘城大街 1 号", GRID.code])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


REAL = _real_workbook()


def _import_everywhere(data: bytes) -> None:
    """Read the bytes as each kind's import would; only clear outcomes are allowed."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "名单.xlsx"
        path.write_bytes(data)
        try:
            with xlsx.SheetReader(path) as reader:
                for number, cells in reader.rows():
                    assert isinstance(number, int) and isinstance(cells, dict)
        except xlsx.FileRejected as exc:
            assert exc.reason
        for kind in KINDS.values():
            checked = check_file(kind, path, CTX)
            for p in checked.problems:
                assert p.reason and p.text()
            if checked.fatal:
                assert checked.problems and not checked.records
            assert set(checked.records).isdisjoint(checked.rejected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=workbook())
def test_any_hand_made_workbook_is_read_or_refused_clearly(parts):
    _import_everywhere(_zip(parts))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, len(REAL)),
    flips=st.lists(st.tuples(st.integers(0, len(REAL) - 1), st.integers(1, 255)), max_size=4),
)
@example(cut=len(REAL), flips=[])  # the control: the undamaged file
def test_a_damaged_workbook_is_read_or_refused_clearly(cut, flips):
    data = bytearray(REAL[:cut] if cut else REAL)
    for pos, mask in flips:
        if pos < len(data):
            data[pos] ^= mask
    _import_everywhere(bytes(data))


def test_a_damaged_deflate_stream_is_refused_clearly():
    """Found by the fuzzer: bytes flipped inside a compressed part raise zlib.error while
    inflating, before the zip's CRC check is reached."""
    import zipfile

    data = bytearray(REAL)
    with zipfile.ZipFile(io.BytesIO(REAL)) as z:
        for info in z.infolist():
            if info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size > 16:
                start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
                data[start : start + 8] = b"\xff" * 8
    _import_everywhere(bytes(data))


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"PK\x03\x04")
@example(data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
def test_any_bytes_are_refused_clearly(data):
    _import_everywhere(data)


@settings(max_examples=80, deadline=None)
@given(body=st.text(max_size=200))
@example(body="<row><c><v>&#0;</v></c></row>")
@example(body="<!DOCTYPE x [<!ENTITY a 'b'>]><x/>")
def test_any_sheet_xml_is_read_or_refused_clearly(body):
    parts = {
        "_rels/.rels": _rels([("officeDocument", "xl/workbook.xml")]),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            f'<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": _rels([("worksheet", "worksheets/sheet1.xml")]),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{body}',
    }
    _import_everywhere(_zip(parts))
