"""诉求: intake from every channel, automatic routing to the department that owns it,
dispatcher corrections that teach the next model."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tongban.engine import validators, workflow
from tongban.engine.workflow import SYSTEM_ACTOR, Effect, EventDraft
from tongban.services import calendar, catalog
from tongban.services.cases import ActRequest, act, apply, submit
from tongban.services.errors import Invalid, NotFound
from tongban.services.records import state_of
from tongban.store.models import (
    Case,
    Event,
    Org,
    RequestLink,
    RequestToken,
    RoutingCorrection,
    RoutingRule,
)

MATTER = "citizen_request"
CHANNELS = {"web": "网站", "hotline": "热线", "api": "接口", "open311": "Open311"}
MAX_TEXT = 2000
log = logging.getLogger("tongban.requests")
_lock = threading.Lock()
_router: tuple[float, Any] | None = None


def model_path() -> Path:
    return Path(settings.VAR_DIR) / "models" / "routing.joblib"


def router():
    """The trained classifier, loaded once per process (reloaded when the file changes);
    None when no model has been trained: then every request waits for a dispatcher."""
    global _router
    path = model_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    with _lock:
        if _router is None or _router[0] != mtime:
            from tongban.routing.model import Router

            try:
                _router = (mtime, Router.load(path))
            except Exception as exc:  # a broken model file must not stop intake
                log.warning("routing model at %s cannot be loaded: %s", path, exc)
                return None
        return _router[1]


def classify(text: str) -> tuple[str | None, float, bool]:
    """(category, confidence, routed automatically?)"""
    model = router()
    if model is None or not text.strip():
        return None, 0.0, False
    prediction = model.predict([text])[0]
    label, confidence = prediction[0], float(prediction[1])
    return label, confidence, bool(model.is_automatic(confidence))


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


def category_options() -> tuple[str, ...]:
    """The request categories of the current catalog version (also the Open311 codes)."""
    spec = catalog.spec_of(catalog.current_version(MATTER))
    field = spec.field("category")
    return tuple(field.options) if field is not None else ()


def department_options() -> tuple[str, ...]:
    spec = catalog.spec_of(catalog.current_version(MATTER))
    return tuple(spec.state("dispatched").roles_allowed)


# -- where a request is: the deployment's area and the org a place belongs to ------------

# Bounding boxes (south, west, north, east; WGS84 degrees) of the districts this deployment
# serves, by district code. Approximate boxes of the two demo districts in Suzhou; a
# deployment sets its own in the setting TONGBAN_REQUEST_AREAS.
AREAS: dict[str, tuple[float, float, float, float]] = {
    "320507": (31.33, 120.43, 31.60, 120.82),  # 相城区
    "320508": (31.26, 120.55, 31.36, 120.68),  # 姑苏区
}
OUTSIDE_AREA = "位置不在本平台的服务区域内"


def areas() -> dict[str, tuple[float, float, float, float]]:
    return dict(getattr(settings, "TONGBAN_REQUEST_AREAS", None) or AREAS)


def _inside(box: tuple[float, float, float, float], lat: float, lng: float) -> bool:
    south, west, north, east = box
    return south <= lat <= north and west <= lng <= east


def parse_point(raw: Any, key: str = "position") -> tuple[float, float] | None:
    """(lat, lng) of a position as any channel sends it, or None when blank; Invalid when
    it is not a coordinate, lies outside China or outside every district served here."""
    if raw in (None, "", {}, []) or (isinstance(raw, str) and not raw.strip(", ")):
        return None
    try:
        lat, lng = validators.parse_geo(raw)
    except validators.ValidationError as exc:
        raise Invalid("位置格式不对", {key: exc.message}) from None
    if not validators.in_china(lat, lng):
        raise Invalid(validators.CHINA_MESSAGE, {key: validators.CHINA_MESSAGE})
    if not districts_at(lat, lng):
        served = Org.objects.filter(code__in=list(areas())).order_by("code")
        names = "、".join(served.values_list("name", flat=True))
        message = f"{OUTSIDE_AREA}（{names}）" if names else OUTSIDE_AREA
        raise Invalid(message, {key: message})
    return lat, lng


def districts_at(lat: float, lng: float) -> list[str]:
    """District codes whose box holds the point, the smallest box first."""
    hits = [(code, box) for code, box in areas().items() if _inside(box, lat, lng)]
    hits.sort(key=lambda cb: (cb[1][2] - cb[1][0]) * (cb[1][3] - cb[1][1]))
    return [code for code, _ in hits]


def _district_of(org: Org) -> str:
    return org.path.split("/")[0]


def locate(
    point: tuple[float, float] | None, address: str | None, fallback: Org | None
) -> Org | None:
    """The org a request belongs to: the deepest street or community of the district whose
    name the address mentions; else the district its position lies in (the fallback itself
    when the fallback's district holds the point); else the fallback (the filer's community,
    or the org an operator chose)."""
    base = fallback
    if point is not None:
        codes = districts_at(*point)
        if fallback is None or _district_of(fallback) not in codes:
            base = Org.objects.filter(code__in=codes[:1]).first() if codes else fallback
    text = (address or "").strip()
    if not text:
        return base
    candidates = Org.objects.exclude(level="grid")
    if base is not None:
        candidates = candidates.filter(path__startswith=_district_of(base) + "/")
    named = [o for o in candidates.only("code", "name", "path", "level") if o.name in text]
    if not named:
        return base
    best = max(named, key=lambda o: (o.path.count("/"), len(o.name)))
    if base is not None and (base.path == best.path or base.path.startswith(best.path + "/")):
        return base  # the address names where the fallback already is (or above it)
    return best


def _home_org(user) -> Org | None:
    profile = getattr(user, "profile", None)
    return profile.home_org if profile is not None and profile.home_org_id else None


# -- intake --------------------------------------------------------------------------------


def intake(
    user,
    raw: Mapping[str, Any],
    *,
    channel: str = "web",
    materials: Mapping[str, list] | None = None,
    idempotency_key: str | None = None,
    org_code: str | None = None,
    on_behalf_of=None,
    category: str | None = None,
    media_url: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Register a request and route it: automatically when the classifier is sure enough
    (precision ≥ 99 % on held-back data), or to the category the filer chose (an Open311
    service code); otherwise into the dispatcher queue with the model's suggestion shown.

    The position must lie inside the deployment's area; the request is placed at the
    deepest org its position and address point to. In the same transaction it gets its
    query code (查询码) and, when it repeats an open request nearby, a link to that one.
    Anonymous requests keep no contact details (and get no callback)."""
    from tongban.services import duplicates

    now = now or timezone.now()
    data = dict(raw)
    text = str(data.get("content") or "")
    if not text.strip():
        raise Invalid("请填写诉求内容", {"content": "必填"})
    if len(text) > MAX_TEXT:
        raise Invalid(f"诉求内容最多 {MAX_TEXT} 字", {"content": f"现在 {len(text)} 字"})
    point = parse_point(data.get("position"))
    if data.get("anonymous") in (True, "true", "on", "1", 1):
        data.pop("contact_name", None)
        data.pop("contact_phone", None)
    if category is not None and category not in category_options():
        raise Invalid(f"没有诉求类别「{category}」", {"category": "请从列表中选择"})
    fallback = None
    if org_code:
        fallback = Org.objects.filter(code=org_code).first()
        if fallback is None:
            raise Invalid(f"组织机构代码 '{org_code}' 不存在", {"org": "请核对代码"})
    else:
        fallback = _home_org(on_behalf_of or user)
    org = locate(point, str(data.get("address") or ""), fallback)
    if org is None:
        raise Invalid("请指定诉求所在的街道或社区，或提供事发位置", {"org": "必填"})
    if point is not None:
        data["position"] = {"lat": point[0], "lng": point[1]}
    if category is not None:
        predicted, confidence, automatic = category, None, True
    else:
        predicted, confidence, automatic = classify(text)
    with transaction.atomic():
        case = submit(
            MATTER,
            user,
            data,
            idempotency_key=idempotency_key,
            org_code=org.code,
            on_behalf_of=on_behalf_of,
            materials=materials,
            now=now,
            internal={
                "channel": CHANNELS.get(channel, "网站"),
                "category": predicted,
                "route_confidence": round(confidence, 4) if predicted and confidence else None,
                "located": org.level != "district",
                "media_url": media_url,
            },
        )
        if case.submitted_at != now:
            return case  # a retry with the same idempotency key: the first call's request
        RequestToken.objects.create(case=case, token=_new_token())
        duplicates.link(case, now)
        if case.state != "registered" or not automatic or not predicted:
            return case
        department = department_for(predicted, case.org)
        if department is None:
            log.warning(
                "no routing rule for %s; request %s waits for a dispatcher", predicted, case.pk
            )
            return case
        spec = catalog.spec_of(case.matter)
        outcome = workflow.act(
            spec,
            state_of(case),
            SYSTEM_ACTOR,
            "route",
            workflow.ActionInput(
                data={
                    "category": predicted,
                    "department": department,
                    "route_confidence": round(confidence, 4) if confidence else None,
                }
            ),
            now,
            calendar.current(),
        )
        apply(case, spec, outcome, SYSTEM_ACTOR, now)
    return case


