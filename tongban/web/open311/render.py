"""XML and JSON bodies as GeoReport v2 lays them out.

JSON follows the spec's Spark convention: the XML root that holds a list becomes a JSON
array, a root that holds fields becomes an object. Lists inside (attributes, values,
formats, endpoints) are wrapped in XML by their singular element."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from django.http import HttpResponse

CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
ITEM = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


# Characters XML 1.0 cannot carry at all (escaping does not help): dropped from text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else _NOT_XML.sub("", str(value))


def _fill(parent: Element, key: str, value: Any) -> None:
    if isinstance(value, list):
        holder = SubElement(parent, key)
        for item in value:
            _fill(holder, ITEM.get(key, "item"), item)
    elif isinstance(value, dict):
        node = SubElement(parent, key)
        for k, v in value.items():
            _fill(node, k, v)
    else:
        SubElement(parent, key).text = _text(value)


def to_xml(root: str, body: list | dict) -> bytes:
    top = Element(root)
    if isinstance(body, list):
        for item in body:
            _fill(top, ITEM[root], item)
    else:
        for k, v in body.items():
            _fill(top, k, v)
    # ElementTree escapes &, <, > (and quotes in attributes): text with markup stays text.
    xml = tostring(top, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + xml).encode("utf-8")


def response(fmt: str, root: str, body: list | dict, status: int = 200) -> HttpResponse:
    if fmt == "json":
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    else:
        content = to_xml(root, body)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, items: list[tuple[int | str, str]]) -> HttpResponse:
    body = [{"code": code, "description": description} for code, description in items]
    return response(fmt, "errors", body, status)
