"""Template filters for catalog values."""

from django import template

from tongban.engine.calendar import Duration
from tongban.engine.schema import LEVEL_LABELS

register = template.Library()


@register.filter
def duration(spec) -> str:
    """A DurationSpec as 「1个工作日」."""
    if spec is None:
        return ""
    return Duration(spec.amount, spec.unit).label_zh()


@register.filter
def level(code: str) -> str:
    return LEVEL_LABELS.get(code, code)


@register.filter
def applicant_kind(code: str) -> str:
    return {"person": "个人", "enterprise": "企业"}.get(code, "个人或企业")


@register.filter
def role(code: str) -> str:
    from tongban.services.catalog import role_labels

    return role_labels().get(code, code)
