"""Materials on a form: new uploads, or references to files uploaded earlier (kept across
a failed submit or a saved draft so nobody uploads twice)."""

from __future__ import annotations

import json

from tongban.engine.schema import MaterialSpec
from tongban.services import uploads
from tongban.services.errors import Invalid
from tongban.store.models import Upload


def _refs_from_hidden(raw: str) -> list[dict]:
    """Previously uploaded files, re-checked against the upload table (size and type come
    from our own record, never from the form)."""
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    shas = [
        i.get("sha256") for i in items if isinstance(i, dict) and isinstance(i.get("sha256"), str)
    ]
    known = {u.sha256: u for u in Upload.objects.filter(sha256__in=shas[:10])}
    refs = []
    for item in items:
        row = known.get(item.get("sha256")) if isinstance(item, dict) else None
        if row is not None:
            name = uploads.safe_name(item.get("name") or row.sha256[:12])
            refs.append(
                {"sha256": row.sha256, "name": name, "size": row.size, "type": row.file_type}
            )
    return refs


def read(request, specs: tuple[MaterialSpec, ...]) -> tuple[dict, dict]:
    """({material key: [refs]}, {material key: error}) from a multipart POST."""
    refs: dict[str, list[dict]] = {}
    errors: dict[str, str] = {}
    for m in specs:
        files = request.FILES.getlist(f"m-{m.key}")
        if files:
            stored = []
            for f in files:
                if f.size > m.max_size_mb * 1024 * 1024:
                    errors[m.key] = f"「{m.name}」每个文件不能超过 {m.max_size_mb:g} MB"
                    break
                try:
                    stored.append(uploads.store(f.read(), f.name, request.user))
                except Invalid as exc:
                    errors[m.key] = f"「{f.name}」：{exc.message}"
                    break
            else:
                refs[m.key] = stored
        else:
            kept = _refs_from_hidden(request.POST.get(f"m-{m.key}-ref", ""))
            if kept:
                refs[m.key] = kept
    return refs, errors


def describe(specs: tuple[MaterialSpec, ...], refs: dict, errors: dict) -> list[dict]:
    return [
        {
            "spec": m,
            "files": refs.get(m.key, []),
            "ref_json": json.dumps(refs.get(m.key, []), ensure_ascii=False),
            "error": errors.get(m.key, ""),
            "accept": ",".join("." + t for t in m.types),
        }
        for m in specs
    ]
