"""Interpret the condition vocabulary of schema.Condition. No expression is ever eval'd."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tongban.engine.schema import Condition

_MISSING = object()


def _empty(v: Any) -> bool:
    return v is _MISSING or v is None or v == "" or v == [] or v == {}


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if op == "in":
        return left in right
    if op == "not_in":
        return left not in right
    if op == "empty":
        return _empty(left)
    if op == "not_empty":
        return not _empty(left)
    if op == "true":
        return left is True
    if op == "false":
        return left is not True
    if left is _MISSING or left is None:
        return False
    try:
        if op == "gt":
            return left > right
        if op == "ge":
            return left >= right
        if op == "lt":
            return left < right
        if op == "le":
            return left <= right
    except TypeError:
        # Comparing a number with text is false, not a crash.
        return False
    raise ValueError(f"unknown operator {op}")


def evaluate(cond: Condition, data: Mapping[str, Any], roles: frozenset[str] = frozenset()) -> bool:
    if cond.field is not None:
        right = data.get(cond.value_field) if cond.value_field is not None else cond.value
        return _compare(cond.op, data.get(cond.field, _MISSING), right)
    if cond.role is not None:
        return cond.role in roles
    if cond.all is not None:
        return all(evaluate(c, data, roles) for c in cond.all)
    if cond.any is not None:
        return any(evaluate(c, data, roles) for c in cond.any)
    return not evaluate(cond.not_, data, roles)


def fields_of(cond: Condition) -> frozenset[str]:
    """Every field a condition reads."""
    if cond.field is not None:
        return frozenset({cond.field, cond.value_field} - {None})
    if cond.role is not None:
        return frozenset()
    parts = cond.all or cond.any or (cond.not_,)
    return frozenset().union(*(fields_of(c) for c in parts))
