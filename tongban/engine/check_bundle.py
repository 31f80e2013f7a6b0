"""Checks of a bundle definition against the matters it lists."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from tongban.engine.errors import Problem
from tongban.engine.schema import MatterSpec
from tongban.engine.schema_bundle import BundleSpec
from tongban.engine.source import Source


def _cycle(needs: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in needs.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if state.get(nxt) is None and nxt in needs:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for node in needs:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def check_bundle(
    bundle: BundleSpec, source: Source, matters: Mapping[str, MatterSpec]
) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple, message: str) -> None:
        problems.append(source.problem(path, message))

    keys = [i.key for i in bundle.items]
    for i, item in enumerate(bundle.items):
        if keys.count(item.key) > 1 and keys.index(item.key) != i:
            add(("items", i, "key"), f"事项键 '{item.key}' 重复")
    by_key = {i.key: i for i in bundle.items}
    bundle_fields = {f.key: f for f in bundle.fields}
    types: dict[str, tuple[str, str]] = {f.key: (f.type, "一件事本身") for f in bundle.fields}
    for i, item in enumerate(bundle.items):
        path = ("items", i)
        matter = matters.get(item.matter)
        if matter is None:
            add((*path, "matter"), f"未知的事项 '{item.matter}'（须是目录中已有的事项）")
            continue
        for matter_key in item.map:
            if matter.field(matter_key) is None:
                add((*path, "map", matter_key), f"事项 '{item.matter}' 没有字段 '{matter_key}'")
        for j, need in enumerate(item.needs):
            if need not in by_key:
                add((*path, "needs", j), f"未知的事项键 '{need}'")
        for target, src in item.receives.items():
            if matter.field(target) is None:
                add((*path, "receives", target), f"事项 '{item.matter}' 没有字段 '{target}'")
            src_item, _, what = src.partition(".")
            if src_item not in item.needs:
                add((*path, "receives", target), f"'{src_item}' 不在 needs 中，不能从它接收")
                continue
            src_matter = matters.get(by_key[src_item].matter) if src_item in by_key else None
            if src_matter is None:
                continue
            if what == "certificate":
                if not src_matter.outputs.certificates:
                    add((*path, "receives", target), f"事项 '{src_matter.code}' 不发证照")
            elif src_matter.field(what) is None:
                add((*path, "receives", target), f"事项 '{src_matter.code}' 没有字段 '{what}'")
        if item.for_each:
            _check_for_each(item, path, matter, bundle_fields, add)
        for target, src in item.receives.items():
            src_item = by_key.get(src.partition(".")[0])
            if src_item is not None and src_item.for_each:
                add(
                    (*path, "receives", target),
                    f"'{src_item.key}' 逐行办理（for_each），有多件办件，不能从它接收；"
                    "只能在 needs 中等待它全部办结",
                )
        if item.when is not None:
            _check_when(item.when, (*path, "when"), bundle, matters, add)
        on_row = _row_keys(item, bundle_fields)
        for f in matter.fields:
            if f.key in item.receives or item.map.get(f.key, f.key) in on_row:
                continue  # received later, or a column of the item's table (checked there)
            key = item.map.get(f.key, f.key)
            first = types.setdefault(key, (f.type, item.matter))
            if first[0] != f.type:
                add(
                    (*path, "matter"),
                    f"字段 '{key}' 在 {first[1]} 中是 {first[0]} 类型，"
                    f"在 {item.matter} 中是 {f.type}；请用 map 改名，或统一类型",
                )
    for matter_key in bundle.material_map:
        if not any(
            m.key == matter_key
            for item in bundle.items
            for m in (matters[item.matter].materials if item.matter in matters else ())
        ):
            add(("material_map", matter_key), f"没有任何事项有材料 '{matter_key}'")
    _check_unused_columns(bundle, matters, add)
    loop = _cycle({i.key: i.needs for i in bundle.items})
    if loop:
        first = keys.index(loop[0])
        add(("items", first, "needs"), "依赖关系成环：" + " → ".join(loop))
    return problems


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"（是不是 '{close[0]}'？）" if close else ""


def _row_keys(item, bundle_fields) -> set[str]:
    table = bundle_fields.get(item.for_each) if item.for_each else None
    return {c.key for c in table.fields} if table is not None and table.type == "table" else set()


def _check_for_each(item, path, matter, bundle_fields, add) -> None:
    """`for_each` names a table of the bundle's own fields; each column that fills a field
    of the item's matter has that field's type."""
    table = bundle_fields.get(item.for_each)
    if table is None:
        tables = [k for k, f in bundle_fields.items() if f.type == "table"]
        add(
            (*path, "for_each"),
            f"'{item.for_each}' 不是一件事自身 fields 中的字段{_hint(item.for_each, tables)}；"
            "for_each 须是其中的表格字段（type: table）",
        )
        return
    if table.type != "table":
        add(
            (*path, "for_each"),
            f"字段 '{item.for_each}' 是 {table.type} 类型，不是表格；for_each 须是"
            "一件事自身 fields 中的表格字段（type: table），每行办一件",
        )
        return
    by_bundle_key = {item.map.get(f.key, f.key): f for f in matter.fields}
    columns = {c.key for c in table.fields}
    if not columns & set(by_bundle_key):
        add(
            (*path, "for_each"),
            f"表格 '{item.for_each}' 没有一列对应事项 '{item.matter}' 的字段，逐行办理没有意义"
            "（列的 key 须与事项字段相同，或用 map 对应）",
        )
    for target in item.receives:
        if item.map.get(target, target) in columns:
            add((*path, "receives", target), f"'{target}' 已由表格 '{item.for_each}' 的列填写")


def _check_unused_columns(bundle, matters, add) -> None:
    """Each column of a fanned-out table fills a field of some item over it, with that
    field's type."""
    for i, table in enumerate(bundle.fields):
        users = [it for it in bundle.items if it.for_each == table.key]
        if table.type != "table" or not users:
            continue
        for j, column in enumerate(table.fields):
            targets = [
                (it, f)
                for it in users
                for f in (matters[it.matter].fields if it.matter in matters else ())
                if it.map.get(f.key, f.key) == column.key
            ]
            where = ("fields", i, "fields", j)
            if not targets:
                names = "、".join(it.matter for it in users)
                add((*where, "key"), f"列 '{column.key}' 不是事项 {names} 的字段，填了也用不上")
            for it, f in targets:
                if f.type != column.type:
                    add(
                        (*where, "type"),
                        f"列 '{column.key}' 是 {column.type} 类型，在事项 {it.matter} 中"
                        f"是 {f.type}；请统一类型",
                    )


def _check_when(cond, path, bundle, matters, add) -> None:
    known = {f.key for f in bundle.fields}
    for item in bundle.items:
        matter = matters.get(item.matter)
        if matter is not None:
            known |= {item.map.get(f.key, f.key) for f in matter.fields}
    if cond.field is not None and cond.field not in known:
        add((*path, "field"), f"条件中的字段 '{cond.field}' 不在合并后的表单中")
    for key in ("all", "any"):
        for i, sub in enumerate(getattr(cond, key) or ()):
            _check_when(sub, (*path, key, i), bundle, matters, add)
    if cond.not_ is not None:
        _check_when(cond.not_, (*path, "not"), bundle, matters, add)
