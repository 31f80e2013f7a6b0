"""Refusals reach people in their words: role labels, not role codes."""

from tongban.engine.errors import WRONG_ROLE, Refusal
from tongban.services.catalog import role_labels
from tongban.services.errors import from_refusal


def test_wrong_role_names_the_roles_by_their_labels():
    refusal = Refusal(
        WRONG_ROLE,
        "您没有执行「受理」的角色（需要：clerk、applicant）",
        roles=("clerk", "applicant"),
    )
    message = str(from_refusal(refusal))
    assert message == f"您没有执行「受理」的角色（需要：{role_labels()['clerk']}、申请人）"
    assert "clerk" not in message


def test_other_refusals_keep_their_message():
    refusal = Refusal("comment_required", "请填写意见")
    assert str(from_refusal(refusal)) == "请填写意见"
