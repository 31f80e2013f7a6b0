"""Catalog vocabulary, part 1: the building blocks — durations, fields, materials,
conditions. See schema.py for the matter and its workflow."""

from __future__ import annotations

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
    # filled by staff or the system (e.g. the department a request is routed to), never
    # asked on the applicant's form
    internal: bool = False
    # staff may pick a record of this registry kind (person, enterprise, vehicle, driver,
    # rider, place, volunteer) instead of retyping: a search box that fills this field and
    # its siblings. pick_fill maps sibling field keys to the kind's column keys; empty
    # means {this field: the kind's first title column}. Checked by engine.check.
    pick_from: Annotated[str, Field(pattern=KEY_RE)] | None = None
    pick_fill: dict[Annotated[str, Field(pattern=KEY_RE)], str] = Field(default_factory=dict)

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
        if self.pick_fill and not self.pick_from:
            raise ValueError("pick_fill 需要与 pick_from（台账种类）一起使用")
        if self.pick_from and self.type in {"table", "file", "commitment"}:
            raise ValueError(f"类型 {self.type} 不能使用 pick_from")
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
    value_field: str | None = None  # compare with another field instead of a fixed value
    role: str | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(None, alias="not")

    @field_validator("op", mode="before")
    @classmethod
    def _plain_bool(cls, v):
        # `op: true` unquoted is YAML's boolean, not the operator's name.
        return {True: "true", False: "false"}.get(v, v) if isinstance(v, bool) else v

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [k for k in ("field", "role", "all", "any", "not_") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("条件必须且只能是一种：field、role、all、any 或 not")
        if self.field is not None:
            needs_value = self.op not in {"empty", "not_empty", "true", "false"}
            if needs_value and self.value is None and self.value_field is None:
                raise ValueError(f"比较 {self.op} 需要 value")
            if (
                self.op in {"in", "not_in"}
                and self.value_field is None
                and not isinstance(self.value, list | tuple)
            ):
                raise ValueError(f"比较 {self.op} 的 value 必须是列表")
        return self


class TimeLimitBySpec(Spec):
    """A time limit that depends on an answer, e.g. by request type:
    `{field: request_type, values: {紧急: {minutes: 120}, 咨询: {working_days: 2}}}`.
    Values not listed fall back to the plain `time_limit`."""

    field: str
    values: dict[str, DurationSpec] = Field(min_length=1)


class CheckSpec(Spec):
    """A rule across fields, checked whenever the answers are entered or changed:
    `{rule: {field: returning_count, op: le, value_field: employee_count},
      field: returning_count, message: 首批返岗人数不能超过职工总数}`."""

    rule: Condition
    field: str
    message: str = Field(min_length=1)
