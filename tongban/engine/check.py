"""Semantic checks of a parsed matter: what the schema alone cannot see.

Every problem points at the line that has to change. The checks are the ones an author
trips over: states that do not exist or cannot be reached, dead ends, actions out of final
states, roles nobody defined, conditions on fields that do not exist, bad numbering rules,
and the same field key meaning two things in two matters. The workflow-graph checks
(states, actions, reachability) are in `tongban.engine.check_workflow`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tongban.engine.check_workflow import WorkflowChecks
from tongban.engine.conditions import fields_of
from tongban.engine.errors import Problem
from tongban.engine.numbering import compile_pattern
from tongban.engine.schema import APPLICANT, SYSTEM, Condition, FieldSpec, MatterSpec
from tongban.engine.source import Source

if TYPE_CHECKING:
    from tongban.engine.loader import LoadedMatter


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"（是不是 '{close[0]}'？）" if close else ""


class _Checker(WorkflowChecks):
    def __init__(self, spec: MatterSpec, source: Source, roles: set[str] | None):
        self.spec = spec
        self.source = source
        self.roles = roles
        self.problems: list[Problem] = []
        self.states = spec.workflow.states
        self.field_keys = {f.key for f in spec.fields}
        # inputs kept in the case data can be used later like fields
        self.field_keys |= {
            f.key for a in spec.workflow.actions.values() if a.keep_inputs for f in a.inputs
        }
        # computed values can be used in conditions and certificates like fields
        self.computed_keys = {c.key for c in spec.computed} | {
            f"{c.key}_failed" for c in spec.computed if c.rule == "limits"
        }

    def add(self, path: tuple, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def state_ref(self, name: str, path: tuple) -> bool:
        if name in self.states:
            return True
        self.add(path, f"未知的环节 '{name}'{_hint(name, self.states)}")
        return False

    def role_ref(self, role: str, path: tuple, *, system_ok: bool = False) -> None:
        if role == SYSTEM and not system_ok:
            self.add(
                path, "system 是系统内置身份，只能写在动作的 by 中（表示自动执行），不能办理环节"
            )
            return
        if role == SYSTEM:
            return
        if role == APPLICANT or self.roles is None or role in self.roles:
            return
        hint = _hint(role, {*self.roles, APPLICANT})
        self.add(path, f"未知的角色 '{role}'{hint}；角色须在 roles.yaml 中定义")

    def field_ref(self, key: str, path: tuple, *, extra: set[str] = frozenset()) -> bool:
        if key in self.field_keys or key in extra or key in self.computed_keys:
            return True
        self.add(path, f"未知的字段 '{key}'{_hint(key, self.field_keys | extra)}")
        return False

    def run(self) -> list[Problem]:
        self.fields(self.spec.fields, ("fields",))
        for i, role in enumerate(self.spec.filers):
            self.role_ref(role, ("filers", i))
        for i, c in enumerate(self.spec.checks):
            self.condition(c.rule, ("checks", i, "rule"))
            self.field_ref(c.field, ("checks", i, "field"))
        if self.spec.time_limits:
            self.time_limits(self.spec.time_limits, ("time_limits",))
        self.computed()
        self.reminders()
        self.materials()
        self.workflow()
        self.outputs()
        return self.problems

    def fields(self, fields: tuple[FieldSpec, ...], path: tuple) -> None:
        seen: set[str] = set()
        material_keys = {m.key for m in self.spec.materials}
        for i, f in enumerate(fields):
            if f.key in seen:
                self.add((*path, i, "key"), f"字段 '{f.key}' 重复定义")
            seen.add(f.key)
            if f.type == "file" and f.material and f.material not in material_keys:
                self.add((*path, i, "material"), f"未知的材料 '{f.material}'")
            if f.type == "table":
                self.fields(f.fields, (*path, i, "fields"))
            if f.pick_from:
                self.pick(f, fields, (*path, i))

    def pick(self, f: FieldSpec, siblings: tuple[FieldSpec, ...], path: tuple) -> None:
        """pick_from names a registry kind; pick_fill maps sibling fields to its columns."""
        # The registry kinds are plain declarations (dataclasses, no Django): reading
        # them keeps the engine pure while the catalog checks against the real list.
        from tongban.registry.kinds import KINDS

        kind = KINDS.get(f.pick_from)
        if kind is None:
            self.add((*path, "pick_from"), f"未知的台账 '{f.pick_from}'{_hint(f.pick_from, KINDS)}")
            return
        keys = {s.key for s in siblings}
        for target, column in f.pick_fill.items():
            if target not in keys:
                self.add(
                    (*path, "pick_fill", target), f"未知的字段 '{target}'{_hint(target, keys)}"
                )
            if column not in kind.by_key or column == "org":
                cols = [c for c in kind.by_key if c != "org"]
                self.add(
                    (*path, "pick_fill", target),
                    f"台账“{kind.label}”没有列 '{column}'{_hint(column, cols)}",
                )

    def _table(self, key: str, path: tuple):
        f = self.spec.field(key)
        if f is None or f.type != "table":
            self.add(path, f"'{key}' 不是表格字段（type: table）")
            return None
        return f

    def _column(
        self, table, column: str | None, path: tuple, types: set[str] | None = None
    ) -> None:
        if column is None:
            self.add(path[:-1], f"缺少 {path[-1]}")
            return
        sub = next((s for s in table.fields if s.key == column), None)
        if sub is None:
            self.add(path, f"表格 '{table.key}' 没有列 '{column}'")
        elif types and sub.type not in types:
            self.add(path, f"列 '{column}' 应为 {'、'.join(sorted(types))} 类型")

    def computed(self) -> None:
        for i, c in enumerate(self.spec.computed):
            path = ("computed", i)
            if c.key in self.field_keys:
                self.add((*path, "key"), f"计算值 '{c.key}' 与字段同名")
            if c.rule == "product":
                if len(c.of) < 2:
                    self.add((*path, "of"), "product 需要 of 列出至少两个相乘的字段")
                for j, key in enumerate(c.of):
                    self.field_ref(key, (*path, "of", j))
                continue
            if c.table is None:
                self.add(path, f"规则 {c.rule} 需要 table")
                continue
            table = self._table(c.table, (*path, "table"))
            if table is None:
                continue
            if c.rule in ("limits", "sum"):
                self._column(table, c.value, (*path, "value"), {"number"})
            if c.rule == "sum" and c.times:
                self._column(table, c.times, (*path, "times"), {"number"})
            if c.rule == "limits":
                self._column(table, c.limit, (*path, "limit"), {"number"})
                self._column(table, c.op, (*path, "op"), {"choice", "text"})
                if c.label_column:
                    self._column(table, c.label_column, (*path, "label_column"))

    def reminders(self) -> None:
        for i, r in enumerate(self.spec.outputs.reminders):
            path = ("outputs", "reminders", i)
            table = self._table(r.table, (*path, "table"))
            if table is not None:
                self._column(table, r.date_field, (*path, "date_field"), {"date"})
                self._column(table, r.done_field, (*path, "done_field"), {"boolean"})
            for j, s in enumerate(r.while_in):
                self.state_ref(s, (*path, "while_in", j))
            for j, who in enumerate(r.notify):
                if who not in ("applicant", "handler"):
                    self.role_ref(who, (*path, "notify", j))
            for j, to in enumerate(r.sms):
                self.text_to(to, (*path, "sms", j))

    def text_to(self, to, path: tuple) -> None:
        table = self._table(to.table, (*path, "table"))
        if table is None:
            return
        self._column(table, to.phone, (*path, "phone"), {"phone"})
        if to.name is not None:
            self._column(table, to.name, (*path, "name"))
        if to.when is not None:
            columns = {f.key for f in table.fields}
            for key in sorted(fields_of(to.when) - columns):
                self.add((*path, "when"), f"表格 '{table.key}' 没有列 '{key}'（条件按每一行判断）")

    def materials(self) -> None:
        seen: set[str] = set()
        for i, m in enumerate(self.spec.materials):
            if m.key in seen:
                self.add(("materials", i, "key"), f"材料 '{m.key}' 重复定义")
            seen.add(m.key)

    def condition(self, cond: Condition, path: tuple, extra: set[str] = frozenset()) -> None:
        if cond.field is not None:
            self.field_ref(cond.field, (*path, "field"), extra=extra)
        if cond.value_field is not None:
            self.field_ref(cond.value_field, (*path, "value_field"), extra=extra)
        if cond.role is not None:
            self.role_ref(cond.role, (*path, "role"))
        for key in ("all", "any"):
            for i, sub in enumerate(getattr(cond, key) or ()):
                self.condition(sub, (*path, key, i), extra)
        if cond.not_ is not None:
            self.condition(cond.not_, (*path, "not"), extra)

    def time_limits(self, by, path: tuple) -> None:
        if not self.field_ref(by.field, (*path, "field")):
            return
        f = self.spec.field(by.field)
        if f is not None and f.options:
            for value in by.values:
                if value not in f.options:
                    self.add((*path, "values", value), f"'{value}' 不是字段 '{f.key}' 的选项")

    def unique_keys(self, items, path: tuple, what: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.key in seen:
                self.add((*path, i, "key"), f"{what} '{item.key}' 重复（请给每个写不同的 key）")
            seen.add(item.key)

    def outputs(self) -> None:
        out = self.spec.outputs
        self.unique_keys(out.certificates, ("outputs", "certificates"), "证照")
        self.unique_keys(out.followups, ("outputs", "followups"), "报告")
        self.unique_keys(out.reminders, ("outputs", "reminders"), "提醒")
        self.unique_keys(self.spec.computed, ("computed",), "计算值")
        for i, cert in enumerate(out.certificates):
            path = ("outputs", "certificates", i)
            self.state_ref(cert.on, (*path, "on"))
            try:
                compile_pattern(cert.numbering.pattern, cert.numbering.reset)
            except ValueError as exc:
                self.add((*path, "numbering", "pattern"), str(exc))
            if cert.validity:
                for key in ("from_field", "to_field"):
                    ref = getattr(cert.validity, key)
                    known = ref and self.field_ref(ref, (*path, "validity", key))
                    f = self.spec.field(ref) if known else None
                    if known and (f is None or f.type not in {"date", "datetime"}):
                        self.add((*path, "validity", key), f"有效期字段 '{ref}' 必须是日期类型")
            if cert.holder_field:
                self.field_ref(cert.holder_field, (*path, "holder_field"))
            for j, key in enumerate(cert.show_fields):
                self.field_ref(key, (*path, "show_fields", j))
        for i, fu in enumerate(out.followups):
            for j, s in enumerate(fu.while_in):
                self.state_ref(s, ("outputs", "followups", i, "while_in", j))
            self.fields(fu.fields, ("outputs", "followups", i, "fields"))
        for i, sp in enumerate(out.spawn):
            path = ("outputs", "spawn", i)
            self.state_ref(sp.on, (*path, "on"))
            for target, src in sp.map.items():
                self.field_ref(src, (*path, "map", target))
            if sp.when is not None:
                self.condition(sp.when, (*path, "when"))


def check_matter(spec: MatterSpec, source: Source, roles: set[str] | None) -> list[Problem]:
    return _Checker(spec, source, roles).run()


def _all_fields(spec: MatterSpec):
    for i, f in enumerate(spec.fields):
        yield ("fields", i), f


def check_across(matters: list[LoadedMatter]) -> list[Problem]:
    """Problems between files: duplicate codes, one field key with two types, spawn targets."""
    problems: list[Problem] = []
    codes: dict[str, LoadedMatter] = {}
    types: dict[str, tuple[str, LoadedMatter]] = {}
    for m in matters:
        if getattr(m.spec, "kind", None) == "bundle":
            if m.spec.code in codes:
                other = codes[m.spec.code].file
                problems.append(
                    m.source.problem(("code",), f"代码 '{m.spec.code}' 与 {other} 重复")
                )
            codes.setdefault(m.spec.code, m)
            continue
        if m.spec.code in codes:
            other = codes[m.spec.code].file
            problems.append(
                m.source.problem(("code",), f"事项代码 '{m.spec.code}' 与 {other} 重复")
            )
        codes.setdefault(m.spec.code, m)
        for path, f in _all_fields(m.spec):
            first = types.setdefault(f.key, (f.type, m))
            if first[0] != f.type:
                problems.append(
                    m.source.problem(
                        (*path, "type"),
                        f"字段 '{f.key}' 在 {first[1].file} 中是 {first[0]} 类型，这里是 {f.type}；"
                        "同一个键在整个目录中必须是同一种类型",
                    )
                )
    for m in matters:
        if getattr(m.spec, "kind", None) == "bundle":
            continue
        for i, sp in enumerate(m.spec.outputs.spawn):
            target = codes.get(sp.matter)
            if target is None:
                problems.append(
                    m.source.problem(
                        ("outputs", "spawn", i, "matter"),
                        f"未知的事项 '{sp.matter}'{_hint(sp.matter, codes)}",
                    )
                )
                continue
            for key in sp.map:
                if target.spec.field(key) is None:
                    problems.append(
                        m.source.problem(
                            ("outputs", "spawn", i, "map", key),
                            f"事项 '{sp.matter}' 没有字段 '{key}'",
                        )
                    )
    return problems
