"""Catalog loading: YAML syntax and schema problems are reported at their file, line and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.loader_helpers import (
    ROAD,
    ROLES,
    edit,
    found,
    line_of,
    load,
    only_problem,
)
from tongban.engine.errors import CatalogError
from tongban.engine.loader import load_catalog, parse_matter

# -- YAML itself ------------------------------------------------------------------------------


def test_yaml_syntax_error_points_at_the_broken_line(tmp_path):
    text = edit("approve: {label: 准予许可, from:", "approve: {label: 准予许可 from:")
    line, path, message = only_problem(tmp_path, text)
    assert line == line_of(text, "approve: {label: 准予许可 from:")
    assert path == ""
    assert message.startswith("YAML 语法错误")


def test_tab_indentation_is_a_syntax_error_on_its_line(tmp_path):
    text = edit("  start: submitted", "\tstart: submitted")
    line, path, message = only_problem(tmp_path, text)
    assert (line, path) == (line_of(text, "\tstart: submitted"), "")
    assert "YAML 语法错误" in message


def test_syntax_error_raised_by_parse_matter_carries_the_problem():
    text = edit("approve: {label: 准予许可, from:", "approve: {label: 准予许可 from:")
    with pytest.raises(CatalogError) as exc:
        parse_matter(text, "x.yaml")
    assert [(p.file, p.line) for p in exc.value.problems] == [
        ("x.yaml", line_of(text, "approve: {label"))
    ]
    assert str(exc.value).startswith(f"x.yaml:{line_of(text, 'approve: {label')}: (file): ")


def test_duplicate_top_level_key_is_reported_at_the_second_one(tmp_path):
    text = edit("code: road_occupation\n", "code: road_occupation\ncode: road_occupation_2\n")
    line, path, message = only_problem(tmp_path, text)
    assert (line, path) == (line_of(text, "code: road_occupation_2"), "code")
    assert "重复的键" in message


def test_duplicate_key_inside_a_flow_mapping(tmp_path):
    text = edit("role: clerk, level: street,", "role: clerk, level: street, role: reviewer,")
    line, path, message = only_problem(tmp_path, text)
    assert (line, path) == (
        line_of(text, "level: street, role: reviewer"),
        "workflow.states.submitted.role",
    )
    assert "重复的键" in message


def test_empty_file_and_non_mapping_file(tmp_path):
    result = load(tmp_path, {"empty.yaml": "", "list.yaml": "- a\n- b\n"})
    assert found(result, tmp_path) == [
        ("empty.yaml", 1, "", "文件为空"),
        ("list.yaml", 1, "", "事项文件的顶层应为映射（键: 值）"),
    ]


def test_python_object_tag_on_a_scalar_is_refused(tmp_path):
    text = edit("name: 临时占用城市道路审批", "name: !!python/object:os.system 临时占用")
    line, path, message = only_problem(tmp_path, text)
    assert (line, path) == (line_of(text, "!!python/object"), "name")
    assert message == "不支持的 YAML 标签 tag:yaml.org,2002:python/object:os.system"


def test_custom_tag_is_refused(tmp_path):
    text = edit("category: 城乡建设", "category: !secret 城乡建设")
    assert only_problem(tmp_path, text) == (
        line_of(text, "!secret"),
        "category",
        "不支持的 YAML 标签 !secret",
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "body: {level: district",
            "body: !!python/object:tongban.Body {level: district",
        ),
        ("keywords: [占道", "keywords: !!python/object/apply:os.system [占道"),
    ],
    ids=["mapping", "sequence"],
)
def test_python_object_tag_on_a_collection_is_refused(tmp_path, old, new):
    text = edit(old, new)
    line, path, message = only_problem(tmp_path, text)
    assert line == line_of(text, "!!python/object")
    assert "不支持的 YAML 标签" in message


def test_non_utf8_matter_file_is_reported_and_the_rest_still_load(tmp_path):
    gbk = edit("code: road_occupation", "code: road_occupation_gbk").encode("gbk")
    result = load(tmp_path, {"a.yaml": ROAD, "b.yaml": gbk})
    assert found(result, tmp_path) == [("b.yaml", 1, "", "文件不是 UTF-8 编码")]
    assert [m.spec.code for m in result.matters] == ["road_occupation"]


def test_non_utf8_roles_file_is_reported(tmp_path):
    (tmp_path / "roles.yaml").write_bytes(ROLES.encode("gbk"))
    (tmp_path / "m.yaml").write_text(ROAD, encoding="utf-8")
    result = load_catalog([tmp_path])
    assert ("roles.yaml", 1) in [(Path(p.file).name, p.line) for p in result.problems]


# -- schema (pydantic) problems ----------------------------------------------------------------


def test_misspelt_key_is_unknown_and_the_real_key_is_missing(tmp_path):
    text = edit("time_limit: {working_days: 5}", "time_limt: {working_days: 5}")
    result = load(tmp_path, {"m.yaml": text})
    assert found(result, tmp_path) == [
        # A missing key is reported where its mapping begins (the first key of the file).
        ("m.yaml", line_of(text, "format: 1"), "time_limit", "缺少必填项"),
        (
            "m.yaml",
            line_of(text, "time_limt:"),
            "time_limt",
            "未知的键（拼写错误？请对照 docs/catalog.md）",
        ),
    ]


def test_misspelt_key_deep_inside_the_workflow(tmp_path):
    text = edit(
        "approver, level: district, time_limit: {working_days: 1}, escalate_to: head}",
        "approver, level: district, time_limit: {working_days: 1}, escalte_to: head}",
    )
    assert only_problem(tmp_path, text) == (
        line_of(text, "escalte_to"),
        "workflow.states.approval.escalte_to",
        "未知的键（拼写错误？请对照 docs/catalog.md）",
    )


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("max_times: 1", "max_times: many", "workflow.actions.extend.max_times", "应为整数"),
        (
            "pause_clock: true",
            "pause_clock: sometimes",
            "workflow.states.correction.pause_clock",
            "应为 true 或 false",
        ),
        ("min: 1, max: 2000", "min: 1, max: lots", "fields.3.max", "应为数字"),
        (
            "legal_basis:\n  - 《城市道路管理条例》第三十一条",
            "legal_basis: 《城市道路管理条例》第三十一条",
            "legal_basis",
            "应为列表（每项以 - 开头）",
        ),
        (
            "time_limit: {working_days: 5}",
            "time_limit: {working_days: 0}",
            "time_limit.working_days",
            "应 > 0.0",
        ),
        (
            "applicant: any",
            "applicant: anyone",
            "applicant",
            "取值必须是 'person', 'enterprise' or 'any' 之一",
        ),
    ],
    ids=["int", "bool", "number", "list", "bound", "literal"],
)
def test_wrong_type_is_reported_on_its_line(tmp_path, old, new, path, message):
    text = edit(old, new)
    assert only_problem(tmp_path, text) == (line_of(text, new.splitlines()[0]), path, message)


def test_several_problems_in_one_file_are_all_reported(tmp_path):
    text = edit("max_times: 1", "max_times: many")
    text = edit("pause_clock: true", "pause_clock: sometimes", text)
    result = load(tmp_path, {"m.yaml": text})
    assert [(p[1], p[2]) for p in found(result, tmp_path)] == [
        (line_of(text, "pause_clock"), "workflow.states.correction.pause_clock"),
        (line_of(text, "max_times"), "workflow.actions.extend.max_times"),
    ]
