"""Cases: submit, read, act, history — the same services and rules as the pages."""

from django.utils import timezone
from ninja import Router, Status

from tongban.engine.schema import MatterSpec
from tongban.services import cases, catalog, privacy, timeline
from tongban.services.errors import Invalid
from tongban.services.uploads import safe_name
from tongban.store.models import Case, Upload
from tongban.web.api.errors import DESCRIPTIONS, documented
from tongban.web.api.matters import duration_label, field_out
from tongban.web.api.schemas import ActIn, CaseOut, EventOut, MaterialRefIn, SubmitIn
from tongban.web.api.security import READ, WRITE

router = Router(tags=["办件"])

MAX_REFS = 50


def local(dt):
    return timezone.localtime(dt) if dt else None


def unmasked_for(case: Case, user) -> bool:
    """The applicant (and whoever filed for them) see their own data in full."""
    return user.pk in (case.applicant_id, case.created_by_id)


def masked_data(spec: MatterSpec, data: dict) -> dict:
    """The case data with every personal value replaced by its masked form."""
    out = dict(data)
    for f in spec.fields:
        value = data.get(f.key)
        if f.type == "table" and isinstance(value, list):
            personal = [sub for sub in f.fields if sub.is_personal]
            out[f.key] = [
                {
                    **row,
                    **{
                        sub.key: privacy.mask(sub, row[sub.key])
                        for sub in personal
                        if row.get(sub.key) not in (None, "")
                    },
                }
                if isinstance(row, dict)
                else row
                for row in value
            ]
        elif f.is_personal and value not in (None, ""):
            out[f.key] = privacy.mask(f, value)
    return out


def _actions(case: Case, spec: MatterSpec, user) -> list[dict]:
    out = []
    for name in cases.allowed_actions(case, user):
        a = spec.workflow.actions[name]
        out.append(
            {
                "name": name,
                "label": a.label,
                "kind": a.kind,
                "comment": a.comment,
                "targets": [
                    {"key": s, "label": spec.state(s).label}
                    for s in (a.back_to or ())
                    if s in case.visited and s != case.state
                ],
                "inputs": [field_out(f) for f in a.inputs],
                "edits": list(a.edits),
                "max_extension": duration_label(a.max_extension),
            }
        )
    return out


def case_out(case: Case, user) -> dict:
    spec = catalog.spec_of(case.matter)
    full = unmasked_for(case, user)
    now = timezone.now()
    return {
        "id": case.pk,
        "matter": spec.code,
        "matter_name": spec.name,
        "matter_version": case.matter.version,
        "org": {"code": case.org.code, "name": case.org.name},
        "state": case.state,
        "state_label": spec.state(case.state).label,
        "version": case.version,
        "is_open": case.is_open,
        "outcome": case.outcome or None,
        "overdue": bool(case.is_open and (case.overdue or (case.deadline and case.deadline < now))),
        "submitted_at": local(case.submitted_at),
        "deadline": local(case.deadline),
        "due_at": local(case.due_at),
        "closed_at": local(case.closed_at),
        "masked": not full,
        "data": case.data if full else masked_data(spec, case.data),
        "rows": privacy.rows(spec, case.data, reveal_all=full),
        "materials": case.materials,
        "allowed_actions": _actions(case, spec, user),
        "certificates": [
            {
                "number": c.number,
                "name": c.name,
                "holder": c.holder,
                # Beijing dates as before; the instants too, since a validity may have times
                "valid_from": local(c.valid_from).date() if c.valid_from else None,
                "valid_to": local(c.valid_to).date() if c.valid_to else None,
                "valid_from_at": local(c.valid_from),
                "valid_to_at": local(c.valid_to),
                "issued_at": local(c.issued_at),
                "revoked": c.revoked_at is not None,
            }
            for c in case.certificates.order_by("issued_at", "pk")
        ],
    }


def resolve_refs(materials: dict[str, list[MaterialRefIn]] | None) -> dict | None:
    """Material references checked against the upload table: size and type come from our
    own record, never from the request."""
    if not materials:
        return None
    wanted = {r.sha256 for refs in materials.values() for r in refs}
    if sum(len(refs) for refs in materials.values()) > MAX_REFS:
        raise Invalid(f"材料文件太多（最多 {MAX_REFS} 个）", {"materials": "文件太多"})
    known = {u.sha256: u for u in Upload.objects.filter(sha256__in=wanted)}
    out: dict[str, list[dict]] = {}
    errors: dict[str, str] = {}
    for key, refs in materials.items():
        resolved = []
        for ref in refs:
            row = known.get(ref.sha256)
            if row is None:
                errors[key] = f"文件 {ref.sha256[:12]}… 不存在，请先通过 POST /api/uploads 上传"
                break
            name = safe_name(ref.name or row.sha256[:12])
            resolved.append(
                {"sha256": row.sha256, "name": name, "size": row.size, "type": row.file_type}
            )
        out[key] = resolved
    if errors:
        raise Invalid("材料有误，请按提示修改", errors)
    return out


