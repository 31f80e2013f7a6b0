"""Catalog loading as a whole: the demo catalog, problems across files, roles.yaml, directories."""

from __future__ import annotations

from pathlib import Path

from tests.engine.conftest import CATALOG, ROAD_YAML, ROLES_YAML
from tests.engine.loader_helpers import (
    ROAD,
    ROLES,
    edit,
    found,
    line_of,
    load,
)
from tongban.engine.errors import Problem
from tongban.engine.loader import load_catalog, parse_matter

# -- the demo catalog -------------------------------------------------------------------------


def test_the_demo_catalog_is_valid():
    result = load_catalog([CATALOG])
    assert result.ok, "\n".join(map(str, result.problems))
    assert result.roles is not None and "clerk" in result.roles.roles
    codes = {m.spec.code for m in result.matters}
    assert "road_occupation" in codes
    # Every YAML file under catalog/ except roles.yaml became a matter.
    yaml_files = [p for p in CATALOG.rglob("*.y*ml") if p.name != "roles.yaml"]
    assert len(result.matters) == len(yaml_files) == len(codes)


def test_a_matter_file_alone_finds_roles_yaml_in_a_parent_folder():
    result = load_catalog([ROAD_YAML])
    assert result.ok, result.problems
    assert result.roles is not None
    assert [m.spec.code for m in result.matters] == ["road_occupation"]


def test_the_digest_changes_with_the_text(tmp_path):
    a = parse_matter(ROAD, "a.yaml")
    b = parse_matter(edit("name: 临时占用城市道路审批", "name: 临时占用道路审批"), "a.yaml")
    assert a.digest != b.digest
    assert a.digest == parse_matter(ROAD, "other-name.yaml").digest


def test_problem_prints_as_file_line_path_message():
    assert str(Problem("m.yaml", 12, "workflow.start", "未知的环节")) == (
        "m.yaml:12: workflow.start: 未知的环节"
    )
    assert str(Problem("m.yaml", 1, "", "文件为空")) == "m.yaml:1: (file): 文件为空"


# -- across files ------------------------------------------------------------------------------


def test_same_field_key_with_two_types_in_two_files(tmp_path):
    other = edit("code: road_occupation", "code: road_closure")
    other = edit(
        "{key: area, label: 占用面积, type: number, min: 1, max: 2000, unit: 平方米}",
        "{key: area, label: 占用面积, type: text}",
        other,
    )
    result = load(tmp_path, {"a.yaml": ROAD, "b.yaml": other})
    first = str(tmp_path / "a.yaml")
    assert found(result, tmp_path) == [
        (
            "b.yaml",
            line_of(other, "{key: area,"),
            "fields.3.type",
            f"字段 'area' 在 {first} 中是 number 类型，这里是 text；"
            "同一个键在整个目录中必须是同一种类型",
        )
    ]


def test_duplicate_matter_code(tmp_path):
    result = load(tmp_path, {"a.yaml": ROAD, "b.yaml": ROAD})
    assert found(result, tmp_path) == [
        (
            "b.yaml",
            line_of(ROAD, "code: road_occupation"),
            "code",
            f"事项代码 'road_occupation' 与 {tmp_path / 'a.yaml'} 重复",
        )
    ]


def test_missing_roles_yaml(tmp_path):
    result = load(
        tmp_path, {"m.yaml": edit("role: clerk, level", "role: nobody, level")}, roles=False
    )
    assert [(p.file, p.line, p.path) for p in result.problems] == [("roles.yaml", 1, "")]
    assert "找不到角色表 roles.yaml" in result.problems[0].message
    # The matter itself still parses (roles cannot be checked without the table).
    assert [m.spec.code for m in result.matters] == ["road_occupation"]
    assert result.roles is None


def test_bad_roles_yaml_is_reported_on_its_line(tmp_path):
    (tmp_path / "m.yaml").write_text(ROAD, encoding="utf-8")
    bad = edit("  clerk: {label: 窗口受理员,", "  clerk: {lable: 窗口受理员,", ROLES)
    (tmp_path / "roles.yaml").write_text(bad, encoding="utf-8")
    result = load_catalog([tmp_path])
    problems = [(Path(p.file).name, p.line, p.path) for p in result.problems]
    assert ("roles.yaml", line_of(bad, "lable"), "roles.clerk.lable") in problems


def test_a_directory_loads_every_yaml_and_yml_file_below_it(tmp_path):
    second = edit("code: road_occupation", "code: road_occupation_night")
    third = edit("code: road_occupation", "code: road_occupation_event")
    result = load(
        tmp_path,
        {"a.yaml": ROAD, "night/b.yml": second, "night/deeper/c.yaml": third, "notes.txt": "x"},
    )
    assert result.ok, result.problems
    assert sorted(m.spec.code for m in result.matters) == [
        "road_occupation",
        "road_occupation_event",
        "road_occupation_night",
    ]


def test_a_missing_path_is_reported(tmp_path):
    result = load_catalog([ROLES_YAML, tmp_path / "nope.yaml"])
    assert [(p.file, p.line, p.message) for p in result.problems] == [
        (str(tmp_path / "nope.yaml"), 1, "文件或目录不存在")
    ]


def test_problems_from_several_files_are_collected_not_stopped_at_the_first(tmp_path):
    result = load(
        tmp_path,
        {
            "a.yaml": edit("  start: submitted", "\tstart: submitted"),
            "b.yaml": edit("code: road_occupation", "code: Road"),
            "c.yaml": edit("role: clerk, level", "role: clerc, level"),
        },
    )
    assert [p[0] for p in found(result, tmp_path)] == ["a.yaml", "b.yaml", "c.yaml"]
