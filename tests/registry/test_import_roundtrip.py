"""Importing registries: export/import round trips, masked exports, GCJ-02."""

from __future__ import annotations

import pytest

from tests.registry.import_helpers import (
    sheet_rows,
)
from tests.registry.util import (
    GRID,
    GRID_NAME,
    headers,
    id_number,
    persons,
    write,
)
from tongban.engine.validators import gcj02_to_wgs84, wgs84_to_gcj02
from tongban.services import registry
from tongban.store.models import Person, Place, RevealLog

pytestmark = pytest.mark.django_db


def test_round_trip_export_import(tmp_path, clerk, health_officer):
    path = persons(tmp_path / "p.xlsx", 8)
    registry.import_file("person", path, health_officer)
    Person.objects.filter(id_number=id_number(1)).update(health_tags="透析")
    out = tmp_path / "export.xlsx"
    assert registry.export("person", out, health_officer, unmasked=True) == 8
    exported = sheet_rows(out)
    assert exported[0] == headers("person")
    assert exported[1][4] == f"{GRID_NAME}（{GRID}）"
    before = list(
        Person.objects.order_by("pk").values_list(
            "name", "id_number", "phone", "address", "org", "tags", "health_tags", "note"
        )
    )
    result = registry.import_file("person", out, health_officer)
    assert result.ok and (result.created, result.updated) == (0, 8)
    after = list(
        Person.objects.order_by("pk").values_list(
            "name", "id_number", "phone", "address", "org", "tags", "health_tags", "note"
        )
    )
    assert after == before
    # the unmasked export was a bulk reveal: one log row per record
    assert RevealLog.objects.filter(user=health_officer, subject__startswith="person:").count() == 8


def test_masked_export_hides_numbers_and_cannot_be_mistaken_for_data(tmp_path, clerk):
    registry.import_file("person", persons(tmp_path / "p.xlsx", 3), clerk)
    out = tmp_path / "masked.xlsx"
    registry.export("person", out, clerk)
    rows = sheet_rows(out)
    assert "健康标签" not in rows[0]
    assert rows[1][1] == id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert rows[1][2] == "139****0001"
    assert RevealLog.objects.count() == 0
    again = registry.import_file("person", out, clerk)
    assert not again.imported and {p.column for p in again.problems} >= {"身份证号码"}


def test_gcj02_coordinates_are_stored_as_wgs84(tmp_path, clerk):
    wgs = (31.4386, 120.7124)
    gcj = wgs84_to_gcj02(*wgs)
    header = headers("place")
    row = {
        "名称": "湘城骑手驿站",
        "类型": "骑手驿站",
        "纬度": gcj[0],
        "经度": gcj[1],
        "服务设施": "充电、饮水、药箱、书架",
        "开放时间": "每天 8:00-20:00",
        "所属网格/社区": GRID,
    }
    path = write(tmp_path / "places.xlsx", header, [row])
    result = registry.import_file("place", path, clerk, gcj02=True)
    assert result.ok
    place = Place.objects.get()
    assert abs(place.lat - wgs[0]) < 1e-6 and abs(place.lng - wgs[1]) < 1e-6
    assert (place.lat, place.lng) == tuple(round(x, 7) for x in gcj02_to_wgs84(*gcj))
    # Places are keyed by (grid, type, name): the same file again is an update.
    again = registry.import_file("place", path, clerk, gcj02=True)
    assert (again.created, again.updated) == (0, 1) and Place.objects.count() == 1
    # exported as WGS84, so a re-import without --gcj02 keeps the point where it is
    out = tmp_path / "out.xlsx"
    registry.export("place", out, clerk)
    registry.import_file("place", out, clerk)
    place.refresh_from_db()
    assert abs(place.lat - wgs[0]) < 1e-6 and abs(place.lng - wgs[1]) < 1e-6
