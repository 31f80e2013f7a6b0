"""Dispatch demand sets: who may plan where, the sites and volunteers of a set, and the
demand lines (entered one by one or from a file).

Jurisdiction: a demand set belongs to an org; its sites are the places registered in
that org's subtree, its volunteers the volunteer profiles registered there. A user may
create, see and plan a set only when the set's org lies within an org where they hold a
role (a street's coordinator plans for the street and its communities, never another's).
Without a user (the operator's command line) every org is in scope.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.db.models import Q, QuerySet

from tongban.dispatch.demandfile import DemandFileError, FileProblem, read_demand_file
from tongban.dispatch.shifts import ShiftError, normalise_shift
from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.services.registry import scope_of
from tongban.store.models import DemandLine, DemandSet, Membership, Org, Place, Volunteer

PLAN_LEVELS = ("district", "street", "community")
ANYONE = "不限"  # the role anyone may fill, whatever their skills


class DemandInvalid(Invalid):
    """Bad demand input; ``problems`` holds one Chinese line per problem (row, column)."""

    def __init__(self, problems: list[str]):
        super().__init__("需求有误，未做任何修改：" + "；".join(problems[:20]))
        self.problems = problems


def _in_org(org: Org) -> Q:
    return Q(**{f"j_{org.level}": org.code})


def covers(user, org: Org) -> bool:
    """May ``user`` plan for ``org``? (``None``: the operator, everywhere.)"""
    if user is None:
        return True
    return scope_of(user).covers(org.jurisdiction())


def planning_orgs(user) -> list[Org]:
    """The orgs (district, street, community) a user may plan for, in tree order."""
    qs = Org.objects.filter(level__in=PLAN_LEVELS).order_by("path")
    if user is None:
        return list(qs)
    paths = set(Membership.objects.filter(user_id=user.pk).values_list("org__path", flat=True))
    if not paths:
        raise Forbidden("只有工作人员可以使用志愿者调度")
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path=path) | Q(path__startswith=path + "/")
    return list(qs.filter(q))


def org_by_code(code: str, user) -> Org:
    org = Org.objects.filter(code=code).first()
    if org is None:
        raise NotFound(f"组织单位 {code} 不存在")
    if not covers(user, org):
        raise Forbidden(f"{org.name} 不在您的辖区内")
    return org


def demand_sets(user) -> QuerySet:
    if user is None:
        return DemandSet.objects.all()
    return DemandSet.objects.visible_to(user)


def get_set(pk: int, user, *, lock: bool = False) -> DemandSet:
    qs = demand_sets(user).select_related("org")
    if lock:
        qs = qs.select_for_update(of=("self",))
    ds = qs.filter(pk=pk).first()
    if ds is None:
        raise NotFound("没有这个排班需求，或不在您的辖区内")
    return ds


def sites(ds: DemandSet) -> QuerySet:
    """The places of the set's org subtree."""
    return Place.objects.filter(_in_org(ds.org))


def volunteers(ds: DemandSet) -> QuerySet:
    """The volunteer profiles of the set's org subtree."""
    return Volunteer.objects.filter(_in_org(ds.org))


def _rules(max_km, max_shifts) -> tuple[float, int]:
    try:
        km, n = float(max_km), int(max_shifts)
    except (TypeError, ValueError):
        raise Invalid("最远出行距离应为数字，每人最多班次应为整数") from None
    if not 0 < km <= 100:
        raise Invalid("最远出行距离应在 0 到 100 公里之间")
    if not 1 <= n <= 50:
        raise Invalid("每人最多班次应在 1 到 50 之间")
    return km, n


def create_set(user, org_code: str, title: str, max_km=5.0, max_shifts=1) -> DemandSet:
    org = org_by_code(org_code, user)
    if org.level not in PLAN_LEVELS:
        raise Invalid("排班需求应建在区、街道或社区一级")
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise Invalid("请填写名称（100 字以内）")
    km, n = _rules(max_km, max_shifts)
    with transaction.atomic():
        ds = DemandSet(org=org, title=title, max_km=km, max_shifts=n, created_by=user)
        ds.save()
    return ds


