"""Content-addressed uploads: a file is stored under the sha256 of its bytes.

The type is detected from the content (magic bytes), not trusted from the name, so a
script renamed to .pdf is refused. Files are served only through a view that checks the
case they belong to; their path is never derived from anything a user typed.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from io import BytesIO
from pathlib import Path, PurePath

from django.conf import settings
from django.db import transaction

from tongban.services.errors import Invalid
from tongban.store.models import Upload

MAX_UPLOAD = 20 * 1024 * 1024

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ofd": "application/ofd",
}


def sniff(head: bytes, data: bytes) -> str | None:
    """The file type from its first bytes; None when it is none we accept."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"  # OLE2: .doc or .xls; the name decides below
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "OFD.xml" in names:
            return "ofd"
    return None


def intact(kind: str, data: bytes) -> bool:
    """Whether a file of a sniffed kind is whole: a PDF ends with its %%EOF marker (within
    the last KB, as readers allow), an image decodes. Catches truncated uploads and files
    that only borrow a format's first bytes."""
    if kind == "pdf":
        return b"%%EOF" in data[-1024:]
    if kind in ("png", "jpg", "gif", "webp"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(BytesIO(data)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return False
        except Image.DecompressionBombError:
            return False
    return True


def _path(sha: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads" / sha[:2] / sha[2:4] / sha


def safe_name(name: str) -> str:
    """The file name to show: the last path component, no control characters, ≤ 100 chars."""
    base = PurePath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    return base.strip(". ")[:100] or "file"


def store(data: bytes, name: str, user) -> dict:
    """Save an upload; return the material reference the engine checks."""
    if not data:
        raise Invalid("文件是空的", {"file": "请选择文件"})
    if len(data) > MAX_UPLOAD:
        raise Invalid(f"文件不能超过 {MAX_UPLOAD // 1024 // 1024} MB", {"file": "文件太大"})
    kind = sniff(data[:16], data)
    if kind is None:
        raise Invalid(
            "不支持的文件类型，或文件内容与扩展名不符", {"file": "请上传 PDF、JPG、PNG 等"}
        )
    ext = PurePath(safe_name(name)).suffix.lower().lstrip(".")
    if kind == "doc" and ext == "xls":
        kind = "xls"
    same = {"jpg": {"jpg", "jpeg"}}.get(kind, {kind})
    if ext and ext not in same:
        raise Invalid(f"文件内容是 {kind}，但扩展名是 .{ext}", {"file": "文件内容与扩展名不符"})
    if not intact(kind, data):
        raise Invalid(
            "文件不完整或已损坏，无法打开，请重新导出或扫描后上传", {"file": "文件已损坏"}
        )
    sha = hashlib.sha256(data).hexdigest()
    path = _path(sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part" + str(os.getpid()))
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    with transaction.atomic():
        Upload.objects.get_or_create(
            sha256=sha, defaults={"size": len(data), "file_type": kind, "uploaded_by": user}
        )
    return {"sha256": sha, "name": safe_name(name), "size": len(data), "type": kind}


def open_upload(sha: str) -> tuple[bytes, str]:
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise Invalid("文件不存在")
    row = Upload.objects.filter(sha256=sha).first()
    path = _path(sha)
    if row is None or not path.exists():
        raise Invalid("文件不存在")
    return path.read_bytes(), CONTENT_TYPES.get(row.file_type, "application/octet-stream")
