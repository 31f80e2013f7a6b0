"""Registry pickers (``pick_from`` on a catalog field): the engine check, the search box on
a form, jurisdiction-scoped search and the filling of sibling fields."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.registry.util import credit_code
from tongban.engine.loader import load_catalog
from tongban.store.models import Enterprise, Org, RevealLog

CATALOG = Path(__file__).resolve().parents[2] / "catalog"
GRID = "32050710300101"
CANGLANG_GRID = "32050800300101"


def _copy_with(tmp_path, old: str, new: str) -> Path:
    shutil.copy(CATALOG / "roles.yaml", tmp_path / "roles.yaml")
    text = (CATALOG / "packs" / "vehicle_pass.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "vehicle_pass.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


def test_the_pack_declares_pickers_and_passes_the_check():
    result = load_catalog([CATALOG / "roles.yaml", CATALOG / "packs" / "vehicle_pass.yaml"])
    assert result.ok, result.problems
    spec = next(m.spec for m in result.matters if m.spec.code == "vehicle_pass")
    assert spec.field("company_name").pick_from == "enterprise"


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("pick_from: enterprise", "pick_from: enterprize", "未知的台账 'enterprize'"),
        ("driver_phone: phone}", "driver_phone: phon}", "没有列 'phon'"),
        ("{company_name: name,", "{company: name,", "未知的字段 'company'"),
    ],
)
def test_engine_check_points_at_the_line(tmp_path, old, new, message):
    result = load_catalog([_copy_with(tmp_path, old, new)])
    texts = [f"{p.file}:{p.line}: {p.message}" for p in result.problems]
    hit = [t for t in texts if message in t]
    assert hit, texts
    line = int(hit[0].split(":")[1])
    assert (
        new.split(":")[0].split("{")[-1].strip()
        in ((tmp_path / "vehicle_pass.yaml").read_text(encoding="utf-8").splitlines()[line - 1])
    )


@pytest.fixture
def firms(world):
    mine = Enterprise(
        org=Org.objects.get(code=GRID),
        name="阳澄湖蔬菜合作社",
        credit_code=credit_code(7),
        category="企业",
        legal_person="王五",
        phone="13912345678",
    )
    mine.save()
    theirs = Enterprise(
        org=Org.objects.get(code=CANGLANG_GRID),
        name="阳澄湖外地公司",
        credit_code=credit_code(8),
        category="企业",
    )
    theirs.save()
    return mine, theirs


@pytest.mark.django_db
def test_register_form_shows_a_picker_to_staff(client, users):
    client.force_login(users.clerk_yangchenghu)
    text = client.get("/work/register/vehicle_pass/").content.decode()
    assert 'hx-get="/pick/enterprise/"' in text and 'hx-get="/pick/driver/"' in text
    assert 'value="company_name:name"' in text


@pytest.mark.django_db
def test_search_is_scoped_and_choosing_fills_the_siblings(client, users, firms):
    mine, theirs = firms
    client.force_login(users.clerk_yangchenghu)
    r = client.get("/pick/enterprise/", {"_pick_q": "阳澄湖"})
    text = r.content.decode()
    assert "阳澄湖蔬菜合作社" in text and "阳澄湖外地公司" not in text
    params = {
        "_pick_name": "company_name",
        "_pick_key": "company_name",
        "_pick_fill": [
            "company_name:name",
            "credit_code:credit_code",
            "contact_phone:phone",
            "evil:org",
        ],
    }
    r = client.post(f"/pick/enterprise/{mine.pk}/", params)
    text = r.content.decode()
    assert mine.credit_code in text and "13912345678" in text  # full values, to fill
    assert '"evil"' not in text  # the org column is never handed out
    assert RevealLog.objects.filter(subject=f"enterprise:{mine.pk}").exists()
    # another district's record cannot be chosen
    assert client.post(f"/pick/enterprise/{theirs.pk}/", params).status_code == 404


@pytest.mark.django_db
def test_table_rows_fill_their_own_row(client, users, world):
    from tests.registry.util import id_number
    from tongban.store.models import Driver

    d = Driver(
        org=Org.objects.get(code=GRID), name="赵六", id_number=id_number(99), phone="13800001111"
    )
    d.save()
    client.force_login(users.clerk_yangchenghu)
    r = client.post(
        f"/pick/driver/{d.pk}/",
        {
            "_pick_name": "drivers-1-driver_name",
            "_pick_key": "driver_name",
            "_pick_fill": ["driver_name:name", "driver_id:id_number"],
        },
    )
    text = r.content.decode()
    assert '"drivers-1-driver_id": "' + d.id_number + '"' in text


@pytest.mark.django_db
def test_residents_get_no_picker(client, users):
    client.force_login(users.ent_demo)
    assert client.get("/pick/enterprise/", {"_pick_q": "阳"}).status_code == 403
