"""Staff worklists: the cases waiting for the caller, by tab, soonest deadline first."""

from typing import Literal

from django.utils import timezone
from ninja import Query, Router

from tongban.services import catalog, worklist
from tongban.services.errors import Forbidden
from tongban.web.api.cases import local
from tongban.web.api.errors import documented
from tongban.web.api.schemas import WorklistOut
from tongban.web.api.security import READ

router = Router(tags=["工作台"])

Tab = Literal["todo", "done", "soon", "overdue"]


@router.get(
    "/worklist",
    response={200: WorklistOut, **documented(400, 401, 403, 503)},
    auth=READ,
    summary="待办清单",
    description=(
        "tab：todo 待办、done 已办、soon 即将超期（24 小时内）、overdue 超期。"
        "按 offset / limit 分页，next_offset 为下一页的 offset（没有更多时为 null）。"
        "只有工作人员可以使用（否则 403）。"
    ),
)
def get_worklist(
    request,
    tab: Tab = "todo",
    matter: str | None = Query(None, max_length=64),
    state: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    user = request.auth
    if not worklist.seats(user):
        raise Forbidden("只有工作人员可以使用工作台")
    now = timezone.now()
    qs = worklist.worklist(user, tab, matter=matter or None, state=state or None, now=now)
    page = list(qs[offset : offset + limit + 1])
    items = []
    for case in page[:limit]:
        spec = catalog.spec_of(case.matter)
        items.append(
            {
                "id": case.pk,
                "matter": spec.code,
                "matter_name": spec.name,
                "state": case.state,
                "state_label": spec.state(case.state).label,
                "org": {"code": case.org.code, "name": case.org.name},
                "submitted_at": local(case.submitted_at),
                "deadline": local(case.deadline),
                "due_at": local(case.due_at),
                "overdue": bool(
                    case.is_open and (case.overdue or (case.deadline and case.deadline < now))
                ),
            }
        )
    return {
        "tab": tab,
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(page) > limit else None,
    }
