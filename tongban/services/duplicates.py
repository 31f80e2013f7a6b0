"""Repeated requests (重复诉求 / 附议): a new request close in text to an open one, within
N metres and M days (per category), is linked to it; handlers see the "me too" count on
the original and may merge the newer one into it (it is answered with the original) or
split it out again.

Text closeness is the cosine of the two texts' character-bigram counts (punctuation and
spaces dropped, NFKC and lower case): it needs no model, works for Chinese without word
segmentation, and a short "路灯坏了" still scores against a long letter about the same lamp.
Place closeness is the great-circle distance of the two positions; when either has no
position (a phone call), the two addresses must be nearly the same text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from tongban.services.cases import ActRequest, act
from tongban.services.context import actor_for
from tongban.services.errors import Conflict, Forbidden, NotFound
from tongban.services.requests.lifecycle import get_request
from tongban.store.models import Case, RequestLink

MATTER = "citizen_request"
EARTH_RADIUS_M = 6_371_008.8
TEXT_THRESHOLD = 0.3  # cosine of bigram counts from which two texts are "the same problem"
ADDRESS_THRESHOLD = 0.75  # two addresses without positions: nearly the same text
SIMILAR_THRESHOLD = 0.2  # looser, for the hotline operator's "similar open requests" panel
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class Rule:
    metres: float
    days: int


DEFAULT_RULE = Rule(300, 7)
# Per category: how far apart and how long after the original a repeat may be. A broken
# road or a leaking roof stays "the same problem" for weeks; noise or a smell moves on.
RULES: dict[str, Rule] = {
    "城乡建设": Rule(300, 14),
    "环境保护": Rule(500, 7),
    "交通运输": Rule(200, 7),
    "教育文体": Rule(300, 14),
    "劳动和社会保障": Rule(200, 30),
    "商贸旅游": Rule(200, 7),
    "卫生计生": Rule(300, 14),
}


def rule_for(category: str | None) -> Rule:
    custom = getattr(settings, "TONGBAN_DUPLICATE_RULES", None) or {}
    if category in custom:
        metres, days = custom[category]
        return Rule(float(metres), int(days))
    return RULES.get(category or "", DEFAULT_RULE)


# -- text and place ------------------------------------------------------------------------

_DROP = re.compile(r"[\W_]+", re.UNICODE)


def _plain(text) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", str(text or "")).lower())


def _bigrams(text: str) -> Counter:
    clean = _plain(text)[:2000]
    if len(clean) < 2:
        return Counter(clean) if clean else Counter()
    return Counter(clean[i : i + 2] for i in range(len(clean) - 1))


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(n * b[g] for g, n in a.items() if g in b)
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(n * n for n in a.values()) * sum(n * n for n in b.values()))


def similarity(a: str, b: str) -> float:
    return round(_cosine(_bigrams(a), _bigrams(b)), 4)


def distance_m(a: dict, b: dict) -> float:
    """Great-circle distance in metres between two {lat, lng} positions (haversine)."""
    lat1, lat2 = math.radians(float(a["lat"])), math.radians(float(b["lat"]))
    dlat = lat2 - lat1
    dlng = math.radians(float(b["lng"]) - float(a["lng"]))
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def _position(data: dict) -> dict | None:
    p = data.get("position")
    if isinstance(p, dict) and p.get("lat") is not None and p.get("lng") is not None:
        return p
    return None


def same_place(a: dict, b: dict, rule: Rule) -> tuple[bool, float | None]:
    """(close enough?, distance in metres when both have positions)."""
    pa, pb = _position(a), _position(b)
    if pa and pb:
        d = distance_m(pa, pb)
        return d <= rule.metres, round(d, 1)
    addr_a, addr_b = _plain(a.get("address")), _plain(b.get("address"))
    if len(addr_a) < 4 or len(addr_b) < 4:
        return False, None
    # "湘城社区3幢" and "阳澄湖镇湘城社区3幢" are one place: one address inside the other.
    if addr_a in addr_b or addr_b in addr_a:
        return True, None
    return similarity(addr_a, addr_b) >= ADDRESS_THRESHOLD, None


# -- finding and linking -------------------------------------------------------------------


def _open_requests(district: str, since: datetime):
    return Case.objects.filter(
        matter_code=MATTER, outcome="", j_district=district, submitted_at__gte=since
    ).exclude(state="merged")


def _root(case: Case) -> Case:
    """A request that is itself a repeat points at its original."""
    link = RequestLink.objects.filter(
        request=case, status__in=(RequestLink.LINKED, RequestLink.MERGED)
    ).first()
    return link.original if link is not None else case


def find_original(case: Case) -> tuple[Case, float, float | None] | None:
    """The open request this one repeats: same category (when both are classified), close
    in place and time by the category's rule, most similar text above the threshold."""
    category = case.data.get("category")
    rule = rule_for(category)
    since = case.submitted_at - timedelta(days=rule.days)
    qs = _open_requests(case.j_district, since).exclude(pk=case.pk)
    if category:
        qs = qs.filter(Q(data__category=category) | Q(data__category__isnull=True))
    mine = _bigrams(str(case.data.get("content") or ""))
    best = None
    for other in qs.order_by("-submitted_at")[:MAX_CANDIDATES]:
        near, metres = same_place(case.data, other.data, rule)
        if not near:
            continue
        score = _cosine(mine, _bigrams(str(other.data.get("content") or "")))
        if score >= TEXT_THRESHOLD and (best is None or score > best[1]):
            best = (other, round(score, 4), metres)
    if best is None:
        return None
    return _root(best[0]), best[1], best[2]


