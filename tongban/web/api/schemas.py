"""Request and response shapes of the JSON API, as /api/openapi.json documents them."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from tongban.engine.schema import ActionSpec


class ErrorOut(Schema):
    """Every error response has this shape."""

    code: str = Field(
        description="机器可读的错误代码：invalid、unauthenticated、forbidden、not_found、"
        "conflict、stale、too_large、unavailable 等"
    )
    message: str = Field(description="给人看的中文说明")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="逐字段的错误 {字段: 说明}；字段是申请数据的字段名、材料名或请求体中的字段路径",
    )


# --- matters -----------------------------------------------------------------------------


class MatterSummary(Schema):
    code: str
    name: str
    category: str
    applicant: Literal["person", "enterprise", "any"]
    applicant_label: str = Field(description="个人、企业，或个人或企业")
    time_limit: str = Field(description="承诺办结时限，如「5个工作日」")
    version: int = Field(description="事项的当前版本号")
    description: str | None = None


class FieldOut(Schema):
    key: str
    label: str
    type: str = Field(
        description="text、number、date、choice、phone、id_card、commitment、table 等"
    )
    required: bool
    help: str | None = None
    personal: bool = Field(description="个人信息：工作人员看到的是打码后的值")
    options: list[str] = Field(default_factory=list, description="choice / multichoice 的选项")
    min_length: int | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: str | None = None
    text: str | None = Field(None, description="commitment：申请人承诺的内容（提交 true 即承诺）")
    material: str | None = None
    fields: list["FieldOut"] = Field(default_factory=list, description="table：每行的字段")
    min_rows: int | None = None
    max_rows: int | None = None


class MaterialOut(Schema):
    key: str
    name: str
    required: bool
    types: list[str] = Field(description="接受的文件类型（按内容识别，不看扩展名）")
    max_size_mb: float
    description: str | None = None
    copies: str | None = None


class StateOut(Schema):
    key: str
    label: str
    role: str | None = None
    level: str | None = None
    time_limit: str | None = None
    final: bool
    outcome: str | None = None
    sign_mode: Literal["all", "any"] | None = Field(None, description="会签（all）或或签（any）")
    sign_roles: list[str] = Field(default_factory=list)


# The engine's own vocabulary: a kind added there (e.g. note) is documented here at once
# instead of failing the response check with a 500.
ActionKind = ActionSpec.model_fields["kind"].annotation


class ActionDef(Schema):
    key: str
    label: str
    kind: ActionKind
    from_states: list[str]
    to: str | None = None
    back_to: list[str] = Field(default_factory=list, description="可退回到的环节（须曾经过）")
    by: list[str] | None = Field(None, description="可办理的角色；空表示该环节的角色")
    comment: Literal["required", "optional", "none"]
    edits: list[str] = Field(default_factory=list, description="可修改的申请字段（* 为全部）")
    inputs: list[FieldOut] = Field(default_factory=list, description="办理时填写的数据")
    max_extension: str | None = None


class FeeOut(Schema):
    name: str
    amount: float
    unit: str
    basis: str | None = None


class CertificateDef(Schema):
    key: str
    name: str
    on: str = Field(description="进入该环节时发证")


class MatterDetail(MatterSummary):
    department: str
    level: str
    level_label: str
    legal_basis: list[str]
    fees: list[FeeOut]
    keywords: list[str]
    staff_may_file: bool
    fields: list[FieldOut]
    materials: list[MaterialOut]
    start: str
    states: list[StateOut]
    actions: list[ActionDef]
    certificates: list[CertificateDef]


# --- uploads and cases ---------------------------------------------------------------------


class MaterialRef(Schema):
    """A stored file, as POST /api/uploads returns it; pass it back in `materials`."""

    sha256: str
    name: str
    size: int
    type: str = Field(description="按文件内容识别的类型：pdf、jpg、png 等")


class MaterialRefIn(Schema):
    """A file uploaded earlier (POST /api/uploads); size and type are taken from our record."""

    model_config = ConfigDict(extra="ignore")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: str | None = Field(None, max_length=200)


class SubmitIn(Schema):
    model_config = ConfigDict(extra="forbid")

    matter: str = Field(max_length=64, description="事项代码，如 road_occupation")
    data: dict[str, Any] = Field(description="申请数据 {字段: 值}，字段见 GET /api/matters/{code}")
    idempotency_key: str | None = Field(
        None,
        max_length=100,
        description="幂等键：同一调用者用同一个键重试，返回第一次创建的办件（200）而不是再建一件",
    )
    org: str | None = Field(
        None, max_length=20, description="所属社区/街道的区划代码；缺省为申请人的常住社区"
    )
    materials: dict[str, list[MaterialRefIn]] = Field(
        default_factory=dict, description="申请材料 {材料: [POST /api/uploads 返回的引用]}"
    )


class ExtensionIn(Schema):
    """How much longer (延期): exactly one unit, at most the action's max_extension."""

    model_config = ConfigDict(extra="forbid")

    working_days: float | None = Field(None, gt=0)
    working_hours: float | None = Field(None, gt=0)
    minutes: int | None = Field(None, gt=0)
    days: int | None = Field(None, gt=0)


