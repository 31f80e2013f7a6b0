"""Catalog loading: semantic checks (states, roles, numbering, conditions, certificates)."""

from __future__ import annotations

import pytest

from tests.engine.loader_helpers import (
    edit,
    found,
    line_of,
    load,
    only_problem,
)

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
