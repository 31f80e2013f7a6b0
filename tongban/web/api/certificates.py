"""Certificates (电子证照): revocation by the issuing body — the same service and rules as
the workbench form and `tongban cert revoke`."""

from typing import Literal

from django.utils import timezone
from ninja import Field, Router, Schema

from tongban.services import certificates
from tongban.web.api.errors import DESCRIPTIONS, documented
from tongban.web.api.security import WRITE

router = Router(tags=["证照"])


class RevokeIn(Schema):
    reason: str = Field(description="撤销理由（必填，至多 200 个字），公开核验页上显示")


class CertificateStatusOut(Schema):
    number: str
    name: str
    case_id: int
    status: Literal["valid", "not_yet_valid", "expired", "revoked"] = Field(
        description="登记状态：valid 有效、not_yet_valid 尚未生效、expired 已过期、revoked 已撤销"
    )
    label: str = Field(description="状态的中文，如「已撤销」")
    revoked_at: str | None = Field(None, description="撤销时刻（北京时间，ISO 8601）")
    revoke_reason: str = ""
    verify_url: str = Field(description="公开核验地址（与证照二维码指向的页面相同，不含签名）")


def status_out(cert) -> dict:
    status = certificates.status_of(cert)
    return {
        "number": cert.number,
        "name": cert.name,
        "case_id": cert.case_id,
        "status": status["status"],
        "label": status["label"],
        "revoked_at": timezone.localtime(cert.revoked_at).isoformat() if cert.revoked_at else None,
        "revoke_reason": cert.revoke_reason if cert.revoked_at else "",
        "verify_url": certificates.verify_url(cert.number),
    }


@router.post(
    "/certificates/{number}/revoke",
    response={200: CertificateStatusOut, **documented(400, 401, 403, 404, 409, 503)},
    auth=WRITE,
    summary="撤销证照",
    description=(
        "撤销一张证照：只有有权核发该证照的岗位（按事项的办理流程）或发证机关负责人，"
        "在办件所属辖区内可以撤销；撤销记入办件的办理记录。理由为空返回 400；"
        "看得到办件但无权撤销返回 403；证照不存在或不在查看范围内返回 404；"
        "已撤销过返回 409（code 为 already_revoked）。返回撤销后的证照状态。"
    ),
    openapi_extra={"responses": {s: {"description": d} for s, d in DESCRIPTIONS.items()}},
)
def revoke_certificate(request, number: str, payload: RevokeIn):
    cert = certificates.revoke(number, payload.reason, request.auth)
    return status_out(cert)
