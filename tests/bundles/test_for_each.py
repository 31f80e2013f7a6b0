"""`for_each` on a bundle item without a database: how the merged form and the split
treat a table that fans out, and the `tongban catalog check` errors (file:line) for its
misuse."""

from __future__ import annotations

import pytest

from tests.conftest import CATALOG
from tongban.engine import bundles as rules
from tongban.engine.loader import load_catalog

PACKS = ("resumption.yaml", "employee_pass.yaml", "epidemic_supplies.yaml")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The resumption bundle and its three matters, alone (other packs may be mid-edit)."""
    cat = tmp_path_factory.mktemp("cat")
    (cat / "roles.yaml").write_text((CATALOG / "roles.yaml").read_text("utf-8"), "utf-8")
    for name in PACKS:
        (cat / name).write_text((CATALOG / "packs" / name).read_text("utf-8"), "utf-8")
    bundle = (CATALOG / "bundles" / "resumption.yaml").read_text("utf-8")
    (cat / "bundle.yaml").write_text(bundle, "utf-8")
    result = load_catalog([cat])
    assert not result.problems
    matters = {m.spec.code: m.spec for m in result.matters}
    bundle = next(m.spec for m in result.bundles if m.spec.code == "resumption")
    return bundle, matters


def answers(rows: int = 2) -> dict:
    from tongban.services.demo_packs.resumption_bundle import answers as demo_answers

    return demo_answers(1, rows)


def test_the_merged_form_asks_shared_answers_once_and_row_answers_in_the_table(loaded):
    bundle, matters = loaded
    form = rules.merge(bundle, matters)
    keys = [f.key for f in form.fields]
    assert keys.count("company_name") == 1 and "employees" in keys
    assert "employee_id" not in keys and "resumption_receipt_no" not in keys
    assert "valid_from" not in keys and "resume_date" in keys  # mapped onto the filing's
    assert [m.key for m in form.materials].count("business_licence") == 1
    assert form.asked_by["employees"] == ("passes",)


def test_split_makes_one_plan_per_row_with_that_row_only(loaded):
    bundle, matters = loaded
    result = rules.split(bundle, matters, answers(3), {})
    passes = [p for p in result.plans if p.item == "passes"]
    assert [p.row for p in passes] == [0, 1, 2] and all(p.waiting for p in passes)
    ids = [p.data["employee_id"] for p in passes]
    assert len(set(ids)) == 3
    assert passes[0].data["valid_from"] == "2026-03-02"
    assert "employees" not in passes[0].data


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _problems(tmp_path, bundle_text: str) -> list[str]:
    cat = tmp_path / "cat"
    cat.mkdir()
    (cat / "roles.yaml").write_text((CATALOG / "roles.yaml").read_text("utf-8"), "utf-8")
    for name in PACKS:
        (cat / name).write_text((CATALOG / "packs" / name).read_text("utf-8"), "utf-8")
    (cat / "b.yaml").write_text(bundle_text, "utf-8")
    return [str(p) for p in load_catalog([cat]).problems]


HEAD = """format: 1
kind: bundle
code: b
name: 测试
applicant: enterprise
time_limit: {working_days: 1}
fields:
  - {key: note, label: 备注, type: text}
  - key: staff
    label: 员工
    type: table
    fields:
      - {key: employee_name, label: 姓名, type: text}
      - {key: employee_id, label: 身份证号码, type: text}
      - {key: shoe_size, label: 鞋码, type: number}
items:
  - {key: filing, matter: resumption_filing}
"""


def test_for_each_naming_a_non_table_field_is_refused_on_its_line(tmp_path):
    text = HEAD + "  - {key: passes, matter: employee_pass, for_each: note}\n"
    problems = _problems(tmp_path, text)
    line = line_of(text, "for_each: note")
    assert any(
        p.endswith(
            f"b.yaml:{line}: items.1.for_each: 字段 'note' 是 text 类型，不是表格；"
            "for_each 须是一件事自身 fields 中的表格字段（type: table），每行办一件"
        )
        for p in problems
    ), problems


def test_for_each_naming_an_unknown_field_gets_a_hint(tmp_path):
    text = HEAD + "  - {key: passes, matter: employee_pass, for_each: staf}\n"
    problems = _problems(tmp_path, text)
    line = line_of(text, "for_each: staf}")
    hint = (
        f"b.yaml:{line}: items.1.for_each: 'staf' 不是一件事自身 fields 中的字段"
        "（是不是 'staff'？）"
    )
    assert any(hint in p for p in problems), problems


def test_columns_must_fill_matter_fields_of_the_same_type(tmp_path):
    text = HEAD + "  - {key: passes, matter: employee_pass, for_each: staff}\n"
    problems = _problems(tmp_path, text)
    clash = (
        f"b.yaml:{line_of(text, 'key: employee_id')}: fields.1.fields.1.type: "
        "列 'employee_id' 是 text 类型，在事项 employee_pass 中是 id_card；请统一类型"
    )
    unused = (
        f"b.yaml:{line_of(text, 'key: shoe_size')}: fields.1.fields.2.key: "
        "列 'shoe_size' 不是事项 employee_pass 的字段"
    )
    assert any(clash in p for p in problems), problems
    assert any(unused in p for p in problems), problems


def test_no_item_may_receive_from_a_per_row_item(tmp_path):
    text = HEAD + (
        "  - {key: passes, matter: employee_pass, for_each: staff}\n"
        "  - key: supplies\n"
        "    matter: epidemic_supplies\n"
        "    needs: [passes]\n"
        "    receives: {delivery_address: passes.residence}\n"
    )
    problems = _problems(tmp_path, text)
    refused = (
        f"b.yaml:{line_of(text, 'receives:')}: items.2.receives.delivery_address: "
        "'passes' 逐行办理（for_each），有多件办件，不能从它接收"
    )
    assert any(refused in p for p in problems), problems


def test_the_shipped_catalog_passes(loaded):
    bundle, _ = loaded
    assert [i.key for i in bundle.items if i.for_each] == ["passes"]
