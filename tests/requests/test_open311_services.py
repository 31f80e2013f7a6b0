"""Open311 GeoReport v2 contract tests, written from the spec text: discovery, the
service list and definitions in XML and JSON, wrong methods and unknown resources."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.requests.open311_helpers import BASE, FORMATS, errors_of, parse, xml_items
from tongban.services import requests

# -- discovery ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(db, fmt):
    r = Client().get(f"{BASE}/discovery.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    if fmt == "json":
        assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
        ep = body["endpoints"][0]
        formats = ep["formats"]
    else:
        assert tag == "discovery"
        for name in ("changeset", "contact", "key_service"):
            assert body.find(name).text
        ep_el = body.find("endpoints/endpoint")
        ep = {c.tag: c.text for c in ep_el if c.tag != "formats"}
        formats = [f.text for f in ep_el.findall("formats/format")]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"].endswith("/open311/v2") and ep["type"] in ("production", "test")
    assert ep["changeset"]
    assert set(formats) == {"text/xml", "application/json"}
    root = Client().get(f"{BASE}/")
    assert root.status_code == 200 and b"<discovery>" in root.content


# -- services -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list(world, fmt):
    r = Client().get(f"{BASE}/services.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    if fmt == "json":
        services = body
        assert all(s["metadata"] is True for s in services)
    else:
        assert tag == "services"
        services = xml_items(body, "service")
        assert all(s["metadata"] == "true" for s in services)
    codes = [s["service_code"] for s in services]
    assert codes == [*requests.category_options(), "general"]
    for s in services:
        assert {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        } <= set(s)
        assert s["type"] == "realtime"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list_jurisdiction(world, fmt):
    assert Client().get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "320507"}).status_code == 200
    r = Client().get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "sfgov.org"})
    assert r.status_code == 404 and errors_of(r, fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["城乡建设", "general"])
def test_service_definition(world, fmt, code):
    r = Client().get(f"{BASE}/services/{code}.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    if fmt == "json":
        assert body["service_code"] == code
        attr = body["attributes"][0]
        values = attr["values"]
        assert attr["variable"] is True and attr["required"] is False and attr["order"] == 1
    else:
        assert tag == "service_definition" and body.find("service_code").text == code
        el = body.find("attributes/attribute")
        attr = {c.tag: c.text for c in el if c.tag != "values"}
        values = [{v.find("key").text: v.find("name").text} for v in el.findall("values/value")]
        values = [{"key": k, "name": n} for d in values for k, n in d.items()]
        assert attr["variable"] == "true" and attr["required"] == "false" and attr["order"] == "1"
    assert attr["code"] == "request_type" and attr["datatype"] == "singlevaluelist"
    assert [v["key"] for v in values] == ["咨询", "求助", "建议", "投诉", "紧急"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_unknown_code(world, fmt):
    r = Client().get(f"{BASE}/services/pothole.{fmt}")
    assert r.status_code == 404
    assert errors_of(r, fmt)[0][0] == 404


def test_wrong_method_and_unknown_resource(world):
    r = Client().put(f"{BASE}/requests.json")
    assert r.status_code == 400 and errors_of(r, "json")[0][0] == 400
    r = Client().post(f"{BASE}/services.xml")
    assert r.status_code == 400 and errors_of(r, "xml")
    r = Client().get(f"{BASE}/requests.html")
    assert r.status_code == 404 and errors_of(r, "xml")[0][0] == 404
    r = Client().get(f"{BASE}/nothing/here.json")
    assert r.status_code == 404 and errors_of(r, "json")[0][0] == 404