ERRORS_READ = documented(400, 401, 404, 503)
ERRORS_WRITE = documented(400, 401, 403, 404, 409, 413, 503)


@router.post(
    "/cases",
    response={201: CaseOut, 200: CaseOut, **ERRORS_WRITE},
    auth=WRITE,
    summary="提交申请",
    description=(
        "提交一件申请。数据有误时返回 400，fields 逐项说明（不会创建办件）。"
        "带 idempotency_key 重试时，返回第一次创建的办件，状态码 200（而不是 201）；"
        "同一个键用于另一个事项则返回 409。"
    ),
    openapi_extra={
        "responses": {
            201: {"description": "已创建办件"},
            200: {"description": "幂等重放：返回这个幂等键第一次创建的办件"},
            **{s: {"description": d} for s, d in DESCRIPTIONS.items()},
        }
    },
)
def submit_case(request, payload: SubmitIn):
    user = request.auth
    refs = resolve_refs(payload.materials)
    now = timezone.now()
    case = cases.submit(
        payload.matter,
        user,
        payload.data,
        idempotency_key=payload.idempotency_key,
        org_code=payload.org,
        materials=refs,
        now=now,
    )
    created = case.submitted_at == now
    case = cases.get_case(case.pk, user)
    return Status(201 if created else 200, case_out(case, user))


@router.get(
    "/cases/{case_id}",
    response={200: CaseOut, **ERRORS_READ},
    auth=READ,
    summary="办件详情",
    description=(
        "申请人（或代办人）看到完整数据；辖区内的工作人员看到打码后的个人信息"
        "（masked 为 true）。不在查看范围内的办件返回 404。"
    ),
)
def get_case(request, case_id: int):
    case = cases.get_case(case_id, request.auth)
    return case_out(case, request.auth)


@router.post(
    "/cases/{case_id}/actions/{action}",
    response={200: CaseOut, **ERRORS_WRITE},
    auth=WRITE,
    summary="办理",
    description=(
        "对办件执行一个动作（受理、审核通过、会签、批准、退回、转交、延期、补正……）。"
        "角色不符返回 403；当前环节不能执行返回 409；expected_version 过期返回 409"
        "（code 为 stale）；不在查看范围内返回 404。返回办理后的办件。"
    ),
    openapi_extra={"responses": {s: {"description": d} for s, d in DESCRIPTIONS.items()}},
)
def act_on_case(request, case_id: int, action: str, payload: ActIn | None = None):
    payload = payload or ActIn()
    user = request.auth
    req = cases.ActRequest(
        action=action,
        comment=payload.comment,
        data=payload.data,
        target=payload.target,
        assignee_id=payload.assignee,
        extension=payload.extension.model_dump(exclude_none=True) if payload.extension else None,
        expected_version=payload.expected_version,
        materials=resolve_refs(payload.materials),
    )
    case = cases.act(case_id, user, req)
    return case_out(cases.get_case(case.pk, user), user)


def _details(kind: str, payload: dict) -> dict:
    """What an event changed, without the personal data its payload may carry."""
    target = payload.get("target")
    deadline = payload.get("new_deadline")
    return {
        "certificate_number": payload.get("number"),
        "extension": payload.get("extension"),
        "new_deadline": str(deadline) if deadline else None,
        "progress": payload.get("progress"),
        "role": payload.get("role"),
        "target": target,
        "assignee": payload.get("assignee"),
        "edited_fields": sorted(payload.get("edits") or {}),
        "replaced_materials": [] if kind == "submitted" else sorted(payload.get("materials") or {}),
    }


@router.get(
    "/cases/{case_id}/events",
    response={200: list[EventOut], **ERRORS_READ},
    auth=READ,
    summary="办理记录",
    description="办件的全部记录（时间线），按顺序。记录中的个人信息不在此返回。",
)
def case_events(request, case_id: int):
    case = cases.get_case(case_id, request.auth)
    rows = {e.seq: e for e in case.events.order_by("seq")}
    out = []
    for view in timeline.events(case):
        row = rows[view["seq"]]
        out.append(
            {
                "seq": row.seq,
                "at": local(row.at),
                "kind": row.kind,
                "action": row.action,
                "title": view["title"],
                "from_state": row.from_state,
                "from_label": view["from"],
                "to_state": row.to_state,
                "to_label": view["to"],
                "actor": view["actor"],
                "comment": view["comment"],
                "details": _details(row.kind, view["payload"] or {}),
            }
        )
    return out
