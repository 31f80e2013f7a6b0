"""Field types through `validate_fields`: clean values and per-field Chinese messages."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.engine.conftest import SH
from tests.engine.fields_helpers import (
    COMMITMENT_TEXT,
    DRIVERS,
    bad,
    ok,
    one,
    spec,
)

# -- text, textarea, address ------------------------------------------------------------------


def test_text_is_trimmed_and_numbers_become_text():
    f = spec("text")
    assert ok(f, "  张三 ") == "张三"
    assert ok(f, 12345) == "12345"


@pytest.mark.parametrize("raw", [True, {"a": 1}, ["a"]])
def test_text_refuses_what_is_not_text(raw):
    assert bad(spec("text"), raw) == "应为文字"


def test_text_lengths():
    assert bad(spec("text"), "字" * 201) == "最多 200 个字，现在 201 个字"
    assert ok(spec("textarea"), "字" * 2000) == "字" * 2000
    assert bad(spec("textarea"), "字" * 2001) == "最多 2000 个字，现在 2001 个字"
    assert bad(spec("address", max_length=10), "相城区元和街道澄阳路八十八号") == (
        "最多 10 个字，现在 14 个字"
    )
    assert bad(spec("text", min_length=2), "张") == "至少 2 个字"
    assert bad(spec("text"), "a\x00b") == "含有不允许的控制字符"


# -- number ------------------------------------------------------------------------------------


def test_number_accepts_what_people_type():
    f = spec("number")
    assert ok(f, "1,000") == 1000
    assert ok(f, "1，000") == 1000
    assert ok(f, " 12.5 ") == 12.5
    assert ok(f, 30.0) == 30 and isinstance(ok(f, 30.0), int)
    assert ok(f, "0") == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [(True, "应为数字"), ("十二", "应为数字"), ("inf", "应为有限的数字"), ([1], "应为数字")],
)
def test_number_refusals(raw, message):
    assert bad(spec("number"), raw) == message


def test_number_bounds_and_integers():
    f = spec("number", min=1, max=2000, unit="平方米")
    assert bad(f, "0.5") == "不能小于 1平方米"
    assert bad(f, 2000.5) == "不能大于 2000平方米"
    assert ok(f, "2000") == 2000
    assert bad(spec("number", integer=True), "1.5") == "应为整数"
    assert ok(spec("number", integer=True), "3") == 3


# -- date and datetime -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["2026-03-01", "2026/3/1", "2026.3.1", "2026年3月1日", date(2026, 3, 1)]
)
def test_date_forms(raw):
    assert ok(spec("date"), raw) == "2026-03-01"


def test_date_from_a_datetime_keeps_the_day():
    assert ok(spec("date"), datetime(2026, 3, 1, 23, 59, tzinfo=SH)) == "2026-03-01"


def test_date_refusals():
    assert bad(spec("date"), "2026-02-30") == "日期格式不对，应为 2026-03-01"
    assert bad(spec("date"), "下周一") == "日期格式不对，应为 2026-03-01"
    assert bad(spec("date"), 20260301) == "应为日期，格式如 2026-03-01"


def test_datetime_is_stored_in_beijing_time():
    f = spec("datetime")
    assert ok(f, "2026-03-01 08:30") == "2026-03-01T08:30+08:00"
    assert ok(f, "2026-03-01T00:30:00+00:00") == "2026-03-01T08:30+08:00"
    assert ok(f, "2026/03/01 08:30") == "2026-03-01T08:30+08:00"
    assert bad(f, "明早八点") == "时间格式不对，应为 2026-03-01 08:30"
    assert bad(f, 5) == "应为日期时间，格式如 2026-03-01 08:30"


# -- choice and multichoice --------------------------------------------------------------------


def test_choice():
    f = spec("choice", options=("施工", "临时设施", "其他"))
    assert ok(f, " 施工 ") == "施工"
    assert bad(f, "摆摊") == "请从以下选项中选择：施工、临时设施、其他"
    assert bad(f, 1) == "请从以下选项中选择：施工、临时设施、其他"


def test_multichoice_is_stored_in_option_order_without_repeats():
    f = spec("multichoice", options=("消防", "环保", "交通"))
    assert ok(f, ["交通", "消防", "交通"]) == ["消防", "交通"]
    assert ok(f, "环保") == ["环保"]
    assert bad(f, ["交通", "卫生"]) == "无效的选项；可选：消防、环保、交通"
    assert bad(f, {"消防": True}) == "应为选项列表"
    assert bad(f, []) == "必填"


# -- boolean -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [
    ("是", True), ("同意", True), ("yes", True), (" TRUE ", True), ("on", True), (1, True),
    (True, True), ("否", False), ("no", False), ("0", False), (0, False), (False, False),
])  # fmt: skip
def test_boolean_words(raw, value):
    assert ok(spec("boolean"), raw) is value


@pytest.mark.parametrize("raw", ["也许", 2, {"a": 1}])
def test_boolean_refusals(raw):
    assert bad(spec("boolean"), raw) == "应为 是 或 否"


@pytest.mark.parametrize("raw", ["", None, []])
def test_unanswered_boolean_is_not_a_no(raw):
    # Required: the applicant must choose; optional: nothing is stored.
    assert bad(spec("boolean"), raw) == "请选择是或否"


# -- identifiers -------------------------------------------------------------------------------


def test_phone():
    f = spec("phone")
    assert ok(f, "138 1234 5678") == "13812345678"
    assert ok(f, "+86 138-1234-5678") == "13812345678"
    assert ok(f, "0512-65221234") == "0512-65221234"
    assert bad(f, "65221234") == "固定电话请加区号，如0512-65221234"
    assert bad(f, "12345") == "手机号码应为11位数字，以1开头"


def test_id_card():
    f = spec("id_card")
    assert ok(f, "11010519491231002x") == "11010519491231002X"
    assert ok(f, "110105491231002") == "11010519491231002X"  # legacy 15 digits upgraded
    assert bad(f, "110105194912310021") == "身份证号码校验位不正确，请核对最后一位"
    assert bad(spec("id_card", allow_legacy=False), "110105491231002") == (
        "请填写18位身份证号码，15位旧号码已停用"
    )


def test_uscc_and_plate():
    assert ok(spec("uscc"), "91350100m000100y43") == "91350100M000100Y43"
    assert bad(spec("uscc"), "91350100M000100Y44") == "统一社会信用代码校验位不正确，请核对最后一位"
    assert ok(spec("plate"), "苏E·12345") == "苏E12345"
    assert bad(spec("plate"), "苏EI2345") == "车牌号码只能包含数字和字母（不含I、O）"


def test_geo():
    f = spec("geo")
    assert ok(f, {"lat": 31.3, "lng": 120.6}) == {"lat": 31.3, "lng": 120.6}
    assert ok(f, "31.312345678, 120.6") == {"lat": 31.3123457, "lng": 120.6}
    assert bad(f, [0, 0]) == "坐标不在中国境内，请检查经纬度是否填反"
    assert bad(f, "120.6,31.3") == "纬度应在-90到90之间，请检查经纬度是否填反"


def test_file_is_a_sha256_reference():
    f = spec("file")
    digest = "ab" * 32
    assert ok(f, digest) == digest
    assert bad(f, "ab" * 31) == "请上传文件"
    assert bad(f, "AB" * 32) == "请上传文件"
    assert bad(f, None) == "请上传文件"


# -- commitment --------------------------------------------------------------------------------


def test_commitment_stores_the_catalog_text_not_what_the_client_sent():
    f = spec("commitment", text=COMMITMENT_TEXT)
    stored = {"accepted": True, "text": COMMITMENT_TEXT}
    assert ok(f, {"accepted": True}) == stored
    assert ok(f, {"accepted": True, "text": "我什么也没有承诺"}) == stored
    assert ok(f, True) == stored
    assert ok(f, "同意") == stored


@pytest.mark.parametrize("raw", [{"accepted": False}, False, "否", {"text": COMMITMENT_TEXT}])
def test_commitment_not_accepted(raw):
    assert bad(spec("commitment", text=COMMITMENT_TEXT), raw) == "请阅读并勾选承诺"


# -- table -------------------------------------------------------------------------------------


def test_table_rows_are_cleaned_one_by_one():
    rows = [
        {"name": " 张三 ", "id_no": "11010519491231002x"},
        {"name": "李四", "id_no": "110105491231002", "phone": "138 1234 5678", "extra": 1},
    ]
    assert ok(DRIVERS, rows) == [
        {"name": "张三", "id_no": "11010519491231002X"},
        {"name": "李四", "id_no": "11010519491231002X", "phone": "13812345678"},
    ]


def test_table_errors_name_the_row_and_the_column():
    rows = [
        {"name": "张三", "id_no": "11010519491231002X"},
        {"name": "", "id_no": "110105194912310021"},
        "王五",
    ]
    assert bad(DRIVERS, rows) == (
        "第2行 姓名：必填；第2行 身份证号：身份证号码校验位不正确，请核对最后一位；第3行格式不对"
    )


def test_table_row_counts():
    row = {"name": "张三", "id_no": "11010519491231002X"}
    assert bad(DRIVERS, [row] * 4) == "最多 3 行"
    assert bad(DRIVERS, []) == "必填"
    assert bad(DRIVERS, {"name": "张三"}) == "应为若干行"
    two = spec("table", fields=DRIVERS.fields, min_rows=2, required=False)
    assert bad(two, [row]) == "至少填写 2 行"
    assert one(two, []) == (None, None)
