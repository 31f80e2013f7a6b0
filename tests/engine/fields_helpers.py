"""Shared helpers for the field-type tests."""

from __future__ import annotations

from tongban.engine.fields import validate_fields
from tongban.engine.schema import FieldSpec

COMMITMENT_TEXT = "本人承诺所填信息真实有效，如有虚假愿承担法律责任。"


def spec(type_: str, key: str = "x", **params) -> FieldSpec:
    return FieldSpec(key=key, label=params.pop("label", "测试项"), type=type_, **params)


def one(f: FieldSpec, raw):
    """(clean value or None, message or None) for one field given `raw`."""
    clean, errors = validate_fields([f], {f.key: raw})
    return clean.get(f.key), errors.get(f.key)


def ok(f: FieldSpec, raw):
    value, message = one(f, raw)
    assert message is None, message
    return value


def bad(f: FieldSpec, raw) -> str:
    value, message = one(f, raw)
    assert value is None and message, (value, message)
    return message


DRIVERS = spec(
    "table",
    key="drivers",
    label="驾驶员",
    fields=(
        spec("text", key="name", label="姓名"),
        spec("id_card", key="id_no", label="身份证号"),
        spec("phone", key="phone", label="电话", required=False),
    ),
    max_rows=3,
)
