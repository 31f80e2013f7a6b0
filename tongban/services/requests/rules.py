"""The routing table (派单规则): which department a request category goes to, per area.

The most specific area wins: a rule for the request's community beats its street's, which
beats the district's, which beats the deployment-wide rule (no area).

The table has a jurisdiction like everything else. Everyone who works with requests reads
the rules that can apply inside their seats (those of their orgs, of the orgs above them,
and the deployment-wide ones). A supervisor changes only the rules of orgs inside their
supervisor seats; the deployment-wide rules, and the table as a whole, belong to platform
admins (Django staff). An import by a supervisor therefore replaces only the rules inside
their seats; rows about other areas must be left exactly as exported."""

from __future__ import annotations

from io import BytesIO

from django.db import transaction
from django.db.models import Q, QuerySet

from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.services.requests.spec import category_options, department_labels, department_options
from tongban.store.models import Membership, Org, RoutingRule

RULE_HEADERS = ("诉求类别", "适用区域代码（空＝全部）", "承办部门", "备注")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 2000
EDITORS = ("supervisor",)
VIEWERS = ("supervisor", "head", "dispatcher")
NOT_EDITOR = "只有督办员或平台管理员可以修改派单规则"
OUTSIDE = "只能修改您督办范围内街道（镇）、社区的派单规则"
WIDE = "适用全部区域的派单规则只有平台管理员可以修改"


def department_for(category: str, org: Org) -> str | None:
    """The routing table: the rule for this category at the case's org or its nearest
    ancestor, else the rule for anywhere."""
    codes = org.path.split("/")
    rules = {
        (r.org.code if r.org else None): r.department
        for r in RoutingRule.objects.filter(category=category).select_related("org")
    }
    for code in reversed(codes):
        if code in rules:
            return rules[code]
    return rules.get(None)


# -- who reads and who changes which rules -------------------------------------------------


def _seats(user, roles) -> list[str]:
    if user is None or not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user_id=user.pk, role__in=roles).values_list(
            "org__path", flat=True
        )
    )


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def may_view(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or _seats(user, VIEWERS)))


def may_edit(user) -> bool:
    """May change some rules (platform admins all of them, supervisors their seats')."""
    return bool(user and user.is_authenticated and (user.is_staff or _seats(user, EDITORS)))


