"""诉求 through the JSON API: POST /api/requests files a request through the same intake as
the resident form, the hotline and Open311 (automatic routing, deployment area, repeats,
query code). Reading and acting use the generic /api/cases endpoints."""

from typing import Any

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from tongban.services import cases, requests
from tongban.web.api.cases import ERRORS_WRITE, case_out, resolve_refs
from tongban.web.api.errors import DESCRIPTIONS
from tongban.web.api.schemas import CaseOut, MaterialRefIn
from tongban.web.api.security import WRITE

router = Router(tags=["诉求"])


class RequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(
        description="诉求内容 {request_type, content, address, position: {lat, lng}, anonymous, "
        "contact_name, contact_phone}，见 GET /api/matters/citizen_request"
    )
    category: str | None = Field(
        None, max_length=40, description="已知的诉求类别；缺省时由分类模型或派单员判断"
    )
    org: str | None = Field(
        None, max_length=20, description="所在社区/街道代码；缺省按位置或常住社区"
    )
    idempotency_key: str | None = Field(None, max_length=100)
    materials: dict[str, list[MaterialRefIn]] = Field(default_factory=dict)


class RequestOut(CaseOut):
    token: str = Field(description="查询码（/open311/v2/tokens/{token}）")


@router.post(
    "/requests",
    response={201: RequestOut, 200: RequestOut, **ERRORS_WRITE},
    auth=WRITE,
    summary="提交诉求",
    description=(
        "登记一件诉求并自动派单（分类模型把握大时；否则进入派单员队列）。位置必须在本平台服务区域内，"
        "否则 400；内容为空或超过 2000 字 400；同一幂等键重试返回第一次登记的诉求（200）。"
    ),
    openapi_extra={"responses": {s: {"description": d} for s, d in DESCRIPTIONS.items()}},
)
def submit_request(request, payload: RequestIn):
    user = request.auth
    now = timezone.now()
    case = requests.intake(
        user,
        payload.data,
        channel="api",
        materials=resolve_refs(payload.materials),
        idempotency_key=payload.idempotency_key,
        org_code=payload.org,
        category=payload.category,
        now=now,
    )
    created = case.submitted_at == now
    case = cases.get_case(case.pk, user)
    return Status(
        201 if created else 200, {**case_out(case, user), "token": requests.token_of(case)}
    )
