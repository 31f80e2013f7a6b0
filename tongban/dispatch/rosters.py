"""Rosters from a plan: per site and shift, per volunteer, and an Excel workbook.

Plain structures for the page and the notifications; ``write_rosters_xlsx`` for people who
print or pass rosters on. Names, site names and labels are optional mappings from the ids
in the plan to text (the services layer looks them up; this module does no I/O but the
workbook it is asked to write).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import IO, Any

from tongban.dispatch.model import REASON_TEXT, Assignment, Plan


def _order(values: Sequence[Hashable], order: Sequence[Hashable] | None) -> list:
    rank = {v: i for i, v in enumerate(order or ())}
    return sorted(values, key=lambda v: (rank.get(v, len(rank)), str(v)))


def by_site(
    plan: Plan, shift_order: Sequence[Hashable] | None = None
) -> dict[Hashable, dict[Hashable, dict[Hashable, list[Assignment]]]]:
    """site → shift → role → assignments (nearest first). Sites and roles in order of
    appearance in the plan, shifts in ``shift_order`` (else by their text)."""
    tmp: dict = {}
    for a in plan.assignments:
        tmp.setdefault(a.site_id, {}).setdefault(a.shift, {}).setdefault(a.role, []).append(a)
    for u in plan.unfilled:  # a site with nobody yet still has its rows
        dm = u.demand
        tmp.setdefault(dm.site_id, {}).setdefault(dm.shift, {}).setdefault(dm.role, [])
    out: dict = {}
    for site, shifts in tmp.items():
        out[site] = {}
        for shift in _order(list(shifts), shift_order):
            out[site][shift] = {
                role: sorted(items, key=lambda a: a.metres) for role, items in shifts[shift].items()
            }
    return out


def by_volunteer(
    plan: Plan, shift_order: Sequence[Hashable] | None = None
) -> dict[Hashable, list[Assignment]]:
    """volunteer → their assignments in shift order (what each one is told)."""
    out: dict = {}
    for a in plan.assignments:
        out.setdefault(a.volunteer_id, []).append(a)
    rank = {v: i for i, v in enumerate(shift_order or ())}
    for items in out.values():
        items.sort(key=lambda a: (rank.get(a.shift, len(rank)), str(a.shift)))
    return out


def rosters(plan: Plan, shift_order: Sequence[Hashable] | None = None) -> dict[str, Any]:
    """``{"by_site": by_site(...), "by_volunteer": by_volunteer(...), "unfilled": [...]}``;
    the unfilled entries are dicts with ``site_id, shift, role, count, missing, reason,
    text`` (the reason in Chinese)."""
    return {
        "by_site": by_site(plan, shift_order),
        "by_volunteer": by_volunteer(plan, shift_order),
        "unfilled": [
            {
                "site_id": u.demand.site_id,
                "shift": u.demand.shift,
                "role": u.demand.role,
                "count": u.demand.count,
                "missing": u.missing,
                "reason": u.reason,
                "text": u.text,
            }
            for u in plan.unfilled
        ],
    }


def write_rosters_xlsx(
    plan: Plan,
    target: str | IO[bytes],
    names: Mapping[Hashable, str] | None = None,
    *,
    site_names: Mapping[Hashable, str] | None = None,
    shift_labels: Mapping[Hashable, str] | None = None,
    role_labels: Mapping[Hashable, str] | None = None,
    phones: Mapping[Hashable, str] | None = None,
    shift_order: Sequence[Hashable] | None = None,
    title: str = "志愿者排班表",
) -> None:
    """Write the rosters to ``target`` (a path or a binary file object) as .xlsx:

    - 按站点: one block per site (a shaded header row, its rows grouped under it so Excel
      can fold them), a row per volunteer: 班次, 岗位, 志愿者, 电话, 距离（公里）; unfilled
      slots appear as 缺 N 人 with the reason;
    - 按志愿者: one row per assignment, sorted by volunteer and shift;
    - 缺口: every unfilled demand with its reason;
    - 汇总: totals.

    Printing: titles repeat on every page, fit to one page wide, A4 portrait.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    names = names or {}
    site_names = site_names or {}
    shift_labels = shift_labels or {}
    role_labels = role_labels or {}
    phones = phones or {}

    def vname(i):
        return names.get(i, str(i))

    def sname(s):
        return site_names.get(s, str(s))

    def shl(s):
        return shift_labels.get(s, str(s))

    def rl(r):
        return role_labels.get(r, str(r))

    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    site_fill = PatternFill("solid", fgColor="F2F2F2")
    short_font = Font(color="C00000")

    def sheet(ws, headers, widths):
        ws.append(headers)
        for c, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = w
            cell = ws.cell(row=1, column=c)
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(horizontal="center")
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.oddHeader.center.text = title

    wb = Workbook()
    ws = wb.active
    ws.title = "按站点"
    sheet(ws, ["站点", "班次", "岗位", "志愿者", "电话", "距离（公里）"], [24, 14, 14, 16, 16, 12])
    ws.sheet_properties.outlinePr.summaryBelow = False
    missing = {}
    for u in plan.unfilled:
        missing[u.demand.key] = u
    for site, shifts in by_site(plan, shift_order).items():
        ws.append([sname(site)])
        r = ws.max_row
        for c in range(1, 7):
            ws.cell(row=r, column=c).fill = site_fill
        ws.cell(row=r, column=1).font = bold
        for shift, roles in shifts.items():
            for role, items in roles.items():
                for a in items:
                    ws.append(
                        [
                            "",
                            shl(shift),
                            rl(role),
                            vname(a.volunteer_id),
                            phones.get(a.volunteer_id, ""),
                            round(a.km, 2),
                        ]
                    )
                    ws.row_dimensions[ws.max_row].outline_level = 1
                u = missing.get((site, shift, role))
                if u:
                    ws.append(["", shl(shift), rl(role), f"缺 {u.missing} 人", u.text, None])
                    ws.row_dimensions[ws.max_row].outline_level = 1
                    for c in (4, 5):
                        ws.cell(row=ws.max_row, column=c).font = short_font

    ws = wb.create_sheet("按志愿者")
    sheet(
        ws,
        ["志愿者", "编号", "电话", "班次", "站点", "岗位", "距离（公里）"],
        [16, 12, 16, 14, 24, 14, 12],
    )
    vols = by_volunteer(plan, shift_order)
    for vid in sorted(vols, key=lambda i: (vname(i), str(i))):
        for a in vols[vid]:
            ws.append(
                [
                    vname(vid),
                    str(vid),
                    phones.get(vid, ""),
                    shl(a.shift),
                    sname(a.site_id),
                    rl(a.role),
                    round(a.km, 2),
                ]
            )

    ws = wb.create_sheet("缺口")
    sheet(
        ws,
        ["站点", "班次", "岗位", "需要", "缺少", "原因", "符合条件人数"],
        [24, 14, 14, 8, 8, 48, 14],
    )
    for u in plan.unfilled:
        dm = u.demand
        ws.append(
            [
                sname(dm.site_id),
                shl(dm.shift),
                rl(dm.role),
                dm.count,
                u.missing,
                u.text,
                u.candidates,
            ]
        )

    ws = wb.create_sheet("汇总")
    sheet(ws, ["项目", "数值"], [28, 16])
    by_reason = plan.unfilled_by_reason()
    rows = [
        ("已安排（人次）", plan.filled),
        ("志愿者人数", len(vols)),
        ("站点数", len({a.site_id for a in plan.assignments})),
        ("总出行距离（公里）", round(plan.total_km, 1)),
        ("平均出行距离（公里）", round(plan.total_km / plan.filled, 2) if plan.filled else 0),
        ("缺口（人次）", plan.missing),
    ] + [(f"缺口：{REASON_TEXT[k].format(candidates='')}", n) for k, n in by_reason.items()]
    for row in rows:
        ws.append(list(row))
    wb.save(target)
