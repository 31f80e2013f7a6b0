"""Between HTML forms and the engine: read posted values into the raw data the engine
validates, and describe fields for the templates (keeping what was typed)."""

from __future__ import annotations

from typing import Any

from tongban.engine.fields import row_problems
from tongban.engine.schema import FieldSpec

INPUT_TYPES = {
    "text": "text",
    "address": "text",
    "phone": "tel",
    "id_card": "text",
    "uscc": "text",
    "plate": "text",
    "number": "number",
    "date": "date",
    "datetime": "datetime-local",
}


def _one(f: FieldSpec, post, name: str) -> Any:
    if f.type == "multichoice":
        return post.getlist(name)
    if f.type in ("commitment", "boolean"):
        return post.get(name) == "on" if f.type == "commitment" else post.get(name, "")
    if f.type == "geo":
        lat, lng = post.get(name + "-lat", "").strip(), post.get(name + "-lng", "").strip()
        return f"{lat},{lng}" if lat or lng else ""
    return post.get(name, "")


def read(fields: tuple[FieldSpec, ...], post, prefix: str = "f-") -> dict[str, Any]:
    """Raw values from a POST, shaped like the engine's input (tables as lists of rows)."""
    raw: dict[str, Any] = {}
    for f in fields:
        name = prefix + f.key
        if f.type == "table":
            rows = []
            for i in range(f.max_rows):
                row_prefix = f"{name}-{i}-"
                if not any(k.startswith(row_prefix) for k in post):
                    break
                row = {s.key: _one(s, post, row_prefix + s.key) for s in f.fields}
                if any(v not in ("", [], False) for v in row.values()):
                    rows.append(row)
            raw[f.key] = rows
        else:
            raw[f.key] = _one(f, post, name)
    return raw


def _shown(f: FieldSpec, value: Any) -> Any:
    if f.type == "commitment":
        return bool(value.get("accepted")) if isinstance(value, dict) else bool(value)
    if f.type == "geo":
        if isinstance(value, dict):
            return {"lat": value.get("lat", ""), "lng": value.get("lng", "")}
        parts = str(value or "").split(",")
        return {"lat": parts[0] if parts else "", "lng": parts[1] if len(parts) > 1 else ""}
    if f.type == "datetime" and isinstance(value, str):
        return value[:16]
    if value is None:
        return [] if f.type == "multichoice" else ""
    return value


def describe(
    fields: tuple[FieldSpec, ...], values: dict, errors: dict, prefix: str = "f-"
) -> list[dict]:
    """What a template needs to render each field with its value and error."""
    out = []
    for f in fields:
        if f.internal:
            continue  # set by staff or the system, not asked on a form
        name = prefix + f.key
        item = {
            "spec": f,
            "name": name,
            "id": "id_" + name,
            "input_type": INPUT_TYPES.get(f.type, "text"),
            "value": _shown(f, values.get(f.key)),
            "error": errors.get(f.key, ""),
        }
        if f.type == "table":
            rows = values.get(f.key) or []
            count = max(len(rows), f.min_rows, 1)
            item["rows"] = [
                describe(f.fields, rows[i] if i < len(rows) else {}, {}, f"{name}-{i}-")
                for i in range(count)
            ]
            _errors_on_rows(item)
        out.append(item)
    return out


def _errors_on_rows(table: dict) -> None:
    """Show each row's problem at its cell as well as above the table: with three drivers
    (or two hundred employees) on a phone, "第3行" alone makes the user count rows."""
    for number, rest in row_problems(table["error"]) if table["error"] else ():
        if not 0 < number <= len(table["rows"]):
            continue
        for cell in table["rows"][number - 1]:
            label = cell["spec"].label
            if rest.startswith(label + "："):
                message = rest[len(label) + 1 :]
                cell["error"] = f"{cell['error']}；{message}" if cell["error"] else message
                break
