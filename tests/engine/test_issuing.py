"""Who issues a certificate, read from the matter (no database)."""

from __future__ import annotations

from pathlib import Path

from tongban.engine.issuing import issuing_roles
from tongban.engine.loader import parse_matter

CATALOG = Path(__file__).resolve().parents[2] / "catalog"

# A matter whose certificate comes out of a countersign, or out of an action naming its
# roles, or on submission; and a state whose role is read from a field.
SYNTHETIC = """\
format: 1
code: synthetic_permit
name: 测试许可
category: 测试
applicant: any
body: {level: district, department: 测试局}
time_limit: {working_days: 5}
fields:
  - {key: dept, label: 部门, type: choice, options: [dept_a, dept_b]}
workflow:
  start: review
  states:
    review: {label: 审核, role: reviewer, level: street}
    cosign: {label: 会签, level: district, sign: {mode: all, roles: [urban_mgmt, traffic_police]}}
    routed: {label: 承办, role_from: dept, roles_allowed: [dept_a, dept_b], level: district}
    granted: {label: 准予, final: true, outcome: completed}
    noted: {label: 已登记, final: true, outcome: closed}
  actions:
    to_cosign: {label: 会签, from: review, to: cosign}
    cosign: {label: 同意, from: cosign, kind: sign, to: granted}
    fast: {label: 直接准予, from: review, to: granted, by: [head, applicant]}
    route: {label: 转部门, from: review, to: routed}
    finish: {label: 办结, from: routed, to: noted}
outputs:
  certificates:
    - {key: permit, name: 许可证, on: granted, numbering: {pattern: "P{seq:4}"}}
    - {key: receipt, name: 回执, on: noted, numbering: {pattern: "R{seq:4}"}}
    - {key: filed, name: 受理单, on: review, numbering: {pattern: "F{seq:4}"}}
"""


def spec(path: str):
    return parse_matter((CATALOG / path).read_text(encoding="utf-8"), path).spec


def test_the_role_that_takes_the_issuing_action_at_its_states_level():
    assert issuing_roles(spec("packs/vehicle_pass.yaml"), "vehicle_pass", {}) == (
        ("agri_approver", "district"),
    )
    assert issuing_roles(spec("demo/road_occupation.yaml"), "permit", {}) == (
        ("approver", "district"),
    )
    assert issuing_roles(spec("packs/shop_reopening.yaml"), "reopening_receipt", {}) == (
        ("clerk", "community"),
    )


def test_signers_named_roles_and_roles_from_a_field_but_never_the_applicant():
    s = parse_matter(SYNTHETIC, "synthetic.yaml").spec
    assert issuing_roles(s, "permit", {}) == (
        ("urban_mgmt", "district"),
        ("traffic_police", "district"),
        ("head", "street"),  # `by` at the level of the state it is taken from
    )
    assert issuing_roles(s, "receipt", {"dept": "dept_b"}) == (("dept_b", "district"),)
    assert issuing_roles(s, "filed", {}) == ()  # issued on submission: nobody's action
    assert issuing_roles(s, "no_such_certificate", {}) == ()


def test_every_certificate_in_the_catalog_has_an_issuer():
    for path in sorted(CATALOG.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if "certificates:" not in text:
            continue
        s = parse_matter(text, str(path)).spec
        for cert in s.outputs.certificates:
            assert issuing_roles(s, cert.key, {}), (path.name, cert.key)
