"""Materials (申请材料): check attached files against a matter's declared materials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tongban.engine.schema import MaterialSpec

MAX_FILES_PER_MATERIAL = 10


def _ref_ok(ref: Any) -> bool:
    return (
        isinstance(ref, Mapping)
        and isinstance(ref.get("sha256"), str)
        and len(ref["sha256"]) == 64
        and isinstance(ref.get("name"), str)
        and isinstance(ref.get("size"), int)
        and isinstance(ref.get("type"), str)
    )


def validate_materials(
    specs: Sequence[MaterialSpec], raw: Mapping[str, Any] | None, *, only: set[str] | None = None
) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Return (clean {material key: [file refs]}, {material key: message}).

    A file ref is {"sha256", "name", "size", "type"} as the upload service records it; the
    type is the checked file type (from the content, not the name)."""
    raw = raw if isinstance(raw, Mapping) else {}
    clean: dict[str, list[dict]] = {}
    errors: dict[str, str] = {}
    for m in specs:
        if only is not None and m.key not in only:
            continue
        files = raw.get(m.key) or []
        if not isinstance(files, list) or not all(_ref_ok(f) for f in files):
            errors[m.key] = "材料格式不对，请重新上传"
            continue
        if not files:
            if m.required:
                errors[m.key] = f"请上传「{m.name}」"
            continue
        if len(files) > MAX_FILES_PER_MATERIAL:
            errors[m.key] = f"「{m.name}」最多上传 {MAX_FILES_PER_MATERIAL} 个文件"
            continue
        bad_type = [f["name"] for f in files if f["type"] not in m.types]
        if bad_type:
            errors[m.key] = f"「{m.name}」只接受 {'、'.join(m.types)} 文件"
            continue
        too_big = [f["name"] for f in files if f["size"] > m.max_size_mb * 1024 * 1024]
        if too_big:
            errors[m.key] = f"「{m.name}」每个文件不能超过 {m.max_size_mb:g} MB"
            continue
        clean[m.key] = [{k: f[k] for k in ("sha256", "name", "size", "type")} for f in files]
    return clean, errors