def update_rules(pk: int, user, max_km, max_shifts) -> DemandSet:
    km, n = _rules(max_km, max_shifts)
    with transaction.atomic():
        ds = get_set(pk, user, lock=True)
        ds.max_km, ds.max_shifts = km, n
        ds.save(update_fields=["max_km", "max_shifts"])
    return ds


def _check_line(place: Place | None, shift: str, role: str, count) -> tuple[str, str, int]:
    if place is None:
        raise Invalid("请选择本辖区内的站点")
    if place.lat is None or place.lng is None:
        raise Invalid(f"站点“{place.name}”未登记坐标，无法计算距离，请先在场所台账中补充")
    try:
        shift = normalise_shift(shift)
    except ShiftError as exc:
        raise Invalid(str(exc)) from None
    role = (role or "").strip()
    if not role or len(role) > 40:
        raise Invalid("请填写岗位（40 字以内）")
    try:
        count = int(count)
    except (TypeError, ValueError):
        raise Invalid("人数应为正整数") from None
    if not 1 <= count <= 10_000:
        raise Invalid("人数应在 1 到 10000 之间")
    return shift, role, count


def add_line(pk: int, user, place_id, shift: str, role: str, count) -> DemandLine:
    """Add a demand line, or set the count of the same site × shift × role."""
    with transaction.atomic():
        ds = get_set(pk, user, lock=True)
        place = sites(ds).filter(pk=place_id).first() if str(place_id).isdigit() else None
        shift, role, count = _check_line(place, shift, role, count)
        line, _ = DemandLine.objects.update_or_create(
            demand_set=ds, place=place, shift=shift, role=role, defaults={"count": count}
        )
    return line


def delete_line(pk: int, user, line_id: int) -> None:
    with transaction.atomic():
        ds = get_set(pk, user, lock=True)
        DemandLine.objects.filter(demand_set=ds, pk=line_id).delete()


def lines(ds: DemandSet) -> QuerySet:
    return ds.lines.select_related("place").order_by("shift", "place__name", "role")


def import_file(pk: int, user, path: str | Path, name: str | None = None) -> int:
    """Replace the set's demand with the rows of a file (xlsx or csv). Every row is checked
    first; any problem → DemandInvalid listing them all (row, column), nothing written."""
    try:
        rows = read_demand_file(path, name)
    except DemandFileError as exc:
        raise DemandInvalid([p.text for p in exc.problems]) from None
    with transaction.atomic():
        ds = get_set(pk, user, lock=True)
        by_name: dict[str, list[Place]] = {}
        for place in sites(ds).only("pk", "name", "place_type", "lat", "lng"):
            by_name.setdefault(place.name, []).append(place)
        problems: list[FileProblem] = []
        found: dict[tuple, tuple[int, DemandLine]] = {}
        for r in rows:
            cands = [
                p
                for p in by_name.get(r.place, [])
                if not r.place_type or p.place_type == r.place_type
            ]
            if not cands:
                problems.append(FileProblem(r.row, "站点", "", f"本辖区场所台账中没有“{r.place}”"))
                continue
            if len(cands) > 1:
                types = "、".join(sorted(p.place_type for p in cands))
                problems.append(
                    FileProblem(r.row, "站点", "", f"有多个“{r.place}”（{types}），请填写站点类型")
                )
                continue
            place = cands[0]
            if place.lat is None or place.lng is None:
                problems.append(FileProblem(r.row, "站点", "", f"“{r.place}”未登记坐标"))
                continue
            key = (place.pk, r.shift, r.role)
            if key in found:
                problems.append(FileProblem(r.row, "", "", f"与第 {found[key][0]} 行重复"))
                continue
            found[key] = (
                r.row,
                DemandLine(demand_set=ds, place=place, shift=r.shift, role=r.role, count=r.count),
            )
        if problems:
            raise DemandInvalid([p.text for p in problems])
        ds.lines.all().delete()
        DemandLine.objects.bulk_create([line for _, line in found.values()])
    return len(found)
