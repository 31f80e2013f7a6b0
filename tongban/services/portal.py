"""Residents' side: drafts, ratings (好差评) and the rectification a bad rating opens."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from tongban.engine.workflow import SYSTEM_ACTOR
from tongban.services import catalog
from tongban.services.errors import Conflict, Invalid, NotFound
from tongban.store.models import Case, Draft, Rating

RATING_LABELS = dict(Rating.LEVELS)
RECTIFY_BELOW = 3  # 不满意 and 非常不满意 open a rectification case
RECTIFICATION = "rectification"


def save_draft(user, matter_code: str, data: dict, materials: dict) -> Draft:
    catalog.current_version(matter_code)  # NotFound for an unknown matter
    draft, _ = Draft.objects.update_or_create(
        user=user, matter_code=matter_code, defaults={"data": data, "materials": materials}
    )
    return draft


def get_draft(user, matter_code: str) -> Draft | None:
    return Draft.objects.filter(user=user, matter_code=matter_code).first()


def drop_draft(user, matter_code: str) -> None:
    Draft.objects.filter(user=user, matter_code=matter_code).delete()


def rate(case_id: int, user, level: int, comment: str = "") -> Rating:
    """Rate a finished case once. A low rating opens a rectification case (整改) for the
    unit that handled it, with 15 working days, visible to its supervisor."""
    from tongban.services.cases import create_case

    # Whose case it is comes first: an outsider learns nothing from the validation.
    if not Case.objects.filter(pk=case_id, applicant_id=user.pk).exists():
        raise NotFound("办件不存在，或不是您的办件")
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = 0
    if level not in RATING_LABELS:
        raise Invalid("请选择评价等级", {"level": "1 到 5"})
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise Invalid("意见最多 1000 字", {"comment": "太长"})
    with transaction.atomic():
        case = Case.objects.select_related("org", "matter").filter(pk=case_id).first()
        if case is None or case.applicant_id != user.pk:
            raise NotFound("办件不存在，或不是您的办件")
        if case.is_open or case.outcome == "withdrawn":
            raise Conflict("办件办结后才能评价")
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    case=case, level=level, comment=comment, rated_by=user
                )
        except IntegrityError:
            raise Conflict("每个办件只能评价一次") from None
        if level < RECTIFY_BELOW:
            version = catalog.current_version(RECTIFICATION)
            data = {
                "source_case": case.pk,
                "source_matter": case.matter.name,
                "rating_level": RATING_LABELS[level],
                "rating_comment": comment,
            }
            rectification = create_case(
                version,
                catalog.spec_of(version),
                SYSTEM_ACTOR,
                data,
                case.org,
                rating.created_at,
                applicant_id=user.pk,
                parent=case,
            )
            rating.rectification = rectification
            rating.save(update_fields=["rectification"])
    return rating
