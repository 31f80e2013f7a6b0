"""The catalog's vocabulary: frozen specs a matter YAML file is parsed into.

A spec is immutable and knows nothing about running cases (see workflow.py for that).
`extra="forbid"` everywhere: a misspelt key is an error with its line, never ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from tongban.engine.schema_base import (  # noqa: F401 (re-exported: the catalog vocabulary)
    APPLICANT,
    FORMAT_VERSION,
    KEY_RE,
    LEVEL_LABELS,
    LEVELS,
    SYSTEM,
    BodySpec,
    CheckSpec,
    Condition,
    DurationSpec,
    FeeSpec,
    FieldSpec,
    FieldType,
    Level,
    MaterialSpec,
    Spec,
    TimeLimitBySpec,
)
from tongban.engine.schema_outputs import (  # noqa: F401
    CertificateSpec,
    ComputedSpec,
    FollowupSpec,
    NumberingSpec,
    OutputsSpec,
    ReminderSpec,
    SpawnSpec,
    ValiditySpec,
)


class SignSpec(Spec):
    """Countersign (会签, mode all) or or-sign (或签, mode any) among several roles."""

    mode: Literal["all", "any"]
    roles: tuple[str, ...] = Field(min_length=2)


class StateSpec(Spec):
    label: str = Field(min_length=1)
    role: str | None = None  # who works on cases in this state; "applicant" for 补正
    # ...or the role named by a field of the case (e.g. the department a request was
    # routed to), one of `roles_allowed`
    role_from: str | None = None
    roles_allowed: tuple[str, ...] = ()
    level: Level | None = None  # the org level of that role's unit
    time_limit: DurationSpec | None = None
    time_limits: TimeLimitBySpec | None = None
    final: bool = False
    outcome: Literal["completed", "refused", "withdrawn", "closed"] | None = None
    sign: SignSpec | None = None
    pause_clock: bool = False  # e.g. 补正: the promised time limit restarts when it is left
    escalate_to: str | None = None  # role notified when this step is overdue

    @model_validator(mode="after")
    def _final_fields(self) -> StateSpec:
        if self.final and self.outcome is None:
            raise ValueError(
                "终态（final: true）需要 outcome：completed、refused、withdrawn 或 closed"
            )
        if not self.final and self.outcome is not None:
            raise ValueError("只有终态（final: true）才能写 outcome")
        if self.final and (self.time_limit or self.sign or self.time_limits):
            raise ValueError("终态不能有 time_limit 或 sign")
        if self.role_from and (self.role or not self.roles_allowed):
            raise ValueError("role_from 与 role 只能写一个，且需要 roles_allowed（可能的角色列表）")
        if self.time_limits and not self.time_limit:
            raise ValueError("time_limits 需要同时写 time_limit（未列出的取值按它计算）")
        return self


class ActionSpec(Spec):
    """Something an actor may do to a case.

    kind move: from a state to `to`, or back to an earlier visited step chosen by the actor
    (`back_to`, 退回). kind sign: one signature in a countersign state; the case moves to
    `to` when the state's sign rule is met. kind transfer: hand the case to another handler
    with the state's role (转交). kind extend: push this step's deadline by at most
    `max_extension`, before it passes (延期). kind note: record something (a mediation
    session, an on-site check, a payment) without changing the step.
    """

    label: str = Field(min_length=1)
    from_: Annotated[
        tuple[str, ...],
        WithJsonSchema(
            {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        ),
    ] = Field(alias="from", min_length=1)
    to: str | None = None
    back_to: tuple[str, ...] | None = None
    kind: Literal["move", "sign", "transfer", "extend", "note"] = "move"
    by: tuple[str, ...] | None = None  # default: the role of the state it is taken from
    comment: Literal["required", "optional", "none"] = "optional"
    when: Condition | None = None
    edits: tuple[str, ...] = ()  # applicant fields this action may change ("*" = all)
    sets: dict[str, Any] = Field(default_factory=dict)  # fields set to fixed values
    notify: tuple[str, ...] = ()  # roles told when the action is taken (e.g. supervisor)
    inputs: tuple[FieldSpec, ...] = ()  # extra data the actor records (e.g. on-site check)
    keep_inputs: bool = False  # also store the inputs in the case data (for later steps)
    max_extension: DurationSpec | None = None
    max_times: int | None = Field(None, gt=0)
    style: Literal["primary", "danger", "default"] = "default"

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _shape(self) -> ActionSpec:
        if self.kind in {"move", "sign"}:
            if (self.to is None) == (self.back_to is None):
                raise ValueError("move 或 sign 动作必须且只能写 to 或 back_to 之一")
            if self.kind == "sign" and self.back_to is not None:
                raise ValueError("sign 动作不能用 back_to")
        else:
            if self.to is not None or self.back_to is not None:
                raise ValueError(f"{self.kind} 动作停留在原环节，不能写 to 或 back_to")
        if self.kind == "extend" and self.max_extension is None:
            raise ValueError("extend 动作需要 max_extension（最长延期时间）")
        if self.kind != "extend" and self.max_extension is not None:
            raise ValueError("只有 extend 动作可以写 max_extension")
        return self


class WorkflowSpec(Spec):
    start: str
    states: dict[Annotated[str, Field(pattern=KEY_RE)], StateSpec] = Field(min_length=2)
    actions: dict[Annotated[str, Field(pattern=KEY_RE)], ActionSpec] = Field(min_length=1)


class MatterSpec(Spec):
    """A service definition (事项)."""

    format: Literal[1] = FORMAT_VERSION
    code: Annotated[str, Field(pattern=KEY_RE)]
    name: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1)
    description: str | None = None
    applicant: Literal["person", "enterprise", "any"]
    body: BodySpec
    legal_basis: tuple[str, ...] = ()
    time_limit: DurationSpec
    time_limits: TimeLimitBySpec | None = None
    fees: tuple[FeeSpec, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    materials: tuple[MaterialSpec, ...] = ()
    workflow: WorkflowSpec
    computed: tuple[ComputedSpec, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    outputs: OutputsSpec = OutputsSpec()
    keywords: tuple[str, ...] = ()
    staff_may_file: bool = True  # window clerks may register it for a walk-in (窗口代办)
    # Who may file it: empty = anyone (residents, enterprises); otherwise these roles only
    # (e.g. a food sample is filed by a sampler). `portal: false` hides it from the public
    # catalogue (cases opened by other cases, such as an enforcement case).
    filers: tuple[str, ...] = ()
    portal: bool = True

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)

    def state(self, key: str) -> StateSpec:
        return self.workflow.states[key]


class RoleSpec(Spec):
    label: str
    description: str | None = None
    sees_health: bool = False  # may see health tags in registries


class RolesFile(Spec):
    """`roles.yaml`: the roles a deployment uses; matters may only name these."""

    format: Literal[1] = FORMAT_VERSION
    roles: dict[Annotated[str, Field(pattern=KEY_RE)], RoleSpec]
