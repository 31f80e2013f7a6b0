"""The same round trip for every registry kind: template → fill → import → list → export
→ re-import, and its admin pages. A new kind gets these tests by being described."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from openpyxl import load_workbook

from tests.registry.util import SAMPLES
from tongban.registry.kinds import KINDS
from tongban.services import registry
from tongban.services.demo import DEMO_PASSWORD
from tongban.store.models import RevealLog

pytestmark = pytest.mark.django_db


def test_every_kind_has_a_sample():
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_round_trip(name, tmp_path, clerk):
    kind = KINDS[name]
    model = registry.model_of(kind)
    c = Client()
    assert c.login(username=clerk.username, password=DEMO_PASSWORD)
    wb = load_workbook(io.BytesIO(c.get(f"/registry/{name}/template.xlsx").content))
    ws = wb.worksheets[0]
    header = [cell.value for cell in ws[1]]
    ws.append([SAMPLES[name].get(h) for h in header])
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    result = registry.import_file(name, path, clerk)
    assert result.ok and result.created == 1, result.problems
    record = model.objects.get()
    assert record.org.code == "32050710300101" and record.j_street == "320507103"
    page = c.get(f"/registry/{name}/").content.decode()
    title = str(getattr(record, kind.title[0]))
    assert title in page
    assert c.get(f"/registry/{name}/{record.pk}/").status_code == 200
    before = model.objects.values().get()
    out = tmp_path / "out.xlsx"
    assert registry.export(name, out, clerk, unmasked=True) == 1
    again = registry.import_file(name, out, clerk)
    assert (again.created, again.updated) == (0, 1) and model.objects.count() == 1
    after = model.objects.values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


@pytest.mark.parametrize("name", sorted(KINDS))
def test_admin_pages(name, tmp_path, clerk):
    kind = KINDS[name]
    admin = get_user_model().objects.create_superuser("root", "root@example.cn", "x" * 12)
    wb_path = tmp_path / "one.xlsx"
    from tests.registry.util import write

    write(wb_path, kind.headers, [SAMPLES[name]])
    assert registry.import_file(name, wb_path, clerk).ok
    record = registry.model_of(kind).objects.get()
    c = Client()
    c.force_login(admin)
    changelist = c.get(f"/admin/store/{kind.model.lower()}/")
    assert changelist.status_code == 200
    for col in kind.personal:
        value = getattr(record, col.key)
        if value:
            assert value not in changelist.content.decode()
    change = c.get(f"/admin/store/{kind.model.lower()}/{record.pk}/change/")
    assert change.status_code == 200
    assert "健康标签" not in change.content.decode()  # the superuser has no health role
    logged = RevealLog.objects.filter(subject=f"{name}:{record.pk}").exists()
    assert logged == bool(kind.personal)