class ActIn(Schema):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=2000, description="意见（有的动作必填）")
    data: dict[str, Any] = Field(
        default_factory=dict, description="办理时填写的数据，或补正时修改的申请字段"
    )
    target: str | None = Field(None, max_length=64, description="退回时：退回到哪个环节")
    assignee: int | None = Field(None, description="转交时：接收人的用户编号")
    extension: ExtensionIn | None = Field(None, description='延期时：如 {"working_days": 2}')
    expected_version: int | None = Field(
        None, ge=1, description="调用者看到的办件版本；已被他人更新则返回 409（code 为 stale）"
    )
    materials: dict[str, list[MaterialRefIn]] | None = Field(
        None, description="补正时替换的材料 {材料: [引用]}"
    )


class OrgOut(Schema):
    code: str
    name: str


class StateRef(Schema):
    key: str
    label: str


class ActionOut(Schema):
    """An action the caller may take now (comments and inputs are still checked)."""

    name: str
    label: str
    kind: str
    comment: Literal["required", "optional", "none"]
    targets: list[StateRef] = Field(default_factory=list, description="退回时可选的环节")
    inputs: list[FieldOut] = Field(default_factory=list)
    edits: list[str] = Field(default_factory=list)
    max_extension: str | None = None


class DataRow(Schema):
    path: str
    label: str
    value: str = Field(description="给人看的值；个人信息对工作人员打码")
    masked: bool


class CertificateOut(Schema):
    number: str
    name: str
    holder: str
    valid_from: date | None = None
    valid_to: date | None = None
    valid_from_at: datetime | None = Field(None, description="有效期开始时刻（北京时间）")
    valid_to_at: datetime | None = Field(
        None, description="有效期结束时刻；按日计的有效期为最后一天 23:59:59"
    )
    issued_at: datetime
    revoked: bool


class CaseOut(Schema):
    id: int
    matter: str
    matter_name: str
    matter_version: int
    org: OrgOut
    state: str
    state_label: str
    version: int = Field(
        description="每办理一次加一；作为 expected_version 传回可防止覆盖他人的更新"
    )
    is_open: bool
    outcome: str | None = Field(None, description="办结结果：completed、refused、withdrawn、closed")
    overdue: bool
    submitted_at: datetime
    deadline: datetime | None = Field(None, description="本环节办理时限")
    due_at: datetime | None = Field(None, description="承诺办结时间")
    closed_at: datetime | None = None
    masked: bool = Field(description="data 中的个人信息是否已打码（工作人员看到的是打码值）")
    data: dict[str, Any]
    rows: list[DataRow]
    materials: dict[str, list[MaterialRef]]
    allowed_actions: list[ActionOut]
    certificates: list[CertificateOut]


class EventDetails(Schema):
    certificate_number: str | None = None
    extension: str | None = None
    new_deadline: str | None = None
    progress: list[int] | None = Field(None, description="会签进度 [已签, 共需]")
    role: str | None = None
    target: str | None = None
    assignee: int | None = None
    edited_fields: list[str] = Field(default_factory=list)
    replaced_materials: list[str] = Field(default_factory=list)


class EventOut(Schema):
    seq: int
    at: datetime
    kind: str
    action: str
    title: str
    from_state: str
    from_label: str
    to_state: str
    to_label: str
    actor: str
    comment: str
    details: EventDetails


# --- worklist ------------------------------------------------------------------------------


class WorkItem(Schema):
    id: int
    matter: str
    matter_name: str
    state: str
    state_label: str
    org: OrgOut
    submitted_at: datetime
    deadline: datetime | None = None
    due_at: datetime | None = None
    overdue: bool


class WorklistOut(Schema):
    tab: str
    items: list[WorkItem]
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="下一页的 offset；没有更多时为 null")
