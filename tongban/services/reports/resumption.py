"""复工复产 figures: filings, receipts and the resumption rate per street and community.

What is counted (口径):
- 企业复工备案 (`resumption_filing`): a filing is a case; a *receipt* is a case that reached
  `reporting` (the 复工回执 is issued on entering it) or completed after it; an enterprise has
  *reopened* when one of its filings has a receipt (counted per applicant account, once).
- 个体工商户复业登记 (`shop_reopening`): a shop has *reopened* when one of its registrations
  is completed (once per applicant account).
- Two rates are given, side by side, because they answer different questions:
  * 复工复业率（按名录在册户数）: reopened ÷ the enterprises and individual businesses the
    enterprise registry (台账「企业和个体工商户」) holds in the area, each part separately and
    together: the share of *all* businesses that reopened, the figure the reports quote
    ("28 家企业、80 户个体工商户复工复业，复工复业率 67.5 %"). Registered counts come from a
    `Denominators` source (`ENTERPRISE_REGISTRY` by default). Where the registry holds no
    record in an area there is no such rate (`None`), never a guess; where an area's
    reopened businesses lie partly in areas without records, `registry_gap` says the rate
    is too high.
  * 复工复业率（按提交备案的户数）: reopened ÷ the distinct applicants that filed either
    matter in the area: how many of those who asked have reopened. It is higher than the
    share of all businesses and must not be quoted as the area's resumption rate.

Scope: the org subtrees where the user is `supervisor`, `head` or `resumption_reviewer`,
optionally narrowed to one org inside them; a period (optional) limits the filings to those
submitted in it. Everything is counted by the database: one grouped query per level of the
tree shown, and one for the denominators of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import Count, Q, QuerySet

from tongban.services import stats
from tongban.store.choices import LEVELS
from tongban.store.models import Case, Enterprise, Org

ENTERPRISE = "resumption_filing"
SHOP = "shop_reopening"
MATTERS = (ENTERPRISE, SHOP)
VIEWING_ROLES = ("supervisor", "head", "resumption_reviewer")
NO_SCOPE = "只有督办员、单位负责人或复工审核员可以查看复工复产统计"

RECEIPT = Q(matter_code=ENTERPRISE) & (Q(state="reporting") | Q(outcome="completed"))
SHOP_DONE = Q(matter_code=SHOP, outcome="completed")

FIGURES = {
    "ent_filings": Count("pk", filter=Q(matter_code=ENTERPRISE)),
    "receipts": Count("pk", filter=RECEIPT),
    "ent_reopened": Count("applicant", distinct=True, filter=RECEIPT),
    "shop_filings": Count("pk", filter=Q(matter_code=SHOP)),
    "shop_reopened": Count("applicant", distinct=True, filter=SHOP_DONE),
    "ent_applicants": Count("applicant", distinct=True, filter=Q(matter_code=ENTERPRISE)),
    "shop_applicants": Count("applicant", distinct=True, filter=Q(matter_code=SHOP)),
}
ZERO = dict.fromkeys(FIGURES, 0)


# -- denominators -------------------------------------------------------------------------

Key = tuple[str, ...]  # an area: its codes from the district down (j_district, j_street, …)


class Denominators(Protocol):
    """Where the number of registered enterprises and shops of an area comes from."""

    basis: str

    def counts(self, scope: stats.Scope, columns: tuple[str, ...]) -> dict[Key, tuple[int, int]]:
        """{area key (the values of `columns`; () for the whole scope):
        (registered enterprises, registered individual businesses)}, for the areas of the
        scope where the source has records (an area without any is left out)."""
        ...


# 主体类型 of the registry (tongban.registry.kinds.ENTERPRISE_TYPES) counted on each side;
# 社会组织 and 其他 are not businesses and are not counted.
ENTERPRISE_CATEGORIES = ("企业", "农民专业合作社")
SHOP_CATEGORIES = ("个体工商户",)


class EnterpriseRegistry:
    """The registered businesses of the enterprise registry, per area of their record."""

    basis = (
        "企业名录（台账“企业和个体工商户”）中当前在册的企业（含农民专业合作社）和个体工商户户数，"
        "按名录记录的所属社区、网格归入辖区；社会组织和其他类型不计。"
        "在册户数为当前数，不随所选备案日期变化。"
    )

    def counts(self, scope: stats.Scope, columns: tuple[str, ...]) -> dict[Key, tuple[int, int]]:
        agg = {
            "ent": Count("pk", filter=Q(category__in=ENTERPRISE_CATEGORIES)),
            "shop": Count("pk", filter=Q(category__in=SHOP_CATEGORIES)),
        }
        records = Enterprise.objects.filter(
            scope.q(), category__in=ENTERPRISE_CATEGORIES + SHOP_CATEGORIES
        )
        return {
            key: (r["ent"], r["shop"])
            for key, r in grouped(records, columns, agg).items()
            if r["ent"] or r["shop"]
        }


ENTERPRISE_REGISTRY = EnterpriseRegistry()

FILED_BASIS = (
    "辖区内提交过复工复产备案（企业）或复业登记（个体工商户）的申请人户数，"
    "同一申请人多次提交只计一次。它只说明提出申请的户中有多少已复工复业，"
    "一般高于占全部在册户数的比例，不能当作辖区复工复业率引用。"
)


def grouped(rows: QuerySet, columns: tuple[str, ...], agg: dict) -> dict[Key, dict]:
    """The aggregates of cases or registry records per area key (one row, key (), when
    `columns` is empty)."""
    if not columns:
        return {(): rows.aggregate(**agg)}
    rows = rows.values(*columns).annotate(**agg).order_by()
    return {tuple(r[c] for c in columns): r for r in rows}


# -- scope --------------------------------------------------------------------------------


def scope_for(user, org_code: str | None = None) -> stats.Scope:
    """Like stats.scope_for, with the street's 复工审核员 among the roles that may look:
    Forbidden without one of VIEWING_ROLES, NotFound for an org outside the scope."""
    return stats.scope_for(user, org_code, roles=VIEWING_ROLES, refusal=NO_SCOPE)


# -- figures ------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Row:
    """One area's figures. `children` are the communities of a street row.

    `*_registered` come from the registry (`in_registry`: it has records in the area);
    `*_applicants` are the distinct applicants that filed (see the module docstring)."""

    code: str
    name: str
    level: str
    ent_filings: int = 0
    receipts: int = 0
    ent_reopened: int = 0
    shop_filings: int = 0
    shop_reopened: int = 0
    ent_applicants: int = 0
    shop_applicants: int = 0
    ent_registered: int = 0
    shop_registered: int = 0
    in_registry: bool = False
    registry_gap: bool = False  # reopened businesses inside lie where the registry has none
    children: list[Row] = field(default_factory=list)

    @property
    def reopened(self) -> int:
        return self.ent_reopened + self.shop_reopened

    # -- over the registered businesses (None where the registry has no records) --

    @property
    def registered(self) -> int:
        return self.ent_registered + self.shop_registered

    @property
    def rate(self) -> float | None:
        return _ratio(self.reopened, self.registered) if self.in_registry else None

    @property
    def ent_rate(self) -> float | None:
        return _ratio(self.ent_reopened, self.ent_registered) if self.in_registry else None

    @property
    def shop_rate(self) -> float | None:
        return _ratio(self.shop_reopened, self.shop_registered) if self.in_registry else None

    @property
    def over_registry(self) -> bool:
        """More reopened than registered on a side: the registry misses some businesses."""
        return self.in_registry and (
            self.ent_reopened > self.ent_registered or self.shop_reopened > self.shop_registered
        )

    # -- over the applicants that filed --

    @property
    def applicants(self) -> int:
        return self.ent_applicants + self.shop_applicants

    @property
    def filed_rate(self) -> float | None:
        return _ratio(self.reopened, self.applicants)

    @property
    def ent_filed_rate(self) -> float | None:
        return _ratio(self.ent_reopened, self.ent_applicants)

    @property
    def shop_filed_rate(self) -> float | None:
        return _ratio(self.shop_reopened, self.shop_applicants)


@dataclass
class Rates:
    scope: stats.Scope
    period: stats.Period | None
    basis: str  # how the registered counts are found
    total: Row
    streets: list[Row]  # a street (or a lone community) per row, its communities inside
    filed_basis: str = FILED_BASIS

    def chart_rows(self) -> list[Row]:
        """The finest rows shown: a street's communities, or the streets when several."""
        if len(self.streets) == 1 and self.streets[0].children:
            return self.streets[0].children
        return self.streets

    def chart_data(self) -> dict:
        rows = self.chart_rows()

        def pct(value: float | None) -> float | None:
            return None if value is None else round(value * 100, 1)

        return {
            "names": [r.name for r in rows],
            "enterprises": [r.ent_reopened for r in rows],
            "shops": [r.shop_reopened for r in rows],
            "waiting": [max(0, r.registered - r.reopened) if r.in_registry else 0 for r in rows],
            "rate": [pct(r.rate) for r in rows],
            "filed_rate": [pct(r.filed_rate) for r in rows],
        }


