"""The kind descriptions and the row validator, without a database."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.registry.util import bad_check_digit, credit_code, id_number
from tongban.engine.validators import CHINA_MESSAGE, ValidationError, gcj02_to_wgs84
from tongban.registry.kinds import KINDS, ORG
from tongban.registry.validate import FORMULA, OrgRef, RowContext, validate_row
from tongban.registry.xlsx import CellError, Formula

ORG_REF = OrgRef(7, "32050710300101", "湘城社区第一网格", {"j_grid": "32050710300101"})


def resolve(text: str) -> OrgRef:
    if text in ("32050710300101", "湘城社区第一网格"):
        return ORG_REF
    raise ValidationError(f"找不到网格或社区“{text}”")


CTX = RowContext(resolve_org=resolve)


def check(kind: str, ctx: RowContext = CTX, **cells):
    return validate_row(KINDS[kind], {ORG: "32050710300101", **cells}, ctx)


def test_every_kind_matches_its_model():
    from tongban.store import models

    for kind in KINDS.values():
        model = getattr(models, kind.model)
        for col in kind.columns:
            field = model._meta.get_field(col.key)
            assert field.verbose_name == col.header, (kind.name, col.key)
            if hasattr(field, "max_length") and field.max_length and col.type == "text":
                assert field.max_length >= col.max_length, (kind.name, col.key)
        key_fields = [k for k in kind.natural_key]
        if len(key_fields) == 1:
            assert model._meta.get_field(key_fields[0]).unique, kind.name
        else:
            constraints = [set(c.fields) for c in model._meta.constraints]
            assert set(key_fields) in constraints, kind.name
        assert {*kind.title, *kind.search, *kind.listed, *kind.filters} <= set(kind.by_key)


def test_tag_words_never_contain_one_another():
    # Filtering by tag is a substring match on the stored "a、b" text.
    for kind in KINDS.values():
        for col in kind.columns:
            for a in col.choices:
                assert not any(a != b and a in b for b in col.choices), (col.key, a)
                assert "、" not in a


def test_good_person_row_is_normalised():
    number = id_number(5)
    r = check(
        "person",
        姓名=None,
        name="  张三 ",
        id_number=number.lower(),
        phone="+86 139-1234-5678",
        tags="志愿者，党员 党员",
        health_tags=None,
    )
    assert r.ok, r.problems
    assert r.values["name"] == "张三"
    assert r.values["id_number"] == number
    assert r.values["phone"] == "13912345678"
    assert r.values["tags"] == "党员、志愿者"  # vocabulary order, duplicates dropped
    assert r.values[ORG] is ORG_REF


@pytest.mark.parametrize(
    ("cells", "key", "reason"),
    [
        ({"id_number": bad_check_digit(id_number(1))}, "id_number", "身份证号码校验位不正确"),
        ({"id_number": 3.20507198001011e17}, "id_number", "被 Excel 当成数字保存"),
        ({"id_number": None}, "id_number", "“身份证号码”为必填项"),
        ({"tags": "党员、会计"}, "tags", "“会计”不在可选范围内"),
        ({ORG: "火星社区"}, ORG, "找不到网格或社区“火星社区”"),
        ({"phone": "12345"}, "phone", "手机号码应为11位数字"),
        ({"name": Formula("A1&B1")}, "name", FORMULA),
        ({"address": CellError("#N/A")}, "address", "错误值 #N/A"),
        ({"name": "张" * 51}, "name", "超过 50 个字"),
    ],
)
def test_bad_person_cells(cells, key, reason):
    base = {"name": "张三", "id_number": id_number(1)}
    r = check("person", **{**base, **cells})
    assert not r.ok and r.values == {}
    assert [p.keys for p in r.problems] == [(key,)]
    assert reason in r.problems[0].reason


def test_health_tags_need_a_health_role():
    cells = {"name": "张三", "id_number": id_number(1), "health_tags": "透析"}
    r = check("person", **cells)
    assert [p.keys for p in r.problems] == [("health_tags",)]
    assert "仅卫健工作人员可以填写" in r.problems[0].reason
    allowed = RowContext(resolve_org=resolve, may_write_health=lambda org: True)
    assert check("person", allowed, **cells).values["health_tags"] == "透析"


def test_enterprise_credit_code_and_numbers():
    r = check(
        "enterprise",
        name="苏州阳澄湖农产品有限公司",
        credit_code=credit_code(1),
        category="企业",
        employees=12.0,
    )
    assert r.ok and r.values["employees"] == 12
    bad = credit_code(1)[:-1] + ("0" if credit_code(1)[-1] != "0" else "1")
    r = check("enterprise", name="x", credit_code=bad, category="企业", employees="十二")
    reasons = {p.keys[0]: p.reason for p in r.problems}
    assert "统一社会信用代码校验位不正确" in reasons["credit_code"]
    assert "应为 0 到 1000000 之间的整数" in reasons["employees"]


def test_letter_first_credit_codes_are_accepted():
    first17 = "N2320507MA1234567"[:17]
    from tongban.engine.validators import uscc_check_digit

    code = first17 + uscc_check_digit(first17)
    r = check("enterprise", name="合作社", credit_code=code, category="农民专业合作社")
    assert r.ok, r.problems


def test_place_coordinates():
    base = {"name": "湘城驿站", "place_type": "骑手驿站"}
    r = check("place", **base, lat="31.4386", lng=120.7124, amenities="饮水,充电")
    assert r.ok and (r.values["lat"], r.values["lng"]) == (31.4386, 120.7124)
    assert r.values["amenities"] == "充电、饮水"
    r = check("place", **base, lat=51.5074, lng=-0.1278)
    assert [(p.keys, p.reason) for p in r.problems] == [(("lat", "lng"), CHINA_MESSAGE)]
    r = check("place", **base, lat=31.4)
    assert r.problems[0].keys == ("lng",) and "缺少“经度”" in r.problems[0].reason
    gcj = RowContext(resolve_org=resolve, gcj02=True)
    r = check("place", gcj, **base, lat=31.4386, lng=120.7124)
    want = gcj02_to_wgs84(31.4386, 120.7124)
    assert r.values["lat"] == round(want[0], 7) and r.values["lng"] == round(want[1], 7)
    assert abs(r.values["lng"] - 120.7124) > 0.003  # GCJ-02 is offset by several hundred m


def test_driver_licence_and_rider_flags():
    r = check("driver", name="王五", id_number=id_number(2), licence="a2d", plate="苏E·12345")
    assert r.ok and r.values["licence"] == "A2D" and r.values["plate"] == "苏E12345"
    r = check("driver", name="王五", id_number=id_number(2), licence="Z9")
    assert "准驾车型" in r.problems[0].reason
    r = check("rider", name="赵六", id_number=id_number(3), job="外卖骑手", party_member="是")
    assert r.ok and r.values["party_member"] is True
    r = check("rider", name="赵六", id_number=id_number(3), job="骑手", party_member="也许")
    assert {p.keys[0] for p in r.problems} == {"job", "party_member"}


CELL_VALUES = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.text(alphabet="0123456789Xx -", max_size=25),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.builds(Formula, st.text(max_size=20)),
    st.builds(CellError, st.text(max_size=20)),
    st.sampled_from(["32050710300101", "湘城社区第一网格", "党员、透析", "31.3", "是"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(sorted(KINDS)),
    values=st.lists(CELL_VALUES, min_size=12, max_size=12),
    gcj02=st.booleans(),
    health=st.booleans(),
)
def test_row_validator_never_raises(kind, values, gcj02, health):
    k = KINDS[kind]
    cells = {c.key: values[i % len(values)] for i, c in enumerate(k.columns)}
    ctx = RowContext(resolve_org=resolve, may_write_health=lambda org: health, gcj02=gcj02)
    result = validate_row(k, cells, ctx)
    assert result.ok == (not result.problems)
    for p in result.problems:
        assert p.reason and all(key in k.by_key for key in p.keys)
    if result.ok:
        assert set(result.values) == set(k.by_key)


@pytest.mark.parametrize(
    "value",
    [datetime(2024, 1, 1, 8, 30), date(2024, 1, 1), time(8, 0), Decimal("1E+1000000")],
)
def test_odd_values_in_text_and_number_columns(value):
    r = check("place", name="点", place_type="充电点", opening_hours=value, capacity=value)
    assert not r.ok and [p.keys for p in r.problems][0] == ("capacity",)
    if not isinstance(value, Decimal):  # a date in a text column reads as a date
        assert len(r.problems) == 1