TOKEN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
TOKEN_LENGTH = 8


def _new_token() -> str:
    while True:
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        if not RequestToken.objects.filter(token=token).exists():
            return token


def token_of(case: Case) -> str:
    row = RequestToken.objects.filter(case=case).first()
    return row.token if row else ""


def case_for_token(token: str) -> Case | None:
    token = (token or "").strip().upper()
    if not token or len(token) > 16:
        return None
    row = RequestToken.objects.select_related("case").filter(token=token).first()
    return row.case if row else None


def dispatch(case_id: int, user, category: str, department: str | None = None) -> Case:
    """A dispatcher routes a request by hand; a category different from the model's
    suggestion is recorded as a correction for the next training."""
    with transaction.atomic():
        case = Case.objects.select_related("org").filter(pk=case_id, matter_code=MATTER).first()
        if case is None:
            raise NotFound("诉求不存在")
        department = department or department_for(category, case.org)
        if not department:
            raise Invalid("该类别没有派单规则，请选择承办部门", {"department": "必选"})
        predicted = case.data.get("category")
        result = act(
            case.pk,
            user,
            ActRequest(action="dispatch", data={"category": category, "department": department}),
        )
        if predicted != category:
            RoutingCorrection.objects.create(
                case=result,
                text=str(case.data.get("content", "")),
                predicted=predicted or "",
                confidence=case.data.get("route_confidence"),
                corrected=category,
                by=user,
            )
    return result


