"""Bundles (一件事): merge several matters into one form, check the bundle definition, and
split one set of answers into one application per item.

Pure functions: the service layer creates the cases, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tongban.engine.conditions import evaluate
from tongban.engine.fields import validate_fields
from tongban.engine.materials import validate_materials
from tongban.engine.schema import FieldSpec, MaterialSpec, MatterSpec
from tongban.engine.schema_bundle import BundleItemSpec, BundleSpec


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


def _row_columns(bundle: BundleSpec, item: BundleItemSpec) -> set[str]:
    if not item.for_each:
        return set()
    table = next((f for f in bundle.fields if f.key == item.for_each), None)
    return {c.key for c in table.fields} if table else set()


def asked_fields(bundle: BundleSpec, item: BundleItemSpec, matter: MatterSpec) -> list[FieldSpec]:
    """The matter's fields this item asks on the merged form (received ones come later,
    per-row ones come from the for_each table)."""
    skip = set(item.receives) | _row_columns(bundle, item)
    return [f for f in matter.fields if f.key not in skip and not f.internal]


def merge(bundle: BundleSpec, matters: Mapping[str, MatterSpec]) -> MergedForm:
    fields: dict[str, FieldSpec] = {f.key: f for f in bundle.fields}
    asked: dict[str, list[str]] = {f.key: [] for f in bundle.fields}
    materials: dict[str, MaterialSpec] = {}
    for item in bundle.items:
        matter = matters[item.matter]
        for f in asked_fields(bundle, item, matter):
            key = bundle_key(item, f.key)
            if key not in fields:
                fields[key] = f.model_copy(update={"key": key})
            elif f.required and not fields[key].required:
                fields[key] = fields[key].model_copy(update={"required": True})
            asked.setdefault(key, []).append(item.key)
        for m in matter.materials:
            key = material_key(bundle, m.key)
            if key not in materials:
                materials[key] = m.model_copy(update={"key": key})
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


def split(
    bundle: BundleSpec,
    matters: Mapping[str, MatterSpec],
    raw: Mapping[str, Any],
    files: Mapping[str, list] | None = None,
) -> Split:
    """Validate the merged answers against every applicable item; errors name the item
    that refuses an answer (「出生户口登记」：…), keyed by the bundle's field key."""
    raw = raw if isinstance(raw, Mapping) else {}
    files = files if isinstance(files, Mapping) else {}
    own, errors = validate_fields(bundle.fields, raw)
    answers = {**raw, **own}
    plans: list[ItemPlan] = []
    skipped: list[str] = []
    for item in bundle.items:
        if item.when is not None and not evaluate(item.when, answers):
            skipped.append(item.key)
            continue
        matter = matters[item.matter]
        rows = (own.get(item.for_each) or []) if item.for_each else [{}]
        for index, row in enumerate(rows):
            plan = _plan(bundle, item, matter, raw, row, files, index, errors)
            plans.append(plan)
    return Split(plans, skipped, errors, answers)


def _plan(bundle, item, matter, raw, row, files, index, errors) -> ItemPlan:
    asked = asked_fields(bundle, item, matter)
    data = {f.key: raw.get(bundle_key(item, f.key)) for f in asked}
    data.update({k: v for k, v in row.items() if matter.field(k) is not None})
    _, item_errors = validate_fields(asked, data)
    for matter_key, message in item_errors.items():
        key = bundle_key(item, matter_key)
        prefix = f"「{matter.name}」" + (f"第{index + 1}行" if item.for_each else "")
        errors.setdefault(key, f"{prefix}：{message}")
    item_files = {m.key: files.get(material_key(bundle, m.key)) or [] for m in matter.materials}
    clean_files, file_errors = validate_materials(matter.materials, item_files)
    for matter_key, message in file_errors.items():
        errors.setdefault(material_key(bundle, matter_key), message)
    return ItemPlan(item.key, item.matter, data, clean_files, index, waiting=bool(item.needs))


def received(item: BundleItemSpec, outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Matter fields filled from the items this one needs: `outputs[item]` holds that
    item's data plus `certificate` (its certificate number)."""
    values = {}
    for target, source in item.receives.items():
        src_item, _, what = source.partition(".")
        values[target] = (outputs.get(src_item) or {}).get(what)
    return values