def _key(org: Org) -> Key:
    return tuple(org.path.split("/"))


def _columns(depth: int) -> tuple[str, ...]:
    return tuple(f"j_{level}" for level in LEVELS[:depth])


class _Figures:
    """The scope's cases counted per area at one depth of the tree, on first use."""

    def __init__(self, cases: QuerySet[Case], scope: stats.Scope, denominators: Denominators):
        self.cases = cases
        self.scope = scope
        self.denominators = denominators
        self._at: dict[int, tuple[dict, dict]] = {}

    def at(self, depth: int) -> tuple[dict[Key, dict], dict[Key, tuple[int, int]]]:
        if depth not in self._at:
            columns = _columns(depth)
            self._at[depth] = (
                grouped(self.cases, columns, FIGURES),
                self.denominators.counts(self.scope, columns),
            )
        return self._at[depth]

    def keys(self, depth: int) -> set[Key]:
        counted, registered = self.at(depth)
        return set(counted) | set(registered)

    def row(self, key: Key, name: str, level: str) -> Row:
        counted, registered = self.at(len(key))
        figures = counted.get(key) or ZERO
        ent, shop = registered.get(key, (0, 0))
        return Row(
            key[-1] if key else "",
            name,
            level,
            **{k: figures[k] for k in FIGURES},
            ent_registered=ent,
            shop_registered=shop,
            in_registry=key in registered,
        )