def may_edit_rule(user, org: Org | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return org is not None and _inside(org.path, _seats(user, EDITORS))


def visible_rules(user) -> QuerySet[RoutingRule]:
    """The rules the user reads: every rule for staff; otherwise the deployment-wide ones
    and those of orgs inside, or above, the user's seats (the ones that can apply there)."""
    qs = RoutingRule.objects.select_related("org").order_by("category", "org__path", "pk")
    if user is not None and user.is_authenticated and user.is_staff:
        return qs
    seats = _seats(user, VIEWERS)
    q = Q(org__isnull=True)
    for path in seats:
        parts = path.split("/")
        above = ["/".join(parts[:i]) for i in range(1, len(parts))]
        q |= Q(org__path=path) | Q(org__path__startswith=path + "/") | Q(org__path__in=above)
    return qs.filter(q)


def _editable_scope(user) -> Q:
    """The rules an import by this user replaces."""
    if user.is_staff:
        return Q()
    q = Q(pk__in=[])
    for path in _seats(user, EDITORS):
        q |= Q(org__path=path) | Q(org__path__startswith=path + "/")
    return q


# -- checking, saving and deleting one rule --------------------------------------------------


def _check_rule(category: str, org_code: str, department: str) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    if category not in category_options():
        errors["category"] = f"没有诉求类别「{category[:20]}」"
    org = None
    if org_code:
        org = Org.objects.filter(code=org_code[:20]).first()
        if org is None:
            errors["org"] = f"组织机构代码 {org_code[:20]} 不存在"
    by_label = {label: code for code, label in department_labels().items()}
    department = by_label.get(department, department)
    if department not in department_options():
        errors["department"] = f"没有承办部门「{department[:30]}」"
    return {"category": category, "org": org, "department": department}, errors


def _refusal(org: Org | None) -> str:
    return WIDE if org is None else OUTSIDE


def save_rule(user, category: str, org_code: str, department: str, note: str = "") -> RoutingRule:
    """Add or change one rule (the most specific area wins when routing)."""
    if not may_edit(user):
        raise Forbidden(NOT_EDITOR)
    values, errors = _check_rule(category.strip(), org_code.strip(), department.strip())
    if "org" not in errors and not may_edit_rule(user, values["org"]):
        raise Forbidden(_refusal(values["org"]), {"org": _refusal(values["org"])})
    if errors:
        raise Invalid("派单规则有误", errors)
    with transaction.atomic():
        rule, _ = RoutingRule.objects.update_or_create(
            category=values["category"],
            org=values["org"],
            defaults={"department": values["department"], "note": note.strip()[:200]},
        )
    return rule


def delete_rule(user, rule_id: int) -> None:
    """A rule the user cannot read is missing to them; one they read but may not change
    (deployment-wide, or of an org above their seats) is refused."""
    if not may_edit(user):
        raise Forbidden(NOT_EDITOR)
    with transaction.atomic():
        rule = visible_rules(user).filter(pk=rule_id).first()
        if rule is None:
            raise NotFound("没有这条派单规则")
        if not may_edit_rule(user, rule.org):
            raise Forbidden(_refusal(rule.org))
        rule.delete()


# -- the table as xlsx ---------------------------------------------------------------------


def export_rules(user=None) -> bytes:
    """The rules the user reads as xlsx (the whole table when no user is given: the CLI)."""
    from openpyxl import Workbook

    labels = department_labels()
    wb = Workbook()
    ws = wb.active
    ws.title = "派单规则"
    ws.append(list(RULE_HEADERS))
    rules = (
        visible_rules(user)
        if user is not None
        else RoutingRule.objects.select_related("org").order_by("category", "org__path", "pk")
    )
    for rule in rules:
        row = [
            rule.category,
            rule.org.code if rule.org else "",
            labels.get(rule.department, rule.department),
            rule.note,
        ]
        ws.append(row)
        for cell in ws[ws.max_row]:
            cell.data_type = "s"  # text, never a formula
    for letter, width in zip("ABCD", (18, 24, 24, 40), strict=True):
        ws.column_dimensions[letter].width = width
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _read_rows(content: bytes) -> list[tuple[int, list[str]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    if len(content) > MAX_IMPORT_BYTES:
        raise Invalid("文件太大（最多 2 MB）", {"file": "太大"})
    try:
        wb = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, OSError, ValueError, KeyError):
        raise Invalid("不是有效的 xlsx 文件", {"file": "请上传导出的派单规则表"}) from None
    try:
        out = []
        for n, raw in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
            if n == 1:
                continue
            cells = [str(c).strip() if c is not None else "" for c in (raw or ())][:4]
            cells += [""] * (4 - len(cells))
            if any(cells):
                out.append((n, cells))
            if len(out) > MAX_IMPORT_ROWS:
                raise Invalid("导入失败，派单规则未改动", {"file": f"最多 {MAX_IMPORT_ROWS} 行"})
        return out
    finally:
        wb.close()


def import_rules(user, content: bytes) -> int:
    """Replace the rules the user may change with those of an xlsx (the layout
    export_rules writes) and return how many rules were written: the whole table for a
    platform admin; for a supervisor, the rules of orgs inside their supervisor seats —
    rows about any other area must match the table as it is (they are left alone).
    Every row is checked first, and one wrong row changes nothing (Invalid lists them)."""
    if not may_edit(user):
        raise Forbidden(NOT_EDITOR)
    existing = {
        (r.category, r.org_id, r.department) for r in RoutingRule.objects.select_related("org")
    }
    rows, problems, seen = [], [], set()
    for n, (category, org_code, department, note) in _read_rows(content):
        values, errors = _check_rule(category, org_code, department)
        key = (category, org_code)
        if key in seen:
            errors["category"] = "与前面的行重复（同一类别、同一区域）"
        seen.add(key)
        org = values["org"]
        if not errors and not may_edit_rule(user, org):
            if (category, org.pk if org else None, values["department"]) in existing:
                continue  # another area's rule, unchanged: not the importer's to replace
            where = f"区域 {org.code}" if org else "适用全部区域的规则"
            errors["org"] = f"{where}不在您的督办范围内，不能修改"
        problems.extend(f"第 {n} 行：{m}" for m in errors.values())
        rows.append(RoutingRule(**values, note=note[:200]))
    if problems:
        raise Invalid("导入失败，派单规则未改动", {"file": "；".join(problems[:20])})
    with transaction.atomic():
        RoutingRule.objects.filter(_editable_scope(user)).delete()
        RoutingRule.objects.bulk_create(rows)
    return len(rows)
