"""Registry pages: jurisdiction-scoped lists with masking, reveal, template, export,
the lookup endpoint, and the upload → background task → progress bar path."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from tests.registry.util import GRID, bad_check_digit, headers, id_number, persons
from tongban.services import registry
from tongban.services.demo import DEMO_PASSWORD
from tongban.store.models import ImportJob, Person, RevealLog

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=DEMO_PASSWORD)
    return c


@pytest.fixture
def people(tmp_path, clerk):
    registry.import_file("person", persons(tmp_path / "p.xlsx", 5), clerk)
    return list(Person.objects.order_by("pk"))


def test_list_is_masked_and_scoped(people, clerk, other_clerk):
    page = login(clerk).get("/registry/person/").content.decode()
    assert "居民1" in page and id_number(1) not in page
    assert id_number(1)[:6] + "********" + id_number(1)[-4:] in page
    assert "139****0001" in page and "13900000001" not in page
    assert "健康标签" not in page
    other = login(other_clerk).get("/registry/person/").content.decode()
    assert "居民1" not in other and "共 0 条" in other
    assert login(other_clerk).get(f"/registry/person/{people[0].pk}/").status_code == 404


def test_filters_and_search(people, clerk):
    c = login(clerk)
    page = c.get("/registry/person/", {"tags": "独居老人"}).content.decode()
    assert "居民2" in page and "居民1<" not in page
    page = c.get("/registry/person/", {"q": id_number(3)}).content.decode()
    assert "共 1 条" in page and "居民3" in page
    # a partial number finds nothing: masked digits cannot be guessed through search
    assert "共 0 条" in c.get("/registry/person/", {"q": id_number(3)[:10]}).content.decode()


def test_reveal_is_logged(people, clerk):
    c = login(clerk)
    p = people[0]
    page = c.get(f"/registry/person/{p.pk}/").content.decode()
    assert p.id_number not in page and "显示" in page
    r = c.post(f"/registry/person/{p.pk}/reveal/", {"field": "id_number"})
    assert r.content.decode() == p.id_number
    log = RevealLog.objects.get()
    assert (log.user, log.subject, log.field) == (clerk, f"person:{p.pk}", "id_number")
    assert c.post(f"/registry/person/{p.pk}/reveal/", {"field": "name"}).status_code == 404


def test_health_officer_sees_health_column(people, health_officer):
    Person.objects.filter(pk=people[0].pk).update(health_tags="透析")
    page = login(health_officer).get("/registry/person/").content.decode()
    assert "健康标签" in page and "透析" in page


def test_template_and_export_downloads(people, clerk):
    c = login(clerk)
    r = c.get("/registry/person/template.xlsx")
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert [c.value for c in wb.worksheets[0][1]] == headers("person")
    assert wb.sheetnames[1] == "填写说明"
    r = c.get("/registry/person/export.xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert len(rows) == 6 and "健康标签" not in rows[0] and id_number(1) not in rows[1]
    r = c.post("/registry/person/export.xlsx", {"unmasked": "1"})
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == id_number(1)
    assert RevealLog.objects.filter(user=clerk).count() == 5


def test_lookup_json_for_forms(people, clerk, other_clerk):
    r = login(clerk).get("/registry/person/lookup", {"q": "居民"})
    data = json.loads(r.content)
    assert data["kind"] == "person" and len(data["results"]) == 5
    first = data["results"][0]
    assert first["ref"] == f"person:{people[0].pk}"
    assert first["label"].startswith("居民1 320507")
    assert first["fields"]["phone"] == "139****0001"
    assert json.loads(login(other_clerk).get("/registry/person/lookup?q=居民").content) == {
        "kind": "person",
        "results": [],
    }
    assert login(clerk).get("/registry/nosuch/lookup?q=x").status_code == 404
    # the form's service copies the full values, logged like a reveal
    values = registry.resolve(first["ref"], clerk)
    assert values["id_number"] == id_number(1) and values["org"] == GRID
    assert RevealLog.objects.filter(subject=first["ref"]).exists()


def test_residents_are_kept_out(world, users):
    c = login(users.zhangsan)
    assert c.get("/registry/").status_code == 403
    assert c.get("/registry/person/lookup?q=x").status_code == 403


def _upload(client, path, **extra):
    with open(path, "rb") as f:
        return client.post("/registry/person/import/", {"file": f, **extra})


def test_upload_queues_a_task_and_the_page_polls_progress(tmp_path, clerk):
    from django_tasks_db.models import DBTaskResult

    c = login(clerk)
    r = _upload(c, persons(tmp_path / "up.xlsx", 12))
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/registry/jobs/{job.token}/"
    task = DBTaskResult.objects.get()
    assert task.task_path == "tongban.services.registry.run_import_job"
    assert task.args_kwargs["args"] == [job.pk]
    page = c.get(r["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "排队中" in page
    assert registry.run_job(job.pk) == "done"
    assert registry.run_job(job.pk) == "already taken"
    fragment = c.get(f"/registry/jobs/{job.token}/progress").content.decode()
    assert "hx-trigger" not in fragment  # polling stops
    assert "人员：共 12 行，新增 12 条，更新 0 条" in fragment
    assert Person.objects.count() == 12
    assert not list((tmp_path / "media" / "registry").glob("*.xlsx"))  # upload removed


def test_failed_upload_shows_rows_and_offers_the_rejected_file(tmp_path, clerk, other_clerk):
    path = persons(tmp_path / "up.xlsx", 4)
    wb = load_workbook(path)
    wb.active["B3"] = bad_check_digit(id_number(2))
    wb.save(path)
    c = login(clerk)
    _upload(c, path, partial="1")
    job = ImportJob.objects.get()
    registry.run_job(job.pk)
    page = c.get(f"/registry/jobs/{job.token}/").content.decode()
    assert "新增 3 条" in page and "1 行未导入" in page and "身份证号码" in page
    r = c.get(f"/registry/jobs/{job.token}/rejected.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    back = list(sheet.iter_rows(values_only=True))
    assert back[1][-2:] == (3, "身份证号码：身份证号码校验位不正确，请核对最后一位")
    assert login(other_clerk).get(f"/registry/jobs/{job.token}/").status_code == 404


def test_fifty_megabytes_are_refused_at_the_door(tmp_path, clerk):
    big = tmp_path / "big.xlsx"
    with big.open("wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(50 * 1024 * 1024 + 1)
    r = _upload(login(clerk), big)
    assert r.status_code == 400 and "超过 50.0 MB 上限" in r.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_db_worker_runs_the_import(tmp_path, world, users):
    clerk = users.clerk_yangchenghu
    c = login(clerk)
    _upload(c, persons(tmp_path / "w.xlsx", 7), gcj02="1")
    job = ImportJob.objects.get()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    job.refresh_from_db()
    assert job.status == "done" and job.result["created"] == 7
    assert Person.objects.count() == 7
