"""Bundles (一件事): merge several matters into one form, check the bundle definition, and
split one set of answers into one application per item — or, for an item with
`for_each`, one application per row of a table (a pass per employee).

Pure functions: the service layer creates the cases, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tongban.engine.computed import compute
from tongban.engine.conditions import evaluate, fields_of
from tongban.engine.fields import validate_fields
from tongban.engine.materials import validate_materials
from tongban.engine.schema import FieldSpec, MaterialSpec, MatterSpec
from tongban.engine.schema_bundle import BundleItemSpec, BundleSpec
from tongban.engine.workflow import failed_checks


@dataclass(frozen=True)
class MergedForm:
    """The one form of a bundle: each question once, each material once."""

    fields: tuple[FieldSpec, ...]
    materials: tuple[MaterialSpec, ...]
    asked_by: Mapping[str, tuple[str, ...]]  # bundle field key → item keys that need it


def bundle_key(item: BundleItemSpec, matter_key: str) -> str:
    return item.map.get(matter_key, matter_key)


def material_key(bundle: BundleSpec, matter_key: str) -> str:
    return bundle.material_map.get(matter_key, matter_key)


def table_of(bundle: BundleSpec, item: BundleItemSpec) -> FieldSpec | None:
    """The bundle's table field an item fans out over (None when it does not)."""
    if not item.for_each:
        return None
    table = next((f for f in bundle.fields if f.key == item.for_each), None)
    return table if table is not None and table.type == "table" else None


def row_fields(bundle: BundleSpec, item: BundleItemSpec, matter: MatterSpec) -> list[FieldSpec]:
    """The matter's fields filled from each row of the item's table: those whose bundle key
    (after `map`) is a column of the table."""
    table = table_of(bundle, item)
    if table is None:
        return []
    columns = {c.key for c in table.fields}
    return [f for f in matter.fields if bundle_key(item, f.key) in columns and not f.internal]


def asked_fields(bundle: BundleSpec, item: BundleItemSpec, matter: MatterSpec) -> list[FieldSpec]:
    """The matter's fields this item asks once on the merged form (received ones come
    later, per-row ones come from the for_each table)."""
    skip = set(item.receives) | {f.key for f in row_fields(bundle, item, matter)}
    return [f for f in matter.fields if f.key not in skip and not f.internal]


def merge(bundle: BundleSpec, matters: Mapping[str, MatterSpec]) -> MergedForm:
    # The form follows the items: a bundle's own field (a table the passes are made from, a
    # yes/no an item depends on) stands where the first item that needs it begins.
    own: dict[str, FieldSpec] = {f.key: f for f in bundle.fields}
    fields: dict[str, FieldSpec] = {}
    asked: dict[str, list[str]] = {f.key: [] for f in bundle.fields}
    materials: dict[str, MaterialSpec] = {}
    for item in bundle.items:
        matter = matters[item.matter]
        # An own field this item depends on (its condition, its rows) comes before it.
        for key in sorted(fields_of(item.when)) if item.when is not None else ():
            if key in own:
                fields.setdefault(key, own[key])
        if item.for_each:
            if item.for_each in own:
                fields.setdefault(item.for_each, own[item.for_each])
            asked.setdefault(item.for_each, []).append(item.key)
        for f in asked_fields(bundle, item, matter):
            key = bundle_key(item, f.key)
            if key not in fields:
                fields[key] = own[key] if key in own else f.model_copy(update={"key": key})
            if f.required and not fields[key].required:
                fields[key] = fields[key].model_copy(update={"required": True})
            asked.setdefault(key, []).append(item.key)
        for m in matter.materials:
            key = material_key(bundle, m.key)
            if key not in materials:
                materials[key] = m.model_copy(update={"key": key})
    for key, f in own.items():
        fields.setdefault(key, f)
    return MergedForm(
        tuple(fields.values()),
        tuple(materials.values()),
        {k: tuple(v) for k, v in asked.items()},
    )


@dataclass
class ItemPlan:
    """One application the submission becomes (or will become, once its needs are met)."""

    item: str
    matter: str
    data: dict[str, Any] = field(default_factory=dict)  # raw answers, under the matter's keys
    materials: dict[str, list] = field(default_factory=dict)
    row: int = 0
    waiting: bool = False


