"""Importing registries: the jurisdiction and health rules, the reveal log."""

from __future__ import annotations

import pytest

from tests.registry.import_helpers import (
    only,
    sheet_rows,
)
from tests.registry.util import (
    CANGLANG_GRID,
    GRID,
    GRID_NAME,
    OTHER_GRID,
    credit_code,
    headers,
    id_number,
    person_row,
    persons,
    write,
)
from tongban.services import registry
from tongban.services.errors import Forbidden, Invalid
from tongban.store.models import Enterprise, Person, RevealLog

pytestmark = pytest.mark.django_db


def test_other_street_cannot_import_into_or_take_over_rows(tmp_path, clerk, other_clerk):
    registry.import_file("person", persons(tmp_path / "p.xlsx", 3), clerk)
    # Same people, filed by 沧浪街道 in its own grid: those IDs belong to 阳澄湖镇.
    rows = [person_row(i, **{"所属网格/社区": CANGLANG_GRID}) for i in range(1, 4)]
    path = write(tmp_path / "theirs.xlsx", headers("person"), rows)
    result = registry.import_file("person", path, other_clerk)
    assert not result.imported
    assert {p.reason for p in result.problems} == {
        "该身份证号码已由其他辖区登记，不能在此导入；如已迁入本辖区，请联系原辖区移交"
    }
    assert set(Person.objects.values_list("j_street", flat=True)) == {"320507103"}
    # and it cannot name 阳澄湖镇's grid at all
    path = persons(tmp_path / "mine.xlsx", 1, start=50)
    result = registry.import_file("person", path, other_clerk)
    assert only(result) == [(2, "所属网格/社区", "E", "“湘城社区第一网格”不在您的辖区内，不能导入")]


def test_other_street_sees_and_exports_nothing(tmp_path, clerk, other_clerk):
    registry.import_file("person", persons(tmp_path / "p.xlsx", 3), clerk)
    scope = registry.scope_of(other_clerk)
    assert registry.search(registry.kind_of("person"), scope).count() == 0
    assert registry.export("person", tmp_path / "o.xlsx", other_clerk) == 0
    assert registry.lookup("person", other_clerk, "居民1") == []
    pk = Person.objects.first().pk
    with pytest.raises(registry.NotFound):
        registry.reveal("person", pk, other_clerk, "id_number")


def test_org_by_name_and_grid_worker_scope(tmp_path, users):
    grid_worker = users.grid_yangchenghu1  # 湘城社区第一网格 only
    rows = [
        person_row(1, **{"所属网格/社区": GRID_NAME}),
        person_row(2, **{"所属网格/社区": OTHER_GRID}),
    ]
    path = write(tmp_path / "p.xlsx", headers("person"), rows)
    result = registry.import_file("person", path, grid_worker, partial=True)
    assert result.created == 1
    assert only(result) == [(3, "所属网格/社区", "E", "“消泾村第一网格”不在您的辖区内，不能导入")]


def test_health_tags_need_sees_health(tmp_path, clerk, health_officer):
    rows = [person_row(1, 健康标签="透析、肿瘤"), person_row(2)]
    path = write(tmp_path / "p.xlsx", headers("person"), rows)
    refused = registry.import_file("person", path, clerk)
    assert only(refused) == [
        (2, "健康标签", "G", "您的岗位不能填写“健康标签”（仅卫健工作人员可以填写），请清空该列")
    ]
    assert registry.import_file("person", path, health_officer).ok
    assert Person.objects.get(id_number=id_number(1)).health_tags == "透析、肿瘤"
    # A clerk re-importing a file with an empty health column leaves the tags alone.
    path = persons(tmp_path / "clerk.xlsx", 2)
    assert registry.import_file("person", path, clerk).updated == 2
    assert Person.objects.get(id_number=id_number(1)).health_tags == "透析、肿瘤"
    # and never sees them
    kind, scope = registry.kind_of("person"), registry.scope_of(clerk)
    rec = Person.objects.get(id_number=id_number(1))
    cells = {c.key: c for c in registry.row_cells(kind, rec, scope)}
    assert cells["health_tags"].hidden and cells["health_tags"].text == ""
    assert registry.search(kind, scope, filters={"health_tags": "透析"}).count() == 2  # ignored
    assert "健康标签" not in sheet_rows(_export(tmp_path, clerk))[0]
    assert "health_tags" not in registry.lookup("person", clerk, "居民1")[0]["fields"]
    assert "health_tags" not in registry.resolve(f"person:{rec.pk}", clerk)
    # the health officer does
    hscope = registry.scope_of(health_officer)
    cells = {c.key: c for c in registry.row_cells(kind, rec, hscope)}
    assert cells["health_tags"].text == "透析、肿瘤"
    assert registry.search(kind, hscope, filters={"health_tags": "透析"}).count() == 1
    assert sheet_rows(_export(tmp_path, health_officer))[1][6] == "透析、肿瘤"


def _export(tmp_path, user):
    out = tmp_path / f"e-{user.username}.xlsx"
    registry.export("person", out, user)
    return out


def test_residents_cannot_use_registries(tmp_path, users):
    with pytest.raises(Forbidden):
        registry.import_file("person", persons(tmp_path / "p.xlsx", 1), users.zhangsan)
    with pytest.raises(Invalid):
        registry.export("person", tmp_path / "x.xlsx", None, unmasked=True)


def test_enterprise_and_reveal_log(tmp_path, clerk):
    header = headers("enterprise")
    rows = [
        {
            "名称": f"企业{i}",
            "统一社会信用代码": credit_code(i),
            "主体类型": "个体工商户",
            "从业人数": i,
            "联系电话": "0512-65221234",
            "所属网格/社区": GRID,
        }
        for i in range(1, 4)
    ]
    assert registry.import_file("enterprise", write(tmp_path / "e.xlsx", header, rows), clerk).ok
    e = Enterprise.objects.get(credit_code=credit_code(2))
    assert e.employees == 2 and e.phone == "0512-65221234"
    assert registry.reveal("enterprise", e.pk, clerk, "phone", "10.0.0.1") == "0512-65221234"
    log = RevealLog.objects.get()
    assert (log.subject, log.field, log.ip) == (f"enterprise:{e.pk}", "phone", "10.0.0.1")
    found = registry.lookup("enterprise", clerk, credit_code(2))
    assert [f["fields"]["phone"] for f in found] == ["0512-******34"]
