"""Rendering a generated form: each row's problem of a table lands on its cell, for any
matter's table (not only a bundle's)."""

from __future__ import annotations

import pytest

from tongban.engine.fields import validate_fields
from tongban.engine.schema import FieldSpec
from tongban.web.formdata import describe

DRIVERS = FieldSpec.model_validate(
    {
        "key": "drivers",
        "label": "驾驶员",
        "type": "table",
        "fields": [
            {"key": "name", "label": "姓名", "type": "text"},
            {"key": "phone", "label": "手机号码", "type": "phone"},
        ],
    }
)


@pytest.mark.parametrize("prefix", ["", "「重点物资运输车辆通行证」"])
def test_row_problems_are_shown_on_their_cells(prefix):
    rows = [
        {"name": "王建军", "phone": "13815200011"},
        {"name": "刘海", "phone": "12345"},
        {"name": "", "phone": "13815200013"},
    ]
    _, errors = validate_fields([DRIVERS], {"drivers": rows})
    error = errors["drivers"]
    assert "第2行 手机号码" in error and "第3行 姓名" in error
    if prefix:  # a bundle item names itself before each row's problem
        error = "；".join(prefix + p for p in error.split("；"))
    (table,) = describe((DRIVERS,), {"drivers": rows}, {"drivers": error})
    cells = [{c["spec"].key: c["error"] for c in row} for row in table["rows"]]
    assert cells[0] == {"name": "", "phone": ""}
    assert cells[1]["name"] == "" and cells[1]["phone"]
    assert cells[2]["name"] and cells[2]["phone"] == ""
    assert table["error"] == error  # the summary above the table stays