@dataclass
class Split:
    plans: list[ItemPlan]
    skipped: list[str]  # items whose `when` did not hold
    errors: dict[str, str]
    answers: dict[str, Any]


class _Errors(dict):
    """{bundle key: message}. The first item to refuse a plain answer speaks for it; a
    table collects every row's problem (「员工通行证」第3行 身份证号码：…)."""

    def add(self, key: str, message: str, *, collect: bool = False) -> None:
        if key not in self:
            self[key] = message
        elif collect and message not in self[key].split("；"):
            self[key] += "；" + message


def split(
    bundle: BundleSpec,
    matters: Mapping[str, MatterSpec],
    raw: Mapping[str, Any],
    files: Mapping[str, list] | None = None,
) -> Split:
    """Validate the merged answers against every applicable item; errors name the item
    that refuses an answer (「出生户口登记」：…), keyed by the bundle's field key, and for
    a per-row item also the row (「员工通行证」第3行 身份证号码：…)."""
    raw = raw if isinstance(raw, Mapping) else {}
    files = files if isinstance(files, Mapping) else {}
    own, own_errors = validate_fields(bundle.fields, raw)
    errors = _Errors()
    for key, message in own_errors.items():
        user = next((i for i in bundle.items if i.for_each == key), None)
        prefix = f"「{matters[user.matter].name}」" if user and user.matter in matters else ""
        errors.add(key, prefix + message)
    answers = {**raw, **own}
    plans: list[ItemPlan] = []
    skipped: list[str] = []
    for item in bundle.items:
        if item.when is not None and not evaluate(item.when, answers):
            skipped.append(item.key)
            continue
        matter = matters[item.matter]
        if item.for_each:
            if item.for_each in own_errors:
                continue  # already reported against the table, row by row
            rows = own.get(item.for_each) or []
            raw_rows = raw.get(item.for_each) or []
        else:
            rows, raw_rows = [{}], [{}]
        for index, row in enumerate(rows):
            raw_row = raw_rows[index] if index < len(raw_rows) else row
            plans.append(_plan(bundle, item, matter, raw, raw_row, files, index, errors))
    return Split(plans, skipped, dict(errors), answers)


def _plan(bundle, item, matter, raw, row, files, index, errors: _Errors) -> ItemPlan:
    asked = asked_fields(bundle, item, matter)
    per_row = row_fields(bundle, item, matter)
    on_row = {f.key for f in per_row}
    data = {f.key: raw.get(bundle_key(item, f.key)) for f in asked}
    data.update({f.key: row.get(bundle_key(item, f.key)) for f in per_row})
    clean, item_errors = validate_fields([*asked, *per_row], data)
    clean = compute(matter.computed, clean)
    for key, message in failed_checks(matter, clean).items():
        item_errors.setdefault(key, message)
    for matter_key, message in item_errors.items():
        if matter_key in on_row:
            label = next(f.label for f in per_row if f.key == matter_key)
            text = f"「{matter.name}」第{index + 1}行 {label}：{message}"
            errors.add(item.for_each, text, collect=True)
        else:
            errors.add(bundle_key(item, matter_key), f"「{matter.name}」：{message}")
    item_files = {m.key: files.get(material_key(bundle, m.key)) or [] for m in matter.materials}
    clean_files, file_errors = validate_materials(matter.materials, item_files)
    for matter_key, message in file_errors.items():
        errors.add(material_key(bundle, matter_key), message)
    data = {k: v for k, v in data.items() if v is not None}
    return ItemPlan(item.key, item.matter, data, clean_files, index, waiting=bool(item.needs))


def row_label(bundle: BundleSpec, item: BundleItemSpec, answers: Mapping[str, Any], row: int):
    """What names one row of a per-row item on the status page: its first column (e.g. the
    employee's name)."""
    table = table_of(bundle, item)
    rows = answers.get(item.for_each) if table is not None else None
    if not table or not isinstance(rows, list) or row >= len(rows):
        return ""
    value = rows[row].get(table.fields[0].key) if isinstance(rows[row], Mapping) else None
    return "" if value is None else str(value)


def received(item: BundleItemSpec, outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Matter fields filled from the items this one needs: `outputs[item]` holds that
    item's data plus `certificate` (its certificate number)."""
    values = {}
    for target, source in item.receives.items():
        src_item, _, what = source.partition(".")
        values[target] = (outputs.get(src_item) or {}).get(what)
    return values
