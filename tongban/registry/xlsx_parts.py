"""The container of an untrusted .xlsx file, bounded: limits, refusals, zip parts.

Untrusted input is bounded before and while it is read: the file's size, the number of
zip entries and each part's declared uncompressed size (a zip bomb is refused before a
byte is inflated; zipfile never inflates past the declared size), the bytes actually
parsed, and the number of rows. XML with a DOCTYPE or entity declarations is refused.
Every refusal is a `FileRejected` carrying a Chinese sentence for the user.

The limits are read from this module when a file is read (`xlsx_read` reads them as
`parts.MAX_…`), so a test patches them here. Also here: the workbook's relationships, its
shared-string table and which cell formats show dates — everything `SheetReader` needs
before the first row.
"""

from __future__ import annotations

import contextlib
import posixpath
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

if TYPE_CHECKING:
    from tongban.registry.xlsx_read import SheetReader

MB = 1024 * 1024
MAX_FILE_BYTES = 50 * MB
MAX_PART_BYTES = 400 * MB  # uncompressed worksheet or shared-strings XML
MAX_TOTAL_BYTES = 800 * MB  # all parts together, uncompressed
MAX_ENTRIES = 2000
MAX_ROWS = 200_000
MAX_COLUMNS = 200  # cells further right are ignored: no registry has that many columns
_CHUNK = MB

NOT_XLSX = "不是有效的 xlsx 文件，请在 Excel 或 WPS 中“另存为 .xlsx”后再导入"
OLE_FILE = "这是旧版 .xls 或加密的 Excel 文件，请另存为不加密的 .xlsx 后再导入"


class FileRejected(Exception):
    """The file as a whole cannot be read; `.reason` is shown to the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def local_name(name: str) -> str:
    """An element or attribute name without its namespace (parser uses ' ' as separator)."""
    return name.rsplit(" ", 1)[-1]


class Names(dict):
    """Local names by full name, computed once per distinct name: the row handlers run
    for every cell, and most of a sheet is a handful of element names."""

    def __missing__(self, name: str) -> str:
        local = self[name] = local_name(name)
        return local


def _refuse_dtd(*_args) -> None:
    raise FileRejected(NOT_XLSX + "（文件中含有不允许的 XML 声明）")


def xml_parser(start: Callable, end: Callable | None = None, text: Callable | None = None):
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.buffer_size = 65536
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    return parser


class Part:
    """One zip member, read in chunks with a running byte count."""

    def __init__(self, book: SheetReader, name: str):
        self.book, self.name = book, name

    def chunks(self) -> Iterator[bytes]:
        try:
            with self.book.zip.open(self.name) as f:
                while chunk := f.read(_CHUNK):
                    self.book.bytes_inflated += len(chunk)
                    if self.book.bytes_inflated > MAX_TOTAL_BYTES:
                        raise FileRejected(too_big(self.book.bytes_inflated))
                    yield chunk
        except (
            zipfile.BadZipFile,
            zlib.error,  # a damaged deflate stream, found before the CRC is checked
            OSError,
            EOFError,
            RuntimeError,
            NotImplementedError,
        ):
            raise FileRejected(NOT_XLSX) from None

    def parse(self, parser) -> None:
        try:
            for chunk in self.chunks():
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError:
            raise FileRejected(NOT_XLSX + "（XML 格式错误）") from None


def too_big(size: int) -> str:
    return (
        f"文件解压后过大（超过 {mb(size)}），可能已损坏或是恶意构造的文件；"
        f"请另存为新的 .xlsx，或拆分成每个不超过 {MAX_ROWS} 行的文件"
    )


def relationships(book: SheetReader, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type suffix, target part name) of `part`."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    found: dict[str, tuple[str, str]] = {}
    if rels_name not in book.names:
        return found

    def start(name, attrs):
        if local_name(name) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", "").rsplit("/", 1)[-1], path)

    Part(book, rels_name).parse(xml_parser(start))
    return found


def read_strings(book: SheetReader, part: str) -> list[str]:
    """The shared-string table; phonetic runs (<rPh>) are not part of the text."""
    strings: list[str] = []
    buf: list[str] = []
    state = {"t": False, "rph": 0}

    names = Names()

    def start(name, attrs):
        local = names[name]
        if local == "si":
            buf.clear()
        elif local == "t" and not state["rph"]:
            state["t"] = True
        elif local == "rPh":
            state["rph"] += 1

    def end(name):
        local = names[name]
        if local == "t":
            state["t"] = False
        elif local == "rPh":
            state["rph"] -= 1
        elif local == "si":
            strings.append("".join(buf))

    def text(data):
        if state["t"]:
            buf.append(data)

    Part(book, part).parse(xml_parser(start, end, text))
    return strings


def read_date_styles(book: SheetReader, part: str) -> set[int]:
    """Indexes of the cell formats (cellXfs) whose number format shows a date or time."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    depth = {"cellXfs": 0}

    def start(name, attrs):
        local = local_name(name)
        if local == "numFmt":
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            depth["cellXfs"] += 1
        elif local == "xf" and depth["cellXfs"]:
            try:
                formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                formats.append(0)

    def end(name):
        if local_name(name) == "cellXfs":
            depth["cellXfs"] -= 1

    Part(book, part).parse(xml_parser(start, end))
    dates = set()
    for index, fmt in enumerate(formats):
        code = custom.get(fmt, BUILTIN_FORMATS.get(fmt, ""))
        # 27–36 and 50–58 are the East Asian built-in date formats (yyyy"年"m"月"d"日"…).
        if 27 <= fmt <= 36 or 50 <= fmt <= 58 or (code and is_date_format(code)):
            dates.add(index)
    return dates