def _children(figures: _Figures, parent: Org, orgs: list[Org]) -> list[Row]:
    """One row per child org of `parent` (zeros included); cases filed at `parent` itself
    get a 「本级」 row first, and those of an org moved or deleted since keep a row."""
    prefix = _key(parent)
    rows = [figures.row(_key(o), o.name, o.level) for o in orgs]
    known = {_key(o) for o in orgs}
    for key in sorted(figures.keys(len(prefix) + 1) - known):
        if key[:-1] != prefix:
            continue
        if key[-1] == "":
            own = figures.row(key, f"{parent.name}（本级）", parent.level)
            own.code = parent.code
            rows.insert(0, own)
        else:
            rows.append(figures.row(key, key[-1], ""))
    return rows


def _under(parents: list[Org]) -> dict[int, list[Org]]:
    """The child orgs of each parent, in tree order (one query)."""
    out: dict[int, list[Org]] = {p.pk: [] for p in parents}
    for o in Org.objects.filter(parent__in=parents).order_by("path"):
        out[o.parent_id].append(o)
    return out


def _streets(figures: _Figures, org: Org) -> list[Row]:
    """The street rows for one org of the scope: a district's streets, the street itself
    (its communities inside), or a community or grid as a lone row."""
    if org.level == "district":
        streets = _under([org])[org.pk]
        communities = _under(streets)
        rows = _children(figures, org, streets)
        by_code = {s.code: s for s in streets}
        for row in rows:
            street = by_code.get(row.code) if row.level == "street" else None
            if street is not None:
                row.children = _children(figures, street, communities[street.pk])
        return rows
    row = figures.row(_key(org), org.name, org.level)
    if org.level == "street":
        row.children = _children(figures, org, _under([org])[org.pk])
    return [row]


def _mark_gaps(row: Row, children: list[Row]) -> None:
    """Flag the rows whose reopened businesses lie partly in areas without registry records:
    their registry rate counts those businesses above the line but not below it."""
    for child in children:
        _mark_gaps(child, child.children)
    row.registry_gap = any((c.reopened and not c.in_registry) or c.registry_gap for c in children)


def resumption_rates(
    user,
    org_code: str | None = None,
    *,
    period: stats.Period | None = None,
    denominators: Denominators = ENTERPRISE_REGISTRY,
) -> Rates:
    """Filings, receipts, reopened enterprises and shops, and both rates, per street and per
    community of the user's scope (see the module docstring for what is counted)."""
    scope = scope_for(user, org_code)
    cases = Case.objects.filter(scope.q(), matter_code__in=MATTERS)
    if period is not None:
        cases = cases.filter(submitted_at__gte=period.start_at, submitted_at__lt=period.end_at)
    figures = _Figures(cases, scope, denominators)
    streets = [row for org in scope.focus for row in _streets(figures, org)]
    total = figures.row((), scope.label, "")
    _mark_gaps(total, streets)
    return Rates(scope, period, denominators.basis, total, streets)
