"""Checks of a bundle definition against the matters it lists."""

from __future__ import annotations

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
            table = bundle_fields.get(item.for_each)
            if table is None or table.type != "table":
                add(
                    (*path, "for_each"),
                    f"'{item.for_each}' 须是一件事自身的表格字段（fields 中 type: table）",
                )
        if item.when is not None:
            _check_when(item.when, (*path, "when"), bundle, matters, add)
        for f in matter.fields:
            if f.key in item.receives:
                continue
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
    loop = _cycle({i.key: i.needs for i in bundle.items})
    if loop:
        first = keys.index(loop[0])
        add(("items", first, "needs"), "依赖关系成环：" + " → ".join(loop))
    return problems


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
