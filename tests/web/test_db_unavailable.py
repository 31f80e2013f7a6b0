"""The database going away: pages and the API answer 503 with a Chinese message and
Retry-After, nothing is written, and the next request after it returns is served.

The outage is real, not a mock: the default connection is pointed at a port nobody listens
on (PostgreSQL) or at a file in a folder that does not exist (SQLite), so the driver itself
fails to connect, as it does when the server is stopped. bench/crash.py does the same with
a real PostgreSQL stop."""

from __future__ import annotations

import contextlib
import json
import socket

import pytest
from django.db import connection

from tongban.services.auth import create_token
from tongban.store.models import Case

FREIGHT = {
    "driver_name": "王师傅",
    "driver_id": "11010519491231002X",
    "driver_phone": "13812345678",
    "plate_number": "苏E12345",
    "origin": "上海市浦东新区",
    "destination": "苏州市相城区阳澄湖镇",
    "cargo": "空车",
    "return_from": "2026-12-01 08:00",
    "return_to": "2026-12-01 18:00",
    "return_commitment": True,
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # released on close: nobody listens there


@contextlib.contextmanager
def database_down(tmp_path):
    """Until the block ends, every new connection of `default` fails in the driver."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=_closed_port())
    else:
        connection.settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def token(users):
    return create_token(users.zhangsan, name="test")


def _assert_503(response, *, json_body: bool) -> str:
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    text = response.content.decode()
    if json_body:
        body = json.loads(text)
        assert body["code"] == "unavailable"
        text = body["message"]
    assert "数据库暂时不可用" in text
    return text


@pytest.mark.django_db(transaction=True)
def test_pages_answer_503_in_chinese_when_the_database_is_down(client, users, tmp_path):
    client.force_login(users.zhangsan)  # the session lives in the database: needs it
    with database_down(tmp_path):
        for path in ("/my/", "/matters/", "/work/", "/supervise/"):
            response = client.get(path)
            text = _assert_503(response, json_body=False)
            assert "系统繁忙" in text, path
            assert response["Content-Type"].startswith("text/html")
    # and the service resumes by itself once the database is back
    assert client.get("/my/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_api_answers_503_with_retry_after_and_writes_nothing(client, token, tmp_path):
    headers = {"Authorization": f"Bearer {token}"}
    before = Case.objects.count()
    body = {"matter": "freight_return", "data": FREIGHT, "idempotency_key": "down-1"}
    with database_down(tmp_path):
        response = client.post(
            "/api/cases", data=json.dumps(body), content_type="application/json", headers=headers
        )
        _assert_503(response, json_body=True)
        _assert_503(client.get("/api/worklist", headers=headers), json_body=True)
    assert Case.objects.count() == before  # nothing half-written
    # the same submission, retried after the outage, goes through once
    response = client.post(
        "/api/cases", data=json.dumps(body), content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    assert Case.objects.filter(idempotency_key="down-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_form_post_answers_503_when_the_database_is_down(client, users, tmp_path):
    client.force_login(users.zhangsan)
    with database_down(tmp_path):
        form = {f"f-{k}": ("on" if v is True else v) for k, v in FREIGHT.items()}
        response = client.post("/matters/freight_return/apply/", form)
        _assert_503(response, json_body=False)
    assert not Case.objects.filter(matter__code="freight_return").exists()


def test_handler500_answers_503_for_a_database_error_outside_a_view(rf):
    """A middleware that fails on the database (saving the session) reaches handler500."""
    from django.db import OperationalError

    from tongban.web.middleware import server_error

    try:
        raise OperationalError("connection refused")
    except OperationalError:
        r = server_error(rf.get("/my/cases/"))
    assert r.status_code == 503 and r["Retry-After"]
    assert "数据库暂时不可用" in r.content.decode()
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(rf.get("/my/cases/")).status_code == 500
