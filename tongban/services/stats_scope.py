"""Supervision statistics: the period (calendar days in Asia/Shanghai) and the scope
(where the user supervises).

Split from tongban.services.stats (which re-exports every name); see its docstring."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.store.models import Membership, Org

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUPERVISING_ROLES = ("supervisor", "head")
DEFAULT_DAYS = 30
MAX_DAYS = 366
MIN_YEAR, MAX_YEAR = 1949, 2999
ORG_CHOICES_LIMIT = 500
NO_SCOPE = "只有督办员或单位负责人可以查看督办统计"
ORG_OUTSIDE = "该单位不存在，或不在您的督办范围内"


# -- period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Calendar days [start, end] in Asia/Shanghai, both included."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=SHANGHAI)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=SHANGHAI)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


def today() -> date:
    return timezone.now().astimezone(SHANGHAI).date()


def _date(raw: str | None, name: str, label: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise Invalid(
            f"{label}格式不对，应为 年-月-日（例如 2026-03-01）", {name: "日期格式应为 YYYY-MM-DD"}
        ) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise Invalid(f"{label}超出范围", {name: f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间"})
    return value


def period(
    start: str | date | None = None, end: str | date | None = None, *, on: date | None = None
) -> Period:
    """The period from the filter values; default: the last 30 days up to today (`on`)."""
    start = start if isinstance(start, date) else _date(start, "from", "开始日期")
    end = end if isinstance(end, date) else _date(end, "to", "结束日期")
    if end is None:
        end = on or today()
        if start is not None and start > end:
            end = start
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Invalid(
            "开始日期不能晚于结束日期", {"from": "应早于或等于结束日期", "to": "应晚于开始日期"}
        )
    result = Period(start, end)
    if result.days > MAX_DAYS:
        raise Invalid(
            f"统计期间最长 {MAX_DAYS} 天（所选 {result.days} 天），请缩短期间",
            {"from": f"期间不超过 {MAX_DAYS} 天"},
        )
    return result


# -- scope --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where a user supervises (`roots`) and the org chosen inside it (`org`, or None)."""

    user_id: int
    roots: tuple[Org, ...]
    org: Org | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def focus(self) -> tuple[Org, ...]:
        """The orgs the figures are about: the chosen one, or every root."""
        return (self.org,) if self.org is not None else self.roots

    def q(self) -> Q:
        """Cases in the scope: exact matches on the indexed j_<level> columns."""
        q = Q(pk__in=[])
        for org in self.focus:
            q |= Q(**{f"j_{org.level}": org.code})
        return q

    def contains(self, org: Org) -> bool:
        return any(org.path == r.path or org.path.startswith(r.path + "/") for r in self.roots)

    @property
    def label(self) -> str:
        return "、".join(o.name for o in self.focus)


def _minimal(orgs: list[Org]) -> tuple[Org, ...]:
    """Drop orgs that lie inside another one of the list."""
    ordered = sorted({o.pk: o for o in orgs}.values(), key=lambda o: o.path)
    out: list[Org] = []
    for o in ordered:
        if not any(o.path.startswith(r.path + "/") for r in out):
            out.append(o)
    return tuple(out)


def supervises(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and Membership.objects.filter(user_id=user.pk, role__in=SUPERVISING_ROLES).exists()
    )


def scope_for(
    user,
    org_code: str | None = None,
    *,
    roles: tuple[str, ...] = SUPERVISING_ROLES,
    refusal: str = NO_SCOPE,
) -> Scope:
    """The user's supervision scope, narrowed to `org_code` when given: the orgs where they
    hold one of `roles` (a report page may admit more roles than supervision does).

    Forbidden (with `refusal`) for users without one of `roles`; NotFound for an org that
    does not exist or lies outside the scope (the answer does not tell which)."""
    rows = list(Membership.objects.filter(user_id=user.pk, role__in=roles).select_related("org"))
    if not rows:
        raise Forbidden(refusal)
    roots = _minimal([m.org for m in rows])
    roles = frozenset(m.role for m in rows)
    org_code = (org_code or "").strip()
    chosen = None
    if org_code:
        chosen = Org.objects.filter(code=org_code).first()
        if chosen is None or not any(
            chosen.path == r.path or chosen.path.startswith(r.path + "/") for r in roots
        ):
            raise NotFound(ORG_OUTSIDE)
    elif len(roots) == 1:
        chosen = roots[0]
    return Scope(user.pk, roots, chosen, roles)


def org_choices(scope: Scope) -> list[dict]:
    """Orgs a user may filter to (down to the community level), in tree order."""
    q = Q(pk__in=[])
    for r in scope.roots:
        q |= Q(pk=r.pk) | Q(path__startswith=r.path + "/")
    rows = (
        Org.objects.filter(q)
        .exclude(level="grid")
        .order_by("path")
        .values("code", "name", "path", "level")[:ORG_CHOICES_LIMIT]
    )
    top = min((r.path.count("/") for r in scope.roots), default=0)
    return [
        {"code": o["code"], "name": o["name"], "depth": o["path"].count("/") - top} for o in rows
    ]