def corrections() -> list[tuple[str, str]]:
    """(text, label) pairs from dispatchers, for `tongban routing train`."""
    return list(RoutingCorrection.objects.order_by("pk").values_list("text", "corrected"))


# -- where a request belongs (属地) --------------------------------------------------------


def relocate(case_id: int, user, org_code: str, *, now: datetime | None = None) -> Case:
    """Whoever holds a request now fixes the street or community it belongs to (one
    `relocate` note on its hash chain, and the case's org columns in the same transaction).
    The new org must lie in the same district."""
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_related("org").filter(pk=case_id, matter_code=MATTER).first()
        if case is None:
            raise NotFound("诉求不存在")
        org = Org.objects.filter(code=(org_code or "").strip()).first()
        if org is None or org.level == "district" or _district_of(org) != _district_of(case.org):
            raise Invalid("请选择本区内的街道（镇）或社区", {"org": "不在本区，或不是街道/社区"})
        result = act(
            case.pk,
            user,
            ActRequest(
                action="relocate",
                comment=f"属地确定为：{org.name}（{org.code}）",
                data={"place_org": org.code},
            ),
            now=now,
        )
        Case.objects.filter(pk=case.pk).update(org=org, org_path=org.path, **org.jurisdiction())
        result.org, result.org_path = org, org.path
        for k, v in org.jurisdiction().items():
            setattr(result, k, v)
    return result


# -- 转人民调解 --------------------------------------------------------------------------------

MEDIATION = "dispute_mediation"


def mediation_of(case: Case) -> Case | None:
    """The mediation case a request was referred to (its child), if any."""
    return case.spawned.filter(matter_code=MEDIATION).order_by("pk").first()


def refer_mediation(
    case_id: int,
    user,
    *,
    comment: str,
    dispute_type: str,
    parties: list[Mapping[str, Any]],
    mediation_request: str,
    consent: bool,
    org_code: str | None = None,
    now: datetime | None = None,
) -> tuple[Case, Case]:
    """Turn a dispute request into a people's mediation case (矛盾纠纷调解).

    The referring worker supplies what the mediator needs and the request lacks; the
    request's `refer_mediation` action records it on the request's chain and the catalog's
    spawn rule opens the `dispute_mediation` case with `parent` = the request, in one
    transaction — the mediation case passes its own matter's full validation or nothing
    changes. A request not yet placed in a street is first placed (`org_code`), since
    mediation committees sit in streets."""
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_related("org").filter(pk=case_id, matter_code=MATTER).first()
        if case is None:
            raise NotFound("诉求不存在")
        if not case.data.get("located"):
            if not org_code:
                raise Invalid(
                    "请先确定诉求所在的街道（镇），调解由街道（镇）人民调解委员会受理",
                    {"org": "请选择街道（镇）或社区"},
                )
            relocate(case.pk, user, org_code, now=now)
        result = act(
            case.pk,
            user,
            ActRequest(
                action="refer_mediation",
                comment=comment,
                data={
                    "dispute_type": dispute_type,
                    "parties": list(parties),
                    "mediation_request": mediation_request,
                    "mediation_consent": bool(consent),
                },
            ),
            now=now,
        )
        child = mediation_of(result)
        if child is None:  # the catalog lost its spawn rule: never a half-done referral
            raise Invalid("事项目录中没有转人民调解的规则，无法生成调解办件")
    return result, child


