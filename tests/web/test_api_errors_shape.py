"""Every API failure has one shape, {"code", "message", "fields"} — a method the API does not
offer (405) too, with its Allow header."""


def test_a_method_the_api_does_not_offer_answers_in_the_error_shape(client, db):
    r = client.delete("/api/matters")
    assert r.status_code == 405 and r["Content-Type"].startswith("application/json")
    assert r["Allow"] == "GET"
    assert r.json() == {
        "code": "method_not_allowed",
        "message": "不支持这个请求方法（可用：GET）",
        "fields": {},
    }
    assert client.put("/api/cases").json()["code"] == "method_not_allowed"


def test_pages_outside_the_api_keep_their_own_405(client, db):
    r = client.delete("/verify/")
    assert r.status_code == 405 and not r["Content-Type"].startswith("application/json")
