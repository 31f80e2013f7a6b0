"""食品安全监督抽检公示 (`food_sampling`): the publication list of a period and its counts.

口径: a sample is *published* when its case reached the final state `published` (审核通过并
公示 / 确认不合格并公示); it belongs to the period containing the day it was published
(Asia/Shanghai). Its verdict is the computed `verdict` (合格 / 不合格, from the indicator
limits, never typed) and the failing indicators are `verdict_failed`. Voided samples and
samples still under review are not published and not counted.

The list is public (抽检结果依法公示): it holds what the announcement holds — sample number,
food, category, sampled unit, producer, batch, verdict, failing indicators — and nothing
about the people who sampled or reviewed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from tongban.services import stats
from tongban.store.models import Case

MATTER = "food_sampling"
PUBLISHED = "published"
PASS, FAIL = "合格", "不合格"
MAX_ROWS = 10_000  # a district publishes a few hundred batches a period
TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Row:
    sample_no: str
    food_name: str
    food_category: str
    sampled_unit: str
    producer_name: str
    batch_no: str
    sample_date: str
    published_on: str
    verdict: str
    failed: tuple[str, ...] = ()  # e.g. 过氧化值(以脂肪计)：0.55 g/100g（标准 ≤0.25 g/100g）
    case_id: int = 0


@dataclass(frozen=True)
class Publication:
    period: stats.Period
    rows: tuple[Row, ...]
    by_category: tuple[dict, ...] = field(default_factory=tuple)
    truncated: bool = False

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.rows if r.verdict == PASS)

    @property
    def failed(self) -> int:
        return self.total - self.passed

    @property
    def pass_rate(self) -> float | None:
        return round(self.passed / self.total, 4) if self.total else None


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def failing_details(data: dict) -> tuple[str, ...]:
    """Each failing indicator with what was found and the limit, in the results' order."""
    names = list(data.get("verdict_failed") or [])
    out = []
    for i, row in enumerate(data.get("results") or [], 1):
        name = row.get("indicator") or f"第{i}项"
        if name not in names:
            continue
        names.remove(name)
        unit = row.get("result_unit") or ""
        sep = " " if unit else ""
        found = f"{_num(row.get('result_value', '—'))}{sep}{unit}"
        limit = f"{row.get('compare_op', '')}{_num(row.get('limit_value', '—'))}{sep}{unit}"
        out.append(f"{name}：{found}（标准 {limit}）")
    return (*out, *names)  # names without a matching row (should not happen) stay visible


def publication(
    start: str | date | None = None, end: str | date | None = None, *, on: date | None = None
) -> Publication:
    """The samples published in the period (default: the last 30 days up to `on`/today)."""
    p = stats.period(start, end, on=on)
    cases = (
        Case.objects.filter(
            matter_code=MATTER,
            state=PUBLISHED,
            closed_at__gte=p.start_at,
            closed_at__lt=p.end_at,
        )
        .order_by("closed_at", "pk")
        .only("pk", "data", "closed_at")
    )
    rows = []
    for case in cases[: MAX_ROWS + 1]:
        d = case.data
        verdict = d.get("verdict") or FAIL
        rows.append(
            Row(
                sample_no=str(d.get("sample_no", "")),
                food_name=str(d.get("food_name", "")),
                food_category=str(d.get("food_category", "")),
                sampled_unit=str(d.get("sampled_unit", "")),
                producer_name=str(d.get("producer_name") or ""),
                batch_no=str(d.get("batch_no", "")),
                sample_date=str(d.get("sample_date", "")),
                published_on=case.closed_at.astimezone(TZ).date().isoformat(),
                verdict=verdict,
                failed=failing_details(d) if verdict != PASS else (),
                case_id=case.pk,
            )
        )
    truncated = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    totals, fails = Counter(r.food_category for r in rows), Counter()
    fails.update(r.food_category for r in rows if r.verdict != PASS)
    by_category = tuple(
        {"category": c, "total": n, "passed": n - fails[c], "failed": fails[c]}
        for c, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return Publication(p, tuple(rows), by_category, truncated)
