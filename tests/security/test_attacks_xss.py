"""Attacks beside the access matrix: script in every free-text field."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.utils.html import escape

from tests.security.attacks import _api_road
from tests.security.world import (
    COMMUNITY,
    IDS,
    body_text,
    person_sheet,
)

# --- script in every free-text field --------------------------------------------------------

P_SCRIPT = "<script>alert(1)</script>"
P_ATTR = '"><img src=x onerror=alert(1)>'
P_SHORT = '"><svg onload=alert(1)>'  # for fields shorter than P_ATTR
PAYLOADS = {"script": P_SCRIPT, "attr": P_ATTR}
FREE_TEXT = ("text", "textarea", "address")


def _fill(spec, base: dict, payload: str) -> dict:
    data = dict(base)
    for f in spec.fields:
        if f.type not in FREE_TEXT or f.internal:
            continue
        limit = f.max_length or 200
        value = payload if len(payload) <= limit else P_SHORT
        data[f.key] = value + ("。" * max(0, (f.min_length or 0) - len(value)))
    return data


@pytest.fixture(scope="module")
def xss(sec, django_db_blocker):
    """For each payload: a road-occupation case and a 12345 request with the payload in
    every free-text field, and a staff comment carrying it."""
    from django.contrib.auth import get_user_model

    from tests.security.world import road_materials
    from tongban.services import cases, catalog, requests

    users = get_user_model().objects
    zhang = users.get(username="zhangsan")
    out = {}
    with django_db_blocker.unblock():
        road = catalog.spec_of(catalog.current_version("road_occupation"))
        req = catalog.spec_of(catalog.current_version("citizen_request"))
        mats = road_materials(zhang)
        for key, payload in PAYLOADS.items():
            road_base = {**_api_road(), "contact_phone": "13800000003"}
            c = cases.submit(
                "road_occupation", zhang, _fill(road, road_base, payload), materials=mats
            )
            cases.act(
                c.pk,
                users.get(username="clerk_yangchenghu"),
                cases.ActRequest(action="request_correction", comment=payload),
            )
            r = requests.intake(
                zhang,
                _fill(req, {"request_type": "投诉", "contact_phone": "13800000004"}, payload),
                org_code=COMMUNITY,
            )
            out[key] = {"road": c.pk, "request": r.pk, "token": requests.token_of(r)}
    return out


STAFF_OF = {"road": "clerk_yangchenghu", "request": "dispatcher_xiangcheng"}


def _no_raw(text: str) -> None:
    for p in (P_SCRIPT, P_ATTR, P_SHORT):
        assert p not in text, f"unescaped {p!r}"


PAGES = ["applicant", "staff", "worklist", "my-list"]
REQUEST_PAGES = ["request-page", "open311-xml", "track"]


@pytest.mark.parametrize(
    ("page", "payload", "matter"),
    [
        (page, payload, matter)
        for matter in ("road", "request")
        for page in PAGES + (REQUEST_PAGES if matter == "request" else [])
        for payload in sorted(PAYLOADS)
    ],
)
def test_script_in_free_text_is_escaped_on_pages(s, xss, page, payload, matter):
    from xml.sax.saxutils import escape as xml_escape

    pk = xss[payload][matter]
    shown = True
    if page == "request-page":
        r = s.client("dispatcher_xiangcheng").get(f"/requests/{pk}/")
    elif page == "open311-xml":
        r = s.client(None).get(f"/open311/v2/requests/{pk}.xml")
    elif page == "track":
        r = s.client(None).get(f"/requests/track/?token={xss[payload]['token']}")
        shown = False
    elif page == "applicant":
        r = s.client("zhangsan").get(f"/my/cases/{pk}/")
    elif page == "staff":
        r = s.client(STAFF_OF[matter]).get(f"/work/cases/{pk}/")
    elif page == "worklist":
        r = s.client(STAFF_OF[matter]).get("/work/?tab=todo")
        shown = False
    else:
        r = s.client("zhangsan").get("/my/")
        shown = False
    assert r.status_code == 200
    text = r.content.decode()
    _no_raw(text)
    if shown:
        forms = [f(p) for p in (PAYLOADS[payload], P_SHORT) for f in (escape, xml_escape)]
        assert any(f in text for f in forms), "the value is not shown at all"


@pytest.mark.parametrize("matter", ["road", "request"])
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("who", ["zhangsan", "staff"])
def test_script_in_free_text_is_inert_in_the_api(s, xss, who, payload, matter):
    pk = xss[payload][matter]
    user = STAFF_OF[matter] if who == "staff" else who
    for path in (f"/api/cases/{pk}", f"/api/cases/{pk}/events", "/api/worklist"):
        r = s.client(None).get(path, headers=s.bearer(user))
        if path == "/api/worklist" and who == "zhangsan":
            assert r.status_code == 403
            continue
        assert r.status_code == 200
        assert r["Content-Type"].startswith("application/json")
        assert r["X-Content-Type-Options"] == "nosniff"
    case = s.client(None).get(f"/api/cases/{pk}", headers=s.bearer(user)).json()
    # JSON carries the text as data; it is the client's job to escape it — but it must be
    # the text as typed (no HTML in the JSON that a client could trust as markup).
    values = json.dumps(case["data"], ensure_ascii=False)
    assert PAYLOADS[payload] in values or P_SHORT in values or who == "staff"


REFLECTING = [
    ("anonymous", "/matters/?q={p}"),
    ("anonymous", "/matters/?category={p}"),
    ("anonymous", "/reports/food/?from={p}&to={p}"),
    ("anonymous", "/verify/{p}?sig={p}"),
    ("zhangsan", "/matters/road_occupation/apply/?org={p}"),
    ("clerk_yangchenghu", "/work/?tab={p}&matter={p}&state={p}&page={p}"),
    ("clerk_yangchenghu", "/work/register/road_occupation/?for_user={p}"),
    ("clerk_yangchenghu", "/registry/person/?q={p}&org={p}&page={p}"),
    ("clerk_yangchenghu", "/registry/person/lookup?q={p}&limit={p}"),
    ("supervisor_xiangcheng", "/supervise/?from={p}&to={p}&org={p}"),
    ("supervisor_xiangcheng", "/supervise/?from={p}&to={p}"),
    ("supervisor_xiangcheng", "/supervise/overdue/?org={p}&page={p}"),
    ("supervisor_xiangcheng", "/reports/home-work/?month={p}"),
    ("supervisor_xiangcheng", "/reports/resumption/?from={p}&to={p}"),
]


@pytest.mark.parametrize("payload", [P_SCRIPT, P_ATTR], ids=["script", "attr"])
@pytest.mark.parametrize(("who", "url"), REFLECTING, ids=[u for _, u in REFLECTING])
def test_query_parameters_are_never_reflected_raw(s, who, url, payload):
    from urllib.parse import quote

    p = quote(payload, safe="") if "/verify/" in url else urlencode({"x": payload})[2:]
    if "/verify/" in url and "/" in payload:
        p = quote(P_ATTR, safe="")
    r = s.client(None if who == "anonymous" else who).get(url.format(p=p))
    assert r.status_code < 500
    _no_raw(body_text(r))


def test_script_in_registry_fields_is_escaped(s, tmp_path):
    from tongban.services import registry

    row = {
        "姓名": P_SCRIPT,
        "身份证号码": IDS["mother"],
        "联系电话": "13800000005",
        "居住地址": P_ATTR,
        "所属网格/社区": "32050710300101",
        "人员标签": "独居老人",
        "备注": P_ATTR,
    }
    src = tmp_path / "xss.xlsx"
    src.write_bytes(person_sheet([row]))
    assert registry.import_file("person", src, None).imported
    from tongban.store.models import Person

    pk = Person.objects.get(id_number=IDS["mother"]).pk
    c = s.client("clerk_yangchenghu")
    for path in ("/registry/person/", f"/registry/person/{pk}/"):
        text = c.get(path).content.decode()
        _no_raw(text)
        assert escape(P_SCRIPT) in text
