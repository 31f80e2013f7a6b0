"""Bundles on a real database: one submission, sub-cases per item, dependencies, partial
outcomes, least privilege, and the checks of the definition."""

from __future__ import annotations

import pytest

from tests.conftest import CATALOG
from tongban.engine.loader import load_catalog
from tongban.services import bundles, cases
from tongban.services.demo import sample_pdf
from tongban.services.errors import Invalid, NotFound
from tongban.services.uploads import store
from tongban.store.models import Bundle, BundleItem, Case

ANSWERS = {
    "child_name": "张小宝",
    "child_gender": "男",
    "birth_date": "2026-11-20",
    "birth_weight": "3300",
    "hospital_name": "苏州市相城区人民医院",
    "mother_name": "李梅",
    "mother_id": "11010519491231002X",
    "mother_phone": "13812345678",
    "father_name": "张三",
    "father_id": "11010519491231002X",
    "household_address": "相城区阳澄湖镇湘城社区 8 幢",
    "delivery_type": "顺产",
    "bank_account": "6222020200112233445",
    "mother_insured": True,
}
MATERIALS = [
    "parents_id",
    "household_register",
    "marriage_cert",
    "delivery_record",
    "bank_card",
    "child_photo",
]


def files(user):
    ref = store(sample_pdf("m"), "m.pdf", user)
    return {k: [ref] for k in MATERIALS}


def png(user):
    import io

    import segno

    buf = io.BytesIO()
    segno.make("photo").save(buf, kind="png")
    return store(buf.getvalue(), "photo.png", user)


@pytest.fixture
def newborn(users):
    mats = files(users.zhangsan)
    mats["child_photo"] = [png(users.zhangsan)]
    return bundles.submit("newborn", users.zhangsan, ANSWERS, materials=mats)


def act(case, user, action, **kw):
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw))


def item(bundle, key):
    return BundleItem.objects.select_related("case").get(bundle=bundle, key=key)


def test_one_submission_creates_the_items_that_can_start(newborn):
    statuses = dict(newborn.items.values_list("key", "status"))
    assert statuses == {
        "birth": "active",
        "vaccination": "active",
        "hukou": "waiting",
        "sscard": "waiting",
        "medins": "waiting",
        "maternity": "active",
    }
    birth = item(newborn, "birth").case
    assert birth.bundle_id == newborn.pk and birth.applicant_id == newborn.applicant_id


def test_each_unit_sees_only_its_item_and_fields(newborn, users):
    vaccination = item(newborn, "vaccination").case
    assert set(vaccination.data) == {
        "child_name",
        "child_gender",
        "birth_date",
        "mother_name",
        "mother_phone",
        "household_address",
    }
    assert "mother_id" not in vaccination.data and "bank_account" not in vaccination.data
    with pytest.raises(NotFound):
        cases.get_case(item(newborn, "maternity").case.pk, users.vaccination_officer_yangchenghu)


def test_dependency_starts_with_received_certificate_number(newborn, users):
    birth = item(newborn, "birth").case
    act(birth, users.birth_registrar_xiangcheng, "issue")
    hukou = item(newborn, "hukou")
    assert hukou.status == "active"
    number = birth.certificates.get().number
    assert hukou.case.data["birth_certificate_no"] == number
    act(hukou.case, users.hukou_officer_yangchenghu, "issue")
    for key in ("sscard", "medins"):
        row = item(newborn, key)
        assert row.status == "active"
        assert row.case.data["hukou_receipt_no"] == hukou.case.certificates.get().number


def run_all(bundle, users, refuse=None):
    officers = {
        "birth": users.birth_registrar_xiangcheng,
        "vaccination": users.vaccination_officer_yangchenghu,
        "hukou": users.hukou_officer_yangchenghu,
        "sscard": users.social_security_officer_xiangcheng,
        "medins": users.medical_insurance_officer_xiangcheng,
        "maternity": users.medical_insurance_officer_xiangcheng,
    }
    for key in ["birth", "vaccination", "maternity", "hukou", "sscard", "medins"]:
        row = item(bundle, key)
        if row.status != "active":
            continue
        if key == refuse:
            act(row.case, officers[key], "refuse", comment="材料不符")
        else:
            act(row.case, officers[key], "issue")