# -- the worker's part: 催办 the day after a missed deadline; merged requests follow ------

URGE_AFTER = timedelta(days=1)
URGE_TOPIC = "urge"  # 催办
DEPARTMENT_STATES = ("dispatched", "handling", "rehandling")


def sweep(now: datetime | None = None, batch: int = 200) -> int:
    """One pass for the worker; returns how many requests it changed."""
    now = now or timezone.now()
    return sweep_urges(now, batch) + follow_originals(now, batch)


def sweep_urges(now: datetime | None = None, batch: int = 200) -> int:
    """A request still with its department a day after the step's deadline: a 催办 notice
    to the department, copied to the supervisor, once per step (an `escalated` event with
    action `urge` on the chain). The overdue mark and the first escalation are the generic
    sweep's, at the deadline itself."""
    now = now or timezone.now()
    urged = Event.objects.filter(
        case_id=OuterRef("pk"), kind="escalated", action="urge", at__gte=OuterRef("entered_at")
    )
    due = list(
        Case.objects.filter(
            matter_code=MATTER,
            outcome="",
            state__in=DEPARTMENT_STATES,
            deadline__lt=now - URGE_AFTER,
        )
        .exclude(Exists(urged))
        .order_by("deadline")
        .values_list("pk", flat=True)[:batch]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            case = Case.objects.select_related("matter").filter(pk=pk).first()
            if case is None or case.state not in DEPARTMENT_STATES or not case.pending_role:
                continue
            if Event.objects.filter(
                case_id=pk, kind="escalated", action="urge", at__gte=case.entered_at
            ).exists():
                continue
            spec = catalog.spec_of(case.matter)
            deadline = case.deadline.isoformat() if case.deadline else None
            comment = "超过办理时限一天仍未办结，系统催办，并抄送督办员"
            common = {"state": case.state, "deadline": deadline, "comment": comment}
            effects = (
                Effect("notify", URGE_TOPIC, {"to": "role", "role": case.pending_role, **common}),
                Effect("notify", URGE_TOPIC, {"to": "role", "role": "supervisor", **common}),
            )
            draft = EventDraft(
                "escalated",
                case.state,
                case.state,
                SYSTEM_ACTOR.user_id,
                action="urge",
                comment=comment,
                payload={"department": case.pending_role, "deadline": deadline},
            )
            outcome = workflow.Outcome(state=state_of(case), events=(draft,), effects=effects)
            apply(case, spec, outcome, SYSTEM_ACTOR, now)
            done += 1
    return done


def _reply_of(original: Case) -> str:
    ev = original.events.filter(action__in=("reply", "reply_again")).order_by("-seq").first()
    if ev is None:
        return ""
    return str(json.loads(ev.body).get("comment", ""))


def follow_originals(now: datetime | None = None, batch: int = 200) -> int:
    """Merged requests follow their original (`merged_into`): answered with its reply once
    it is replied (each resident then gets their own callback), split out again when the
    original ends without an answer (withdrawn or referred), so nobody's request is lost."""
    from tongban.services import duplicates

    now = now or timezone.now()
    waiting = list(
        Case.objects.filter(matter_code=MATTER, state="merged")
        .order_by("pk")
        .values_list("pk", "data")[: batch * 5]
    )
    originals = {
        c.pk: c
        for c in Case.objects.filter(
            pk__in={d.get("merged_into") for _, d in waiting if d.get("merged_into")}
        )
    }
    done = 0
    for pk, data in waiting:
        original = originals.get(data.get("merged_into"))
        answered = original is not None and original.state in ("replied", "rereplied", "closed")
        ended = original is None or (original.outcome and not answered)
        if not (answered or ended) or done >= batch:
            continue
        with transaction.atomic():
            case = Case.objects.select_related("matter").filter(pk=pk, state="merged").first()
            if case is None:
                continue
            spec = catalog.spec_of(case.matter)
            if answered:
                action = "answer_merged"
                comment = f"与诉求 {original.pk} 并案办理，答复如下：{_reply_of(original)}"
            else:
                action = "unmerge"
                label = spec.state(original.state).label if original else "已不存在"
                number = original.pk if original else data.get("merged_into")
                comment = f"主件诉求 {number} {label}，本件恢复单独办理"
            outcome = workflow.act(
                spec,
                state_of(case),
                SYSTEM_ACTOR,
                action,
                workflow.ActionInput(comment=comment[:2000]),
                now,
                calendar.current(),
            )
            apply(case, spec, outcome, SYSTEM_ACTOR, now)
            if action == "unmerge":
                link = RequestLink.objects.filter(request_id=pk).first()
                if link is not None:
                    duplicates.set_status(link, RequestLink.SEPARATE, None, now)
            done += 1
    return done


# -- the routing table (派单规则): edit, export and import as xlsx ---------------------------

RULE_HEADERS = ("诉求类别", "适用区域代码（空＝全部）", "承办部门", "备注")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 2000


def _department_labels() -> dict[str, str]:
    labels = catalog.role_labels()
    return {code: labels.get(code, code) for code in department_options()}


def _check_rule(category: str, org_code: str, department: str) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    if category not in category_options():
        errors["category"] = f"没有诉求类别「{category[:20]}」"
    org = None
    if org_code:
        org = Org.objects.filter(code=org_code).first()
        if org is None:
            errors["org"] = f"组织机构代码 {org_code[:20]} 不存在"
    by_label = {label: code for code, label in _department_labels().items()}
    department = by_label.get(department, department)
    if department not in department_options():
        errors["department"] = f"没有承办部门「{department[:30]}」"
    return {"category": category, "org": org, "department": department}, errors


def save_rule(user, category: str, org_code: str, department: str, note: str = "") -> RoutingRule:
    """Add or change one rule (the most specific area wins when routing)."""
    values, errors = _check_rule(category.strip(), org_code.strip(), department.strip())
    if errors:
        raise Invalid("派单规则有误", errors)
    with transaction.atomic():
        rule, _ = RoutingRule.objects.update_or_create(
            category=values["category"],
            org=values["org"],
            defaults={"department": values["department"], "note": note.strip()[:200]},
        )
    return rule


def delete_rule(rule_id: int) -> None:
    with transaction.atomic():
        if not RoutingRule.objects.filter(pk=rule_id).delete()[0]:
            raise NotFound("没有这条派单规则")


def export_rules() -> bytes:
    from io import BytesIO

    from openpyxl import Workbook

    labels = _department_labels()
    wb = Workbook()
    ws = wb.active
    ws.title = "派单规则"
    ws.append(list(RULE_HEADERS))
    for rule in RoutingRule.objects.select_related("org").order_by("category", "org__path"):
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


def import_rules(content: bytes) -> int:
    """Replace the whole table with the rules of an xlsx (the layout export_rules writes):
    every row is checked first, and one wrong row changes nothing (Invalid lists them)."""
    from io import BytesIO
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    if len(content) > MAX_IMPORT_BYTES:
        raise Invalid("文件太大（最多 2 MB）", {"file": "太大"})
    try:
        wb = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, OSError, ValueError, KeyError):
        raise Invalid("不是有效的 xlsx 文件", {"file": "请上传导出的派单规则表"}) from None
    ws = wb.worksheets[0]
    rows, problems, seen = [], [], set()
    for n, raw in enumerate(ws.iter_rows(values_only=True), 1):
        if n == 1:
            continue
        cells = [str(c).strip() if c is not None else "" for c in (raw or ())][:4]
        cells += [""] * (4 - len(cells))
        if not any(cells):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            problems.append(f"最多 {MAX_IMPORT_ROWS} 行")
            break
        category, org_code, department, note = cells
        values, errors = _check_rule(category, org_code, department)
        key = (category, org_code)
        if key in seen:
            errors["category"] = "与前面的行重复（同一类别、同一区域）"
        seen.add(key)
        problems.extend(f"第 {n} 行：{m}" for m in errors.values())
        rows.append(RoutingRule(**values, note=note[:200]))
    wb.close()
    if problems:
        raise Invalid("导入失败，派单规则未改动", {"file": "；".join(problems[:20])})
    with transaction.atomic():
        RoutingRule.objects.all().delete()
        RoutingRule.objects.bulk_create(rows)
    return len(rows)
