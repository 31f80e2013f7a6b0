"""Catalog loading: every problem an author can make is reported at its file, line and path.

Bad catalogs are made by small edits of the demo matter's text in a temporary directory;
the expected line is found in the edited text (the line the author has to change), so the
tests stay exact if the demo file grows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.conftest import CATALOG, ROAD_YAML, ROLES_YAML
from tongban.engine.errors import CatalogError, Problem
from tongban.engine.loader import CatalogResult, load_catalog, parse_matter

ROAD = ROAD_YAML.read_text(encoding="utf-8")
ROLES = ROLES_YAML.read_text(encoding="utf-8")


def edit(old: str, new: str, text: str = ROAD) -> str:
    assert text.count(old) == 1, f"edit anchor not unique or missing: {old!r}"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """1-based line of the only occurrence of `needle`."""
    assert text.count(needle) == 1, f"needle not unique or missing: {needle!r}"
    return text[: text.index(needle)].count("\n") + 1


def load(tmp_path: Path, files: dict[str, str | bytes], *, roles: bool = True) -> CatalogResult:
    if roles:
        (tmp_path / "roles.yaml").write_text(ROLES, encoding="utf-8")
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return load_catalog([tmp_path])


def found(result: CatalogResult, tmp_path: Path) -> list[tuple[str, int, str, str]]:
    """The problems as (file relative to tmp_path, line, path, message)."""
    return [
        (str(Path(p.file).relative_to(tmp_path)), p.line, p.path, p.message)
        for p in result.problems
    ]


def only_problem(tmp_path: Path, text: str) -> tuple[int, str, str]:
    """Load one edited matter; it must give exactly one problem, in m.yaml: (line, path, msg)."""
    result = load(tmp_path, {"m.yaml": text})
    problems = found(result, tmp_path)
    assert len(problems) == 1, problems
    file, line, path, message = problems[0]
    assert file == "m.yaml"
    return line, path, message


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


# -- semantic checks ---------------------------------------------------------------------------


def test_unknown_state_in_to(tmp_path):
    text = edit("to: review, style: primary}", "to: reveiw, style: primary}")
    result = load(tmp_path, {"m.yaml": text})
    problems = found(result, tmp_path)
    assert (
        "m.yaml",
        line_of(text, "reveiw"),
        "workflow.actions.accept.to",
        "未知的环节 'reveiw'（是不是 'review'？）",
    ) in problems
    # Nothing else leads out of the first step, so everything after it is unreachable too.
    assert {p[2] for p in problems} == {
        "workflow.actions.accept.to",
        "workflow.states.review",
        "workflow.states.cosign",
        "workflow.states.approval",
        "workflow.states.approved",
    }


def test_unknown_state_in_from(tmp_path):
    text = edit("accept: {label: 受理, from: submitted", "accept: {label: 受理, from: submited")
    problems = found(load(tmp_path, {"m.yaml": text}), tmp_path)
    assert (
        "m.yaml",
        line_of(text, "from: submited"),
        "workflow.actions.accept.from.0",
        "未知的环节 'submited'（是不是 'submitted'？）",
    ) in problems


def test_unknown_state_in_a_from_list_names_the_item(tmp_path):
    text = edit(
        "from: [submitted, review], to: correction", "from: [submitted, reviews], to: correction"
    )
    assert only_problem(tmp_path, text) == (
        line_of(text, "reviews"),
        "workflow.actions.request_correction.from.1",
        "未知的环节 'reviews'（是不是 'review'？）",
    )


def test_unknown_start_state(tmp_path):
    text = edit("  start: submitted", "  start: submited")
    assert only_problem(tmp_path, text) == (
        line_of(text, "start: submited"),
        "workflow.start",
        "未知的环节 'submited'（是不是 'submitted'？）",
    )


def test_unknown_state_in_back_to(tmp_path):
    text = edit("back_to: [review, submitted]", "back_to: [review, submited]")
    assert only_problem(tmp_path, text) == (
        line_of(text, "submited"),
        "workflow.actions.send_back.back_to.1",
        "未知的环节 'submited'（是不是 'submitted'？）",
    )


def test_unreachable_state(tmp_path):
    text = edit(
        "    approved: {label",
        "    archive: {label: 归档, role: clerk, level: street}\n    approved: {label",
    )
    text = edit(
        "  actions:\n",
        "  actions:\n    archive_done: {label: 归档完成, from: archive, to: approved}\n",
        text,
    )
    assert only_problem(tmp_path, text) == (
        line_of(text, "    archive: {"),
        "workflow.states.archive",
        "环节 'archive' 从起始环节无法到达",
    )


def test_dead_end_state(tmp_path):
    text = edit(
        "    approved: {label",
        "    site_visit: {label: 现场勘查, role: reviewer, level: street}\n    approved: {label",
    )
    text = edit(
        "  actions:\n",
        "  actions:\n    visit: {label: 现场勘查, from: review, to: site_visit}\n",
        text,
    )
    assert only_problem(tmp_path, text) == (
        line_of(text, "    site_visit: {"),
        "workflow.states.site_visit",
        "环节 'site_visit' 没有任何可执行的动作，案件会停在这里",
    )


def test_state_with_only_transfer_is_a_dead_end(tmp_path):
    text = edit(
        "    approved: {label",
        "    site_visit: {label: 现场勘查, role: reviewer, level: street}\n    approved: {label",
    )
    text = edit(
        "  actions:\n",
        "  actions:\n    visit: {label: 现场勘查, from: review, to: site_visit}\n",
        text,
    )
    text = edit(
        "from: [review, approval], kind: transfer",
        "from: [review, approval, site_visit], kind: transfer",
        text,
    )
    line, path, message = only_problem(tmp_path, text)
    assert (line, path) == (line_of(text, "    site_visit: {"), "workflow.states.site_visit")


def test_state_reachable_only_by_back_to_is_unreachable(tmp_path):
    text = edit("back_to: [review, submitted]", "back_to: [review, submitted, recheck]")
    text = edit(
        "    approved: {label",
        "    recheck: {label: 复核, role: reviewer, level: street}\n    approved: {label",
        text,
    )
    text = edit(
        "approve: {label: 准予许可, from: approval,",
        "approve: {label: 准予许可, from: [approval, recheck],",
        text,
    )
    line, path, message = only_problem(tmp_path, text)
    assert (line, path) == (line_of(text, "    recheck: {"), "workflow.states.recheck")
    assert "无法到达" in message


def test_action_out_of_a_final_state(tmp_path):
    text = edit(
        "  actions:\n",
        "  actions:\n    reopen: {label: 重新办理, from: approved, to: review, by: [approver]}\n",
    )
    assert only_problem(tmp_path, text) == (
        line_of(text, "reopen:"),
        "workflow.actions.reopen.from.0",
        "不能从终态 'approved' 再执行动作",
    )


def test_unknown_role_with_hint(tmp_path):
    text = edit("role: clerk, level: street", "role: clerc, level: street")
    assert only_problem(tmp_path, text) == (
        line_of(text, "clerc"),
        "workflow.states.submitted.role",
        "未知的角色 'clerc'（是不是 'clerk'？）；角色须在 roles.yaml 中定义",
    )


def test_unknown_role_in_sign_roles_and_by(tmp_path):
    text = edit("roles: [urban_mgmt, traffic_police]", "roles: [urban_mgmt, trafic_police]")
    text = edit(
        "from: [submitted, review], to: correction, comment: required}",
        "from: [submitted, review], to: correction, comment: required, by: [clerk, reviwer]}",
        text,
    )
    result = load(tmp_path, {"m.yaml": text})
    assert found(result, tmp_path) == [
        (
            "m.yaml",
            line_of(text, "trafic_police"),
            "workflow.states.cosign.sign.roles.1",
            "未知的角色 'trafic_police'（是不是 'traffic_police'？）；角色须在 roles.yaml 中定义",
        ),
        (
            "m.yaml",
            line_of(text, "reviwer"),
            "workflow.actions.request_correction.by.1",
            "未知的角色 'reviwer'（是不是 'reviewer'？）；角色须在 roles.yaml 中定义",
        ),
    ]


def test_misspelt_builtin_role_gets_a_hint(tmp_path):
    text = edit("by: [applicant], edits", "by: [aplicant], edits")
    line, path, message = only_problem(tmp_path, text)
    assert "是不是 'applicant'" in message


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("苏相建占〔{year}〕{seq}", "序号位数必须写明，1 到 12 位，例如 {seq:5}"),
        ("苏相建占〔{yaer}〕{seq:5}", "编号规则中有未知的占位符 ['yaer']"),
        ("苏相建占〔{year}〕", "编号规则必须恰好包含一个 {seq:位数}"),
        ("苏相建占〔{year〕{seq:5}", "编号规则中的花括号不成对"),
    ],
    ids=["no-width", "unknown-token", "no-seq", "unbalanced"],
)
def test_bad_numbering_pattern(tmp_path, pattern, message):
    text = edit('pattern: "苏相建占〔{year}〕{seq:5}"', f'pattern: "{pattern}"')
    line, path, msg = only_problem(tmp_path, text)
    assert (line, path) == (line_of(text, "pattern:"), "outputs.certificates.0.numbering.pattern")
    assert msg.startswith(message)


def test_condition_on_an_unknown_field(tmp_path):
    text = edit(
        "approve: {label: 准予许可, from: approval, to: approved, style: primary}",
        "approve: {label: 准予许可, from: approval, to: approved, style: primary,\n"
        "              when: {field: areaa, op: le, value: 500}}",
    )
    assert only_problem(tmp_path, text) == (
        line_of(text, "areaa"),
        "workflow.actions.approve.when.field",
        "未知的字段 'areaa'（是不是 'area'？）",
    )


def test_condition_nested_in_any_on_an_unknown_field(tmp_path):
    text = edit(
        "approve: {label: 准予许可, from: approval, to: approved, style: primary}",
        "approve:\n"
        "      label: 准予许可\n"
        "      from: approval\n"
        "      to: approved\n"
        "      when:\n"
        "        any:\n"
        "          - {field: area, op: le, value: 500}\n"
        "          - {field: purpse, op: eq, value: 施工}\n",
    )
    assert only_problem(tmp_path, text) == (
        line_of(text, "purpse"),
        "workflow.actions.approve.when.any.1.field",
        "未知的字段 'purpse'（是不是 'purpose'？）",
    )


def test_condition_op_true_written_plainly(tmp_path):
    text = edit(
        "approve: {label: 准予许可, from: approval, to: approved, style: primary}",
        "approve: {label: 准予许可, from: approval, to: approved, style: primary,\n"
        "              when: {field: area, op: not_empty}}\n"
        "    approve_small: {label: 准予许可, from: approval, to: approved,\n"
        "                    when: {field: safety_commitment, op: true}}",
    )
    result = load(tmp_path, {"m.yaml": text})
    assert result.ok, found(result, tmp_path)


def test_edits_of_an_unknown_field(tmp_path):
    text = edit('edits: ["*"]', "edits: [location, areaa]")
    assert only_problem(tmp_path, text) == (
        line_of(text, "areaa"),
        "workflow.actions.resubmit.edits.1",
        "未知的字段 'areaa'（是不是 'area'？）",
    )


def test_certificate_references_unknown_fields(tmp_path):
    text = edit("show_fields: [location, area, purpose]", "show_fields: [location, areas]")
    text = edit("holder_field: applicant_name", "holder_field: applicant", text)
    result = load(tmp_path, {"m.yaml": text})
    assert found(result, tmp_path) == [
        (
            "m.yaml",
            line_of(text, "holder_field"),
            "outputs.certificates.0.holder_field",
            "未知的字段 'applicant'（是不是 'applicant_name'？）",
        ),
        (
            "m.yaml",
            line_of(text, "show_fields"),
            "outputs.certificates.0.show_fields.1",
            "未知的字段 'areas'（是不是 'area'？）",
        ),
    ]


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
