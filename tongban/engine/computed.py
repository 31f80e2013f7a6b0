"""Computed values (schema.ComputedSpec): derived from entered data, never typed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tongban.engine.schema import ComputedSpec

_OPS = {
    "≤": lambda v, lim: v <= lim,
    "<=": lambda v, lim: v <= lim,
    "<": lambda v, lim: v < lim,
    "≥": lambda v, lim: v >= lim,
    ">=": lambda v, lim: v >= lim,
    ">": lambda v, lim: v > lim,
    "=": lambda v, lim: v == lim,
}
OPERATORS = tuple(_OPS)


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x)


def _limits(c: ComputedSpec, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    failed = []
    for i, row in enumerate(rows, 1):
        value, limit = _number(row.get(c.value)), _number(row.get(c.limit))
        compare = _OPS.get(str(row.get(c.op, "≤")).strip())
        ok = (
            value is not None
            and limit is not None
            and compare is not None
            and compare(value, limit)
        )
        if not ok:
            failed.append(
                str(row.get(c.label_column) or f"第{i}项") if c.label_column else f"第{i}项"
            )
    verdict = c.fail_label if failed or not rows else c.pass_label
    return {c.key: verdict, f"{c.key}_failed": failed}


def compute(specs: Sequence[ComputedSpec], data: Mapping[str, Any]) -> dict[str, Any]:
    """The data with every computed value (re)calculated; anything typed in is overwritten."""
    out = dict(data)
    for c in specs:
        if c.rule == "product":
            factors = [_number(out.get(k)) for k in c.of]
            if any(f is None for f in factors):
                out.pop(c.key, None)
                continue
            total = 1.0
            for f in factors:
                total *= f
            out[c.key] = int(total) if total == int(total) else round(total, 6)
            continue
        rows = data.get(c.table) or []
        rows = [r for r in rows if isinstance(r, Mapping)]
        if c.rule == "limits":
            out.update(_limits(c, rows))
        elif c.rule == "sum":
            total = sum(
                (_number(r.get(c.value)) or 0.0)
                * ((_number(r.get(c.times)) or 0.0) if c.times else 1.0)
                for r in rows
            )
            out[c.key] = int(total) if total == int(total) else round(total, 6)
        else:
            out[c.key] = len(rows)
    return out
