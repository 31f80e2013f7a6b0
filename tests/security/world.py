"""The objects the security tests attack, and how to read a response for leaked data.

Everything here lives in 阳澄湖镇 (320507103, 相城区): road-occupation cases (one open, one
approved with a certificate, one overdue), a 12345 request, a newborn bundle and its
birth-certificate sub-case, a mediation case with an agreement, a person in the registry
and a registry import job. Every free-text field carries MARK, every person a phone or ID
number used nowhere else, so a response that contains any of them leaked the object.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import unquote

from tongban.engine.validators import id_check_digit, mask_id_card, mask_phone

MARK = "QzSecMark7"  # ASCII: survives HTML escaping, JSON and xlsx unchanged
NAME_MARK = "QzNameMark5"  # in personal fields only (a caller's name)
STREET = "320507103"  # 阳澄湖镇
COMMUNITY = "320507103001"  # 湘城社区
GRID = "32050710300101"  # 湘城社区第一网格
GUSU = "320508"
XIANGCHENG = "320507"


def valid_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


PHONES = {
    "open": "13957246801",
    "approved": "13957246802",
    "overdue": "13957246803",
    "request": "13957246804",
    "mother": "13957246805",
    "party": "13957246806",
    "registry": "13957246807",
    "repeat": "13957246808",
}
IDS = {
    "mother": valid_id("32050719880312471"),
    "party": valid_id("32050719750921582"),
    "registry": valid_id("32050719630117693"),
}
CASE_OBJECTS = ("open", "approved", "request", "birth", "mediation")


def marker_pdf(tag: str) -> bytes:
    """A tiny PDF whose bytes contain MARK in clear (fpdf would compress it)."""
    return (
        b"%PDF-1.4\n% " + f"{MARK}-{tag}".encode() + b"\n1 0 obj<</Type/Catalog>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def road_data(label: str, **over) -> dict:
    data = {
        "applicant_name": f"张三{MARK}{label}",
        "contact_phone": PHONES[label],
        "location": f"阳澄湖镇湘城大街{MARK}号",
        "area": 30,
        "purpose": "施工",
        "start_date": "2026-12-01",
        "end_date": "2026-12-10",
        "safety_commitment": True,
    }
    data.update(over)
    return data


NEWBORN = {
    "child_name": f"张小宝{MARK}",
    "child_gender": "男",
    "birth_date": "2026-11-20",
    "birth_weight": "3300",
    "hospital_name": "苏州市相城区人民医院",
    "mother_name": f"李梅{MARK}",
    "mother_id": IDS["mother"],
    "mother_phone": PHONES["mother"],
    "father_name": f"张三{MARK}",
    "father_id": IDS["party"],
    "household_address": f"相城区阳澄湖镇湘城社区{MARK}幢",
    "delivery_type": "顺产",
    "bank_account": "6222020200112233445",
    "mother_insured": True,
}
NEWBORN_MATERIALS = [
    "parents_id",
    "household_register",
    "marriage_cert",
    "delivery_record",
    "bank_card",
]
DISPUTE = {
    "dispute_type": "房屋租赁",
    "dispute_amount": "2,800",
    "dispute_summary": f"被申请人拖欠房租{MARK}共 2800 元。",
    "mediation_request": f"请求支付拖欠的房租{MARK}。",
    "parties": [
        {
            "party_role": "申请人",
            "party_name": f"张三{MARK}",
            "party_id_card": IDS["party"],
            "party_phone": PHONES["party"],
            "party_address": f"阳澄湖镇湘城大街{MARK}号",
        },
        {"party_role": "被申请人", "party_name": "王小明", "party_phone": "13900001111"},
    ],
    "preferred_mode": "线下调解",
    "mediation_consent": True,
}


@dataclass
class World:
    cases: dict = field(default_factory=dict)  # label → Case
    bundle: object = None
    cert_number: str = ""
    sha: str = ""  # the marker PDF material of the open case
    person_pk: int = 0
    job_token: str = ""
    request_token: str = ""  # 查询码 of the request
    versions: dict = field(default_factory=dict)  # case pk → version after setup

    def pk(self, label: str) -> int:
        return self.cases[label].pk

    @property
    def pii(self) -> list[str]:
        """Personal data: never shown to the public, even where a request's text is."""
        out = [NAME_MARK]
        out += list(PHONES.values()) + [mask_phone(p) for p in PHONES.values()]
        out += list(IDS.values()) + [mask_id_card(i) for i in IDS.values()]
        return out

    @property
    def secrets(self) -> list[str]:
        """Values no outsider may ever read, in any form."""
        return [s for s in [MARK, self.cert_number, *self.pii] if s]

    @property
    def links(self) -> list[str]:
        """References to the objects that a list page must not offer an outsider."""
        out = [f"/cases/{c.pk}/" for c in self.cases.values()]
        out += [f"/api/cases/{c.pk}" for c in self.cases.values()]
        out += [f"/requests/{c.pk}/" for c in self.cases.values()]
        out += [f"/my/bundles/{self.bundle.pk}/", f"person:{self.person_pk}"]
        out += [f"/registry/person/{self.person_pk}/", self.sha, self.job_token]
        return out


def _user(name):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name)


def _act(case, who, action, **kw):
    from tongban.services import cases

    return cases.act(case.pk, _user(who), cases.ActRequest(action=action, **kw))


def road_materials(user) -> dict:
    from tongban.services.demo import sample_pdf
    from tongban.services.uploads import store

    return {
        "site_plan": [store(marker_pdf("site"), f"平面图{MARK}.pdf", user)],
        "id_copy": [store(sample_pdf("ID copy"), "身份证明.pdf", user)],
    }