def test_bundle_completes_when_every_item_completes(newborn, users):
    run_all(newborn, users)
    newborn.refresh_from_db()
    assert newborn.outcome == "completed" and newborn.closed_at is not None


def test_refused_item_leaves_bundle_partly_done_with_reason(newborn, users):
    run_all(newborn, users, refuse="birth")
    newborn.refresh_from_db()
    assert newborn.outcome == "partial"
    assert item(newborn, "hukou").status == "refused"
    assert "前置事项" in item(newborn, "hukou").reason
    assert item(newborn, "vaccination").status == "completed"


def test_correction_sends_only_that_item_back(newborn, users):
    vaccination = item(newborn, "vaccination").case
    act(
        vaccination, users.vaccination_officer_yangchenghu, "request_correction", comment="电话有误"
    )
    rows = {r["item"].key: r for r in bundles.status(newborn)}
    assert rows["vaccination"]["needs_me"] and rows["vaccination"]["comment"] == "电话有误"
    assert not rows["birth"]["needs_me"]
    act(vaccination, users.zhangsan, "resubmit", data={"mother_phone": "13987654321"})
    assert Case.objects.get(pk=vaccination.pk).state == "submitted"


def test_condition_skips_item(users):
    mats = files(users.zhangsan)
    mats["child_photo"] = [png(users.zhangsan)]
    b = bundles.submit(
        "newborn", users.zhangsan, {**ANSWERS, "mother_insured": False}, materials=mats
    )
    assert item(b, "maternity").status == "skipped" and item(b, "maternity").case is None


def test_answer_invalid_for_one_item_is_reported_against_it_and_nothing_is_created(users):
    before = (Bundle.objects.count(), Case.objects.count())
    with pytest.raises(Invalid) as exc:
        bundles.submit(
            "newborn",
            users.zhangsan,
            {**ANSWERS, "bank_account": "12"},
            materials=files(users.zhangsan),
        )
    assert exc.value.fields["bank_account"].startswith("「生育保险待遇申领」")
    assert (Bundle.objects.count(), Case.objects.count()) == before


def test_idempotent_bundle_submit(users):
    mats = files(users.zhangsan)
    mats["child_photo"] = [png(users.zhangsan)]
    a = bundles.submit("newborn", users.zhangsan, ANSWERS, materials=mats, idempotency_key="nb-1")
    b = bundles.submit("newborn", users.zhangsan, ANSWERS, materials=mats, idempotency_key="nb-1")
    assert a.pk == b.pk and Case.objects.filter(bundle=a).count() == 3


def test_overdue_bundle_is_flagged_once(newborn):
    from datetime import timedelta

    later = newborn.due_at + timedelta(minutes=1)
    assert bundles.sweep_overdue(later) == 1
    assert bundles.sweep_overdue(later) == 0


def _bundle_file(tmp_path, body: str):
    cat = tmp_path / "cat"
    cat.mkdir()
    (cat / "roles.yaml").write_text((CATALOG / "roles.yaml").read_text("utf-8"), "utf-8")
    for f in (CATALOG / "newborn").glob("*.yaml"):
        (cat / f.name).write_text(f.read_text("utf-8"), "utf-8")
    (cat / "b.yaml").write_text(body, "utf-8")
    return [str(p) for p in load_catalog([cat]).problems]


HEAD = """format: 1
kind: bundle
code: b
name: 测试
applicant: person
time_limit: {working_days: 1}
"""


def test_bundle_check_reports_cycle_mapping_and_type_clash(tmp_path):
    problems = _bundle_file(
        tmp_path,
        HEAD
        + """items:
  - {key: a, matter: birth_certificate, needs: [c]}
  - key: c
    matter: hukou_registration
    needs: [a]
    receives: {birth_certificate_no: a.certificate}
  - {key: d, matter: vaccination_card, map: {no_such_field: x}}
  - {key: e, matter: maternity_benefit, map: {bank_account: birth_date}}
""",
    )
    text = "\n".join(problems)
    assert "b.yaml:8: items.0.needs: 依赖关系成环：a → c → a" in text
    assert (
        "b.yaml:13: items.2.map.no_such_field: 事项 'vaccination_card' 没有字段 'no_such_field'"
        in text
    )
    assert (
        "字段 'birth_date' 在 birth_certificate 中是 date 类型，在 maternity_benefit 中是 text"
        in text
    )