def link(case: Case, now: datetime | None = None) -> RequestLink | None:
    """Link a newly registered request to the open one it repeats (same transaction as
    the intake); None when it repeats nothing."""
    found = find_original(case)
    if found is None:
        return None
    original, score, metres = found
    if original.pk == case.pk:
        return None
    return RequestLink.objects.create(
        request=case,
        original=original,
        similarity=score,
        distance_m=metres,
        created_at=now or timezone.now(),
    )


def similar(
    text: str, districts: list[str], *, address: str = "", limit: int = 5, days: int = 30
) -> list[dict]:
    """Open requests like a text being typed (the hotline screen): [{case, score}], best
    first. A matching address adds to the score."""
    mine = _bigrams(text)
    if sum(mine.values()) < 3 or not districts:
        return []
    since = timezone.now() - timedelta(days=days)
    qs = Case.objects.filter(
        matter_code=MATTER, outcome="", j_district__in=districts, submitted_at__gte=since
    ).exclude(state="merged")
    scored = []
    for other in qs.order_by("-submitted_at")[:MAX_CANDIDATES]:
        score = _cosine(mine, _bigrams(str(other.data.get("content") or "")))
        if address and other.data.get("address"):
            score = 0.8 * score + 0.2 * similarity(address, str(other.data["address"]))
        if score >= SIMILAR_THRESHOLD:
            scored.append({"case": other, "score": round(score, 3)})
    scored.sort(key=lambda r: -r["score"])
    rows = scored[:limit]
    counts = me_too_counts([r["case"].pk for r in rows])
    for r in rows:
        r["me_too"] = counts.get(r["case"].pk, 0)
    return rows


# -- me too counts, merge and unmerge -------------------------------------------------------

COUNTED = (RequestLink.LINKED, RequestLink.MERGED)
# A merged link counts while its request still carries `merged_into` (an `unmerge` taken
# on the generic case page clears that even if it did not go through unmerge() below).
COUNTS = Q(status=RequestLink.LINKED) | Q(
    status=RequestLink.MERGED, request__data__merged_into__isnull=False
)


def me_too_counts(ids: list[int]) -> dict[int, int]:
    """{original id: number of repeats still linked or merged}."""
    if not ids:
        return {}
    rows = (
        RequestLink.objects.filter(COUNTS, original_id__in=ids)
        .values("original_id")
        .annotate(n=Count("pk"))
    )
    return {r["original_id"]: r["n"] for r in rows}


def me_too(case: Case) -> list[RequestLink]:
    return list(
        RequestLink.objects.filter(original=case)
        .select_related("request")
        .order_by("status", "created_at")
    )


def _may_handle(user, case: Case) -> None:
    """Only after the request was found visible (get_request): whoever may not see it gets
    the same 404 as for a missing one, never a hint that it is a suspected repeat."""
    actor = actor_for(user)
    if not actor.holds(("dispatcher",), case.org_path, None):
        raise Forbidden("只有该辖区的派单员可以并案或拆分")


def _link_of(request_id: int) -> RequestLink:
    link = (
        RequestLink.objects.select_related("request", "original")
        .filter(request_id=request_id)
        .first()
    )
    if link is None:
        raise NotFound("该诉求没有疑似重复的关联")
    return link


def set_status(link: RequestLink, status: str, user, now: datetime) -> None:
    RequestLink.objects.filter(pk=link.pk).update(
        status=status, changed_at=now, changed_by=user.pk if user else None
    )
    link.status = status


def merge(request_id: int, user, *, now: datetime | None = None) -> Case:
    """并案: the repeat waits in state `merged` and is answered with its original (it takes
    the original's category and department, so a reopening goes where the original went)."""
    now = now or timezone.now()
    with transaction.atomic():
        _may_handle(user, get_request(request_id, user))
        link = _link_of(request_id)
        if link.status != RequestLink.LINKED:
            raise Conflict("只有疑似重复的诉求可以并案")
        original = link.original
        if not original.is_open or original.state == "merged":
            raise Conflict(f"诉求 {original.pk} 已不在办理中，不能并入")
        case = act(
            link.request_id,
            user,
            ActRequest(
                action="merge",
                comment=f"与诉求 {original.pk} 并案办理",
                data={
                    "category": original.data.get("category"),
                    "department": original.data.get("department"),
                    "merged_into": original.pk,
                },
            ),
            now=now,
        )
        set_status(link, RequestLink.MERGED, user, now)
    return case


def unmerge(request_id: int, user, comment: str, *, now: datetime | None = None) -> Case:
    """拆分: a merged repeat goes back to the dispatcher queue to be handled on its own; a
    linked one is simply marked as not a repeat."""
    now = now or timezone.now()
    with transaction.atomic():
        _may_handle(user, get_request(request_id, user))
        link = _link_of(request_id)
        if link.status == RequestLink.SEPARATE:
            raise Conflict("该诉求已拆分")
        case = link.request
        if link.status == RequestLink.MERGED and case.state == "merged":
            case = act(
                case.pk,
                user,
                ActRequest(action="unmerge", comment=comment or "不是同一问题，拆分单独办理"),
                now=now,
            )
        set_status(link, RequestLink.SEPARATE, user, now)
    return case
