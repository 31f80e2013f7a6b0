"""Shared by the JSON API tests (test_api_*.py): a token client and request helpers."""

from __future__ import annotations

import json

from tests.services.test_cases import GOOD  # the road-occupation application
from tongban.services.auth import create_token

ENDPOINTS = {
    ("/api/matters", "get"),
    ("/api/matters/{code}", "get"),
    ("/api/cases", "post"),
    ("/api/cases/{case_id}", "get"),
    ("/api/cases/{case_id}/actions/{action}", "post"),
    ("/api/cases/{case_id}/events", "get"),
    ("/api/worklist", "get"),
    ("/api/uploads", "post"),
}
ERROR_KEYS = {"code", "message", "fields"}


def auth(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, name='test')}"}


class Api:
    """A client that speaks JSON with one user's token."""

    def __init__(self, client, user=None):
        self.client = client
        self.headers = auth(user) if user is not None else {}

    def get(self, url, **params):
        return self.client.get(url, params, headers=self.headers)

    def post(self, url, body=None):
        data = json.dumps(body) if body is not None else ""
        return self.client.post(
            url, data=data, content_type="application/json", headers=self.headers
        )


def submit(api, materials, **overrides):
    body = {"matter": "road_occupation", "data": {**GOOD}, "materials": materials}
    data = overrides.pop("data", {})
    body["data"].update(data)
    body.update(overrides)
    return api.post("/api/cases", body)


def submitted(as_user, materials, **overrides) -> dict:
    r = submit(as_user("zhangsan"), materials, **overrides)
    assert r.status_code == 201, r.content
    return r.json()


def act(api, case_id, action, **body):
    return api.post(f"/api/cases/{case_id}/actions/{action}", body)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code
    return body
