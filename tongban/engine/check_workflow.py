"""Checks of a matter's workflow graph: states, actions and whether every step can be
reached and left. A mixin of the matter checker in `tongban.engine.check`, which supplies
`add`, the reference checks (`state_ref`, `role_ref`, `field_ref`), `condition`,
`time_limits` and `fields`.
"""

from __future__ import annotations

from collections import deque

from tongban.engine.fields import FieldError, validate_field
from tongban.engine.schema import APPLICANT


class WorkflowChecks:
    """The workflow part of the matter checker (`check._Checker`)."""

    def workflow(self) -> None:
        wf = self.spec.workflow
        base = ("workflow",)
        self.state_ref(wf.start, (*base, "start"))
        if wf.start in self.states and self.states[wf.start].final:
            self.add((*base, "start"), "起始环节不能是终态")
        for name, st in self.states.items():
            spath = (*base, "states", name)
            if st.role:
                self.role_ref(st.role, (*spath, "role"))
            for i, r in enumerate(st.roles_allowed):
                self.role_ref(r, (*spath, "roles_allowed", i))
            if st.role_from:
                self.field_ref(st.role_from, (*spath, "role_from"))
            if st.time_limits:
                self.time_limits(st.time_limits, (*spath, "time_limits"))
            if st.escalate_to:
                self.role_ref(st.escalate_to, (*spath, "escalate_to"))
            if st.sign:
                for i, r in enumerate(st.sign.roles):
                    self.role_ref(r, (*spath, "sign", "roles", i))
            if not st.final and not st.role and not st.sign and not st.role_from:
                self.add(spath, "非终态环节需要 role（由谁办理）或 sign（会签/或签）")
        outgoing: dict[str, list[str]] = {s: [] for s in self.states}
        self.leaves: dict[str, int] = {}
        for name, act in wf.actions.items():
            apath = (*base, "actions", name)
            self.action(name, act, apath, outgoing)
        for name, st in self.states.items():
            if not st.final and not self.leaves.get(name):
                self.add(
                    (*base, "states", name), f"环节 '{name}' 没有任何可执行的动作，案件会停在这里"
                )
            if st.sign and not any(
                a.kind == "sign" and name in a.from_ for a in wf.actions.values()
            ):
                self.add((*base, "states", name, "sign"), "会签环节需要一个 kind: sign 的动作")
        self.reachability(outgoing)
        if not any(st.final for st in self.states.values()):
            self.add((*base, "states"), "流程至少需要一个终态（final: true）")

    def action(self, name: str, act, apath: tuple, outgoing: dict[str, list[str]]) -> None:
        for i, src in enumerate(act.from_):
            if not self.state_ref(src, (*apath, "from", i)):
                continue
            st = self.states[src]
            if st.final:
                self.add((*apath, "from", i), f"不能从终态 '{src}' 再执行动作")
            if act.kind == "sign" and not st.sign:
                self.add((*apath, "kind"), f"sign 动作只能用于会签环节，'{src}' 没有 sign")
            if act.kind == "extend" and not st.time_limit:
                self.add((*apath, "from", i), f"环节 '{src}' 没有时限，无法延期")
            if act.by is None and not (st.role or st.sign or st.role_from):
                self.add(apath, "请写明 by（哪些角色可以执行）")
            # Only `to` leads somewhere new; `back_to` returns to steps already visited, and
            # transfer/extend/note stay put, so neither enters nor leaves a step.
            if act.to in self.states:
                outgoing[src].append(act.to)
            self.leaves.setdefault(src, 0)
            if act.to or act.back_to:
                self.leaves[src] += 1
        if act.to:
            self.state_ref(act.to, (*apath, "to"))
        for i, t in enumerate(act.back_to or ()):
            self.state_ref(t, (*apath, "back_to", i))
        for i, role in enumerate(act.by or ()):
            self.role_ref(role, (*apath, "by", i), system_ok=True)
        for i, role in enumerate(act.notify):
            self.role_ref(role, (*apath, "notify", i))
        for key, value in act.sets.items():
            if self.field_ref(key, (*apath, "sets", key)):
                f = self.spec.field(key)
                if f is not None:
                    try:
                        validate_field(f, value)
                    except FieldError as exc:
                        self.add(
                            (*apath, "sets", key), f"值 {value!r} 不适合字段 '{key}'：{exc.message}"
                        )
        if act.kind == "transfer" and act.by and APPLICANT in act.by:
            self.add((*apath, "by"), "申请人不能转交案件")
        input_keys = {f.key for f in act.inputs}
        if act.when is not None:
            self.condition(act.when, (*apath, "when"), input_keys)
        for i, key in enumerate(act.edits):
            if key not in ("*", "materials"):
                self.field_ref(key, (*apath, "edits", i))
        clash = input_keys & {f.key for f in self.spec.fields}
        if clash:
            self.add((*apath, "inputs"), f"动作的输入项不能与申请字段同名：{sorted(clash)}")
        self.fields(act.inputs, (*apath, "inputs"))

    def reachability(self, outgoing: dict[str, list[str]]) -> None:
        start = self.spec.workflow.start
        if start not in self.states:
            return
        seen, queue = {start}, deque([start])
        while queue:
            for nxt in outgoing.get(queue.popleft(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        for name in self.states:
            if name not in seen:
                self.add(("workflow", "states", name), f"环节 '{name}' 从起始环节无法到达")
