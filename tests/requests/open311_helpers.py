"""Shared by the Open311 GeoReport v2 contract tests (test_open311_*.py)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from tongban.store.models import Case

BASE = "/open311/v2"
FORMATS = ("xml", "json")
TEXT = "湘城大街18号门前路灯坏了三天，晚上很黑，行人容易摔倒"
MARKUP = '<b>路灯</b> & <script>alert("x")</script> ]]> <?xml version="1.0"?>'
XIANGCHENG = {"lat": "31.43", "long": "120.70"}  # inside 相城区


def parse(response, fmt):
    """(root tag or None, python data) of a response; checks the spec's content types."""
    ctype = response["Content-Type"]
    if fmt == "json":
        assert ctype == "application/json; charset=utf-8"
        return None, json.loads(response.content.decode("utf-8"))
    assert ctype == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    return root.tag, root


def xml_items(root, item):
    """Children of a list root as {tag: text} dicts (nested lists left as elements)."""
    out = []
    for el in root.findall(item):
        row = {}
        for child in el:
            row[child.tag] = child if len(child) else (child.text or "")
        out.append(row)
    return out


def errors_of(response, fmt):
    tag, body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list) and body
        assert all(set(e) == {"code", "description"} for e in body)
        return [(e["code"], e["description"]) for e in body]
    assert tag == "errors"
    items = xml_items(body, "error")
    assert items and all(set(e) == {"code", "description"} for e in items)
    return [(int(e["code"]), e["description"]) for e in items]


def post(client, fmt, **params):
    return client.post(f"{BASE}/requests.{fmt}", params)


def count():
    return Case.objects.filter(matter_code="citizen_request").count()
