"""矛盾纠纷调解 (`dispute_mediation`): the mediation agreement as a PDF.

The agreement exists once the mediator has taken 达成调解协议 (`agree` or `agree_done`): its
date and mediator come from that event, the sessions from the 记录调解 notes, the terms and
the payment schedule from the case data as it is now (so paid instalments show as paid).
Identity numbers and phones are printed masked, as everywhere the case is listed.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model

from tongban.documents import agreement as doc
from tongban.documents.pdf import DEFAULT_FONT, FontMissing
from tongban.engine.validators import mask_id_card, mask_phone
from tongban.services.cases import get_case
from tongban.services.errors import NotFound, Unavailable
from tongban.store.models import Case, Event, Org

MATTER = "dispute_mediation"
AGREE_ACTIONS = ("agree", "agree_done")
SESSION_ACTION = "session"
NO_AGREEMENT = "该调解尚未达成协议，没有调解协议书"
TZ = ZoneInfo("Asia/Shanghai")


def _payload(ev: Event) -> dict:
    return json.loads(ev.body).get("payload", {})


def _committee(case: Case) -> str:
    """The street (镇/街道) the case belongs to + 人民调解委员会."""
    codes = [c for c in case.org_path.split("/") if c]
    name = Org.objects.filter(code__in=codes, level="street").values_list("name", flat=True).first()
    return f"{name or ''}人民调解委员会"


def _user_name(user_id: int) -> str:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return ""
    profile = getattr(user, "profile", None)
    return (profile.display_name if profile else "") or user.get_full_name() or user.username


def has_agreement(case: Case) -> bool:
    """Whether the case has an agreement to print (the mediator took 达成调解协议)."""
    return case.matter_code == MATTER and case.events.filter(action__in=AGREE_ACTIONS).exists()


def agreement_doc(case: Case) -> doc.AgreementDoc:
    """The agreement's content, or NotFound when the case has none (yet)."""
    if case.matter_code != MATTER:
        raise NotFound(NO_AGREEMENT)
    events = list(case.events.filter(action__in=(*AGREE_ACTIONS, SESSION_ACTION)).order_by("seq"))
    agreed = next((e for e in reversed(events) if e.action in AGREE_ACTIONS), None)
    if agreed is None:
        raise NotFound(NO_AGREEMENT)
    data = case.data
    sessions = []
    for e in events:
        if e.action != SESSION_ACTION:
            continue
        inputs = _payload(e).get("inputs", {})
        sessions.append(
            doc.Session(
                date=str(inputs.get("session_date", "")),
                mode=str(inputs.get("session_mode", "")),
                place=str(inputs.get("session_place", "")),
                notes=str(inputs.get("session_notes", "")),
            )
        )
    parties = tuple(
        doc.Party(
            role=str(p.get("party_role", "")),
            name=str(p.get("party_name", "")),
            id_card=mask_id_card(p["party_id_card"]) if p.get("party_id_card") else "",
            phone=mask_phone(p["party_phone"]) if p.get("party_phone") else "",
            address=str(p.get("party_address") or ""),
        )
        for p in data.get("parties") or []
    )
    instalments = tuple(
        doc.Instalment(
            due_date=str(r.get("due_date", "")),
            amount=float(r.get("instalment_amount") or 0),
            paid=r.get("paid") is True,
        )
        for r in data.get("instalments") or []
    )
    amount = data.get("dispute_amount")
    total = data.get("agreed_total")
    return doc.AgreementDoc(
        number=f"调解办件 {case.pk}",
        committee=_committee(case),
        dispute_type=str(data.get("dispute_type", "")),
        dispute_amount=float(amount) if amount is not None else None,
        facts=str(data.get("dispute_summary", "")),
        request=str(data.get("mediation_request", "")),
        terms=str(data.get("agreement_terms", "")),
        agreed_on=agreed.at.astimezone(TZ).date().isoformat(),
        mediator=_user_name(agreed.actor_id),
        parties=parties,
        sessions=tuple(sessions),
        instalments=instalments,
        total=float(total) if instalments and total is not None else None,
        created_at=agreed.at,
    )


def font_path() -> str:
    return str(getattr(settings, "TONGBAN_CJK_FONT", "") or DEFAULT_FONT)


def agreement_pdf(case: Case) -> bytes:
    """The 人民调解协议书 of a mediation case (no permission check: see `agreement_for`)."""
    try:
        return doc.render(agreement_doc(case), font_path())
    except FontMissing as exc:
        raise Unavailable(str(exc), code="font_missing") from None


def agreement_for(case_id: int, user) -> tuple[Case, bytes]:
    """The agreement PDF for a user who may see the case (parties who filed it, staff in the
    case's jurisdiction); NotFound otherwise, without saying whether the case exists."""
    case = get_case(case_id, user)
    return case, agreement_pdf(case)