def newborn_materials(user) -> dict:
    import segno

    from tongban.services.uploads import store

    ref = store(marker_pdf("newborn"), "m.pdf", user)
    buf = io.BytesIO()
    segno.make(MARK).save(buf, kind="png")
    mats = {k: [ref] for k in NEWBORN_MATERIALS}
    mats["child_photo"] = [store(buf.getvalue(), "photo.png", user)]
    return mats


def person_sheet(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    from tongban.registry.kinds import KINDS

    headers = [c.header for c in KINDS["person"].columns]
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h, "") for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


PERSON = {
    "姓名": f"居民{MARK}",
    "身份证号码": IDS["registry"],
    "联系电话": PHONES["registry"],
    "居住地址": f"湘城大街{MARK}号",
    "所属网格/社区": GRID,
    "人员标签": "独居老人",
    "备注": f"备注{MARK}",
}


def build(tmp) -> World:
    """Create every object through the service layer (call inside a transaction)."""
    from django.utils import timezone

    from tongban.services import bundles, cases, registry, requests
    from tongban.store.models import Certificate, Person

    zhang = _user("zhangsan")
    w = World()
    mats = road_materials(zhang)
    w.sha = mats["site_plan"][0]["sha256"]
    w.cases["open"] = cases.submit("road_occupation", zhang, road_data("open"), materials=mats)

    approved = cases.submit("road_occupation", zhang, road_data("approved"), materials=mats)
    for who, action in [
        ("clerk_yangchenghu", "accept"),
        ("reviewer_yangchenghu", "pass_review"),
        ("urban_mgmt_xiangcheng", "cosign"),
        ("traffic_police_xiangcheng", "cosign"),
        ("approver_xiangcheng", "approve"),
    ]:
        _act(approved, who, action)
    w.cases["approved"] = approved
    w.cert_number = Certificate.objects.get(case=approved).number

    w.cases["overdue"] = cases.submit(
        "road_occupation",
        zhang,
        road_data("overdue"),
        materials=mats,
        now=timezone.now() - timedelta(days=30),
    )
    complaint = {
        "request_type": "投诉",
        "content": f"小区楼顶漏水{MARK}，请住建部门督促维修",
        "address": f"湘城大街{MARK}号",
        "contact_name": f"张三{NAME_MARK}",
        "contact_phone": PHONES["request"],
    }
    w.cases["request"] = requests.intake(zhang, complaint, org_code=COMMUNITY)
    w.request_token = requests.token_of(w.cases["request"])
    # the same problem reported again: linked to the first as a suspected repeat
    repeat = {**complaint, "contact_phone": PHONES["repeat"]}
    w.cases["repeat"] = requests.intake(zhang, repeat, org_code=COMMUNITY)
    w.bundle = bundles.submit("newborn", zhang, NEWBORN, materials=newborn_materials(zhang))
    w.cases["birth"] = w.bundle.items.get(key="birth").case

    mediation = cases.submit("dispute_mediation", zhang, DISPUTE)
    _act(mediation, "mediator_yangchenghu", "accept")
    plan = [{"due_date": "2027-01-10", "instalment_amount": 2800, "paid": False}]
    _act(
        mediation,
        "mediator_yangchenghu",
        "agree",
        data={"agreement_terms": f"一次付清{MARK}", "instalments": plan},
    )
    w.cases["mediation"] = mediation

    src = tmp / "person.xlsx"
    src.write_bytes(person_sheet([PERSON]))
    result = registry.import_file("person", src, None)
    assert result.imported, result.problems
    w.person_pk = Person.objects.get(id_number=IDS["registry"]).pk
    bad = {**PERSON, "身份证号码": "320507", "姓名": f"坏行{MARK}"}
    job = registry.start_job(
        "person",
        _user("clerk_yangchenghu"),
        [person_sheet([PERSON, bad])],
        f"导入{MARK}.xlsx",
        partial=True,
        gcj02=False,
    )
    registry.run_job(job.pk)
    w.job_token = str(job.token)
    for c in w.cases.values():
        c.refresh_from_db()
        w.versions[c.pk] = c.version
    return w


def snapshot() -> tuple:
    """Row counts of everything an attack could write, and the sum of case versions."""
    from django.db import connection

    from tongban.store import models as m

    tables = [
        m.Case,
        m.Event,
        m.RevealLog,
        m.Rating,
        m.FollowupReport,
        m.Bundle,
        m.Certificate,
        m.Outbox,
        m.Draft,
        m.ImportJob,
        m.Upload,
    ]
    parts = [f"(SELECT COUNT(*) FROM {t._meta.db_table})" for t in tables]
    parts.append(f"(SELECT COALESCE(SUM(version), 0) FROM {m.Case._meta.db_table})")
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(parts))
        return tuple(cur.fetchone())


# --- reading a response ------------------------------------------------------------------


def body_text(response) -> str:
    """Everything a client receives, as text: headers (URL-decoded), the body, the cells
    and parts of an xlsx/docx/zip, JSON with non-ASCII unescaped."""
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)
    else:
        data = response.content
    parts = [unquote(f"{k}: {v}") for k, v in response.items()]
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        except zipfile.BadZipFile:
            parts.append(data.decode("utf-8", "replace"))
    else:
        text = data.decode("utf-8", "replace")
        parts.append(text)
        if "json" in response.get("Content-Type", ""):
            with contextlib.suppress(ValueError):
                parts.append(json.dumps(json.loads(text), ensure_ascii=False))
    return "\n".join(parts)


def leaked(response, needles, url: str = "") -> list[str]:
    """The needles found in the response, except those the request itself carried."""
    text = body_text(response)
    asked = unquote(url)
    return [n for n in needles if n and n in text and n not in asked]
