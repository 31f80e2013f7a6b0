"""The catalog's vocabulary: frozen specs a matter YAML file is parsed into.

A spec is immutable and knows nothing about running cases (see workflow.py for that).
`extra="forbid"` everywhere: a misspelt key is an error with its line, never ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FORMAT_VERSION = 1

Level = Literal["district", "street", "community", "grid"]
LEVEL_LABELS = {"district": "区", "street": "街道/镇", "community": "社区/村", "grid": "网格"}
LEVELS: tuple[str, ...] = ("district", "street", "community", "grid")

FieldType = Literal[
    "text",
    "textarea",
    "number",
    "date",
    "datetime",
    "choice",
    "multichoice",
    "phone",
    "id_card",
    "uscc",
    "plate",
    "address",
    "geo",
    "commitment",
    "file",
    "boolean",
    "table",
]

KEY_RE = r"^[a-z][a-z0-9_]{0,62}$"
APPLICANT = "applicant"  # built-in role: the person or enterprise that filed the case
SYSTEM = "system"  # built-in role: the time-limit sweeper


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DurationSpec(Spec):
    """A time limit: exactly one of working_days, working_hours, minutes, days."""

    working_days: float | None = Field(None, gt=0, le=3650)
    working_hours: float | None = Field(None, gt=0, le=87600)
    minutes: int | None = Field(None, gt=0, le=5_256_000)
    days: int | None = Field(None, gt=0, le=3650)

    @model_validator(mode="after")
    def _exactly_one(self) -> DurationSpec:
        given = [
            k for k in ("working_days", "working_hours", "minutes", "days") if getattr(self, k)
        ]
        if len(given) != 1:
            raise ValueError("时限必须且只能写一项：working_days、working_hours、minutes 或 days")
        return self

    @property
    def unit(self) -> str:
        return next(
            k for k in ("working_days", "working_hours", "minutes", "days") if getattr(self, k)
        )

    @property
    def amount(self) -> float:
        return getattr(self, self.unit)


_TYPE_PARAMS = {
    "min_length": {"text", "textarea", "address"},
    "max_length": {"text", "textarea", "address"},
    "min": {"number"},
    "max": {"number"},
    "integer": {"number"},
    "unit": {"number"},
    "options": {"choice", "multichoice"},
    "text": {"commitment"},
    "material": {"file"},
    "fields": {"table"},
    "min_rows": {"table"},
    "max_rows": {"table"},
}


class FieldSpec(Spec):
    """One thing the applicant (or an actor) fills in."""

    key: Annotated[str, Field(pattern=KEY_RE)]
    label: str = Field(min_length=1, max_length=80)
    type: FieldType = "text"
    required: bool = True
    help: str | None = None
    # text / textarea / address
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, gt=0, le=100_000)
    # number
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: str | None = None
    # choice / multichoice
    options: tuple[str, ...] = ()
    # id_card
    allow_legacy: bool = True
    # commitment: the text the applicant accepts (stored verbatim with the case)
    text: str | None = None
    # file (a material key) — see MaterialSpec
    material: str | None = None
    # table: rows of sub-fields, e.g. one or more drivers
    fields: tuple[FieldSpec, ...] = ()
    min_rows: int = Field(0, ge=0)
    max_rows: int = Field(100, gt=0, le=10_000)
    # personal data shown masked in lists (id_card and phone are always masked)
    personal: bool = False

    @model_validator(mode="after")
    def _params_fit_type(self) -> FieldSpec:
        for param, types in _TYPE_PARAMS.items():
            if (
                getattr(self, param) != type(self).model_fields[param].default
                and self.type not in types
            ):
                allowed = "、".join(sorted(types))
                raise ValueError(f"{param} 只能用于类型 {allowed}，不能用于 {self.type}")
        if self.type in {"choice", "multichoice"} and not self.options:
            raise ValueError(f"类型 {self.type} 需要 options（选项列表）")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options 中有重复的选项")
        if self.type == "commitment" and not self.text:
            raise ValueError("类型 commitment 需要 text（承诺内容）")
        if self.type == "table" and not self.fields:
            raise ValueError("类型 table 需要 fields（每行的字段）")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 不能大于 max")
        lengths = (self.min_length, self.max_length)
        if None not in lengths and lengths[0] > lengths[1]:
            raise ValueError("min_length 不能大于 max_length")
        if self.min_rows > self.max_rows:
            raise ValueError("min_rows 不能大于 max_rows")
        return self

    @property
    def is_personal(self) -> bool:
        return self.personal or self.type in {"id_card", "phone"}


class MaterialSpec(Spec):
    """A document the applicant attaches (申请材料)."""

    key: Annotated[str, Field(pattern=KEY_RE)]
    name: str = Field(min_length=1)
    required: bool = True
    types: tuple[str, ...] = ("pdf", "jpg", "jpeg", "png")
    max_size_mb: float = Field(10, gt=0, le=100)
    description: str | None = None
    copies: str | None = None  # e.g. "原件扫描件 1 份"

    @field_validator("types")
    @classmethod
    def _lower(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        allowed = {"pdf", "jpg", "jpeg", "png", "gif", "webp", "doc", "docx", "xls", "xlsx", "ofd"}
        bad = [t for t in v if t.lower().lstrip(".") not in allowed]
        if bad:
            raise ValueError(f"不支持的文件类型 {bad}；可用：{'、'.join(sorted(allowed))}")
        return tuple(t.lower().lstrip(".") for t in v)


class BodySpec(Spec):
    """The implementing body (实施主体): the level of the org tree and the department."""

    level: Level
    department: str = Field(min_length=1)


class FeeSpec(Spec):
    name: str
    amount: float = Field(ge=0)
    unit: str = "元"
    basis: str | None = None


class Condition(Spec):
    """A condition from a small declared vocabulary. Never evaluated as code.

    Exactly one of: a field comparison (`field` + `op` [+ `value`]), a role check (`role`),
    or a combination (`all`, `any`, `not`).
    """

    field: str | None = None
    op: Literal[
        "eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "empty", "not_empty", "true", "false"
    ] = "eq"
    value: Any = None
    role: str | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [k for k in ("field", "role", "all", "any", "not_") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("条件必须且只能是一种：field、role、all、any 或 not")
        if self.field is not None:
            needs_value = self.op not in {"empty", "not_empty", "true", "false"}
            if needs_value and self.value is None:
                raise ValueError(f"比较 {self.op} 需要 value")
            if self.op in {"in", "not_in"} and not isinstance(self.value, list | tuple):
                raise ValueError(f"比较 {self.op} 的 value 必须是列表")
        return self


class SignSpec(Spec):
    """Countersign (会签, mode all) or or-sign (或签, mode any) among several roles."""

    mode: Literal["all", "any"]
    roles: tuple[str, ...] = Field(min_length=2)


class StateSpec(Spec):
    label: str = Field(min_length=1)
    role: str | None = None  # who works on cases in this state; "applicant" for 补正
    level: Level | None = None  # the org level of that role's unit
    time_limit: DurationSpec | None = None
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
        if self.final and (self.time_limit or self.sign):
            raise ValueError("终态不能有 time_limit 或 sign")
        return self


class ActionSpec(Spec):
    """Something an actor may do to a case.

    kind move: from a state to `to`, or back to an earlier visited step chosen by the actor
    (`back_to`, 退回). kind sign: one signature in a countersign state; the case moves to
    `to` when the state's sign rule is met. kind transfer: hand the case to another handler
    with the state's role (转交). kind extend: push this step's deadline by at most
    `max_extension`, before it passes (延期).
    """

    label: str = Field(min_length=1)
    from_: tuple[str, ...] = Field(alias="from", min_length=1)
    to: str | None = None
    back_to: tuple[str, ...] | None = None
    kind: Literal["move", "sign", "transfer", "extend"] = "move"
    by: tuple[str, ...] | None = None  # default: the role of the state it is taken from
    comment: Literal["required", "optional", "none"] = "optional"
    when: Condition | None = None
    edits: tuple[str, ...] = ()  # applicant fields this action may change ("*" = all)
    inputs: tuple[FieldSpec, ...] = ()  # extra data the actor records (e.g. on-site check)
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


class NumberingSpec(Spec):
    """A gapless numbering rule, e.g. `{division}{seq:6}` or `苏相农通〔{year}〕{seq:5}`."""

    pattern: str = Field(min_length=1)
    reset: Literal["never", "yearly", "monthly", "daily"] = "never"
    division_level: Level = "district"


class ValiditySpec(Spec):
    """How long a certificate is valid: fixed days, or dates taken from fields."""

    days: int | None = Field(None, gt=0)
    from_field: str | None = None
    to_field: str | None = None


class CertificateSpec(Spec):
    key: Annotated[str, Field(pattern=KEY_RE)] = "certificate"
    name: str
    on: str  # the state whose entry issues it
    numbering: NumberingSpec
    validity: ValiditySpec | None = None
    template: str | None = None
    holder_field: str | None = None
    grants: str | None = None  # what the certificate grants, shown on the verify page
    show_fields: tuple[str, ...] = ()  # fields printed on the certificate


class FollowupSpec(Spec):
    """Recurring reports the applicant files while the case is in one of `while_in`."""

    key: Annotated[str, Field(pattern=KEY_RE)]
    name: str
    every: DurationSpec
    while_in: tuple[str, ...] = Field(min_length=1)
    fields: tuple[FieldSpec, ...] = Field(min_length=1)


class SpawnSpec(Spec):
    """On entering state `on`, open a case of another matter (e.g. an enforcement case)."""

    on: str
    matter: Annotated[str, Field(pattern=KEY_RE)]
    map: dict[str, str] = Field(default_factory=dict)  # target field -> source field
    when: Condition | None = None


class OutputsSpec(Spec):
    certificates: tuple[CertificateSpec, ...] = ()
    followups: tuple[FollowupSpec, ...] = ()
    spawn: tuple[SpawnSpec, ...] = ()


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
    fees: tuple[FeeSpec, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    materials: tuple[MaterialSpec, ...] = ()
    workflow: WorkflowSpec
    outputs: OutputsSpec = OutputsSpec()
    keywords: tuple[str, ...] = ()
    staff_may_file: bool = True  # window clerks may register it for a walk-in (窗口代办)

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


NAME_TOKEN = re.compile(r"\{([a-z]+)(?::(\d+))?\}")
