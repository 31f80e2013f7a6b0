"""残疾人居家就业 (`home_work_order`): income per person per month.

口径:
- An order earns when its 报酬 is recorded (action `pay`, the case is then `paid`); it counts
  in the month of the 发放日期 typed with that payment (`paid_date`), not the day it was
  recorded.
- 应得收入 = 合格数量 × 计件单价: the accepted quantity of the last 质检完成 (`pass_check`)
  before the payment, the piece rate as the order was confirmed. The catalog cannot multiply
  yet (see docs/packs/community_services.md), so the product is taken here, in yuan to the
  fen (ROUND_HALF_UP). 实发金额 is what was recorded as paid; a difference is flagged.
- A person is the applicant account (the worker); the name shown is the one on their latest
  order.

Scope: the org subtrees where the user is 残联专干 (`disability_worker`), `head` or
`supervisor`, optionally narrowed to one org inside them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from tongban.services import stats
from tongban.services.errors import Invalid
from tongban.store.models import Case, Event, Membership

MATTER = "home_work_order"
VIEWING_ROLES = ("disability_worker", "head", "supervisor")
NO_SCOPE = "只有残联专干、单位负责人或督办员可以查看居家就业收入统计"
TZ = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def may_view(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and Membership.objects.filter(user_id=user.pk, role__in=VIEWING_ROLES).exists()
    )


def scope_for(user, org_code: str | None = None) -> stats.Scope:
    """The orgs where the user may see workers' income, narrowed to `org_code` if given."""
    return stats.scope_for(user, org_code, roles=VIEWING_ROLES, refusal=NO_SCOPE)


def month(raw: str | None, *, on: date | None = None) -> date:
    """The first day of `YYYY-MM` (default: this month)."""
    raw = (raw or "").strip()
    if not raw:
        today = on or timezone.now().astimezone(TZ).date()
        return today.replace(day=1)
    m = _MONTH.match(raw)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise Invalid("月份格式不对，应为 年-月（例如 2026-11）", {"month": "格式应为 YYYY-MM"})
    year = int(m.group(1))
    if not stats.MIN_YEAR <= year <= stats.MAX_YEAR:
        raise Invalid("月份超出范围", {"month": f"年份应在 {stats.MIN_YEAR}–{stats.MAX_YEAR} 之间"})
    return date(year, int(m.group(2)), 1)


@dataclass(frozen=True)
class Order:
    case_id: int
    product: str
    accepted: int
    piece_rate: Decimal
    income: Decimal  # accepted × piece rate
    paid: Decimal
    paid_date: str

    @property
    def differs(self) -> bool:
        return self.income != self.paid


@dataclass
class Person:
    applicant_id: int
    name: str
    org_name: str
    org_path: str = ""
    orders: list[Order] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(o.accepted for o in self.orders)

    @property
    def income(self) -> Decimal:
        return sum((o.income for o in self.orders), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((o.paid for o in self.orders), Decimal("0.00"))

    @property
    def differs(self) -> bool:
        return any(o.differs for o in self.orders)


@dataclass(frozen=True)
class IncomeReport:
    scope: stats.Scope
    month: date
    people: tuple[Person, ...]

    @property
    def label(self) -> str:
        return f"{self.month.year}年{self.month.month}月"

    @property
    def income(self) -> Decimal:
        return sum((p.income for p in self.people), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((p.paid for p in self.people), Decimal("0.00"))

    @property
    def orders(self) -> int:
        return sum(len(p.orders) for p in self.people)


def _dec(value) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except (ArithmeticError, ValueError, TypeError):
        return Decimal("0.00")


def _inputs(ev: Event) -> dict:
    return json.loads(ev.body).get("payload", {}).get("inputs", {})


def income(scope: stats.Scope, first_day: date) -> IncomeReport:
    """Income per person for the month starting on `first_day`."""
    prefix = first_day.strftime("%Y-%m-")
    cases = Case.objects.filter(scope.q(), matter_code=MATTER, state="paid")
    events = (
        Event.objects.filter(case__in=cases, action__in=("pass_check", "pay"))
        .select_related("case", "case__org")
        .order_by("case_id", "seq")
    )
    accepted: dict[int, int] = {}
    people: dict[int, Person] = {}
    for ev in events.iterator(chunk_size=500):
        inputs = _inputs(ev)
        if ev.action == "pass_check":
            accepted[ev.case_id] = int(inputs.get("accepted_quantity") or 0)
            continue
        if not str(inputs.get("paid_date", "")).startswith(prefix):
            continue
        case = ev.case
        qty = accepted.get(case.pk, 0)
        rate = _dec(case.data.get("piece_rate"))
        order = Order(
            case_id=case.pk,
            product=str(case.data.get("order_product", "")),
            accepted=qty,
            piece_rate=rate,
            income=(rate * qty).quantize(CENT, ROUND_HALF_UP),
            paid=_dec(inputs.get("paid_amount")),
            paid_date=str(inputs.get("paid_date")),
        )
        person = people.setdefault(
            case.applicant_id,
            Person(case.applicant_id, "", case.org.name, case.org_path),
        )
        person.name = str(case.data.get("worker_name", "")) or person.name  # latest order's
        person.orders.append(order)
    ordered = sorted(people.values(), key=lambda p: (p.org_path, p.name, p.applicant_id))
    for p in ordered:
        p.orders.sort(key=lambda o: (o.paid_date, o.case_id))
    return IncomeReport(scope, first_day, tuple(ordered))


def income_for(user, month_raw: str | None = None, org_code: str | None = None) -> IncomeReport:
    return income(scope_for(user, org_code), month(month_raw))
