"""The catalog loader under any input: a parsed spec, or CatalogError problems that name
the file and line, and never any other exception.

Three kinds of input: raw text (YAML syntax of every sort), the real catalog files with one
value somewhere replaced, removed or renamed (so the semantic checker sees nearly-right
matters and bundles), and such a file dropped into a whole catalog folder."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tongban.engine import check
from tongban.engine.check_bundle import check_bundle
from tongban.engine.errors import CatalogError
from tongban.engine.loader import load_catalog, parse_matter, parse_roles
from tongban.engine.schema import MatterSpec
from tongban.engine.source import parse

ROOT = Path(__file__).resolve().parents[2] / "catalog"
FILES = sorted(p for p in ROOT.rglob("*.yaml") if p.name != "roles.yaml")
ROLES = parse_roles((ROOT / "roles.yaml").read_text("utf-8"), "roles.yaml")
ORIGINALS = {p: p.read_text("utf-8") for p in FILES}
TREES = {p: yaml.safe_load(text) for p, text in ORIGINALS.items()}
SPECS = {
    loaded.spec.code: loaded.spec
    for loaded in (parse_matter(text, str(p)) for p, text in ORIGINALS.items())
    if isinstance(loaded.spec, MatterSpec)
}

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.just(10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "*",
            "applicant",
            "clerk",
            "review",
            "submitted",
            "approved",
            "5个工作日",
            "working_days",
            "2026-13-45",
            "{x}",
            "${seq}",
            "a.b",
            "text",
            "table",
            "choice",
            "all",
            "any",
            "street",
            "district",
            "-1",
            "0",
            "1e9",
            "none",
            "required",
        ]
    ),  # fmt: skip
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(tree, prefix=()):
    """Every path into the tree (keys and list indexes)."""
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, (*prefix, i))


def _copy(tree):
    return copy.deepcopy(tree)


@st.composite
def mutated(draw) -> tuple[Path, str]:
    """A real catalog file with one to three edits: a value replaced, an entry removed, a
    key renamed or duplicated into a neighbour."""
    file = draw(st.sampled_from(FILES), label="file")
    tree = _copy(TREES[file])
    for _ in range(draw(st.integers(1, 3), label="edits")):
        paths = list(_paths(tree))[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths), label="path")
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        edit = draw(st.sampled_from(["replace", "remove", "rename", "copy"]), label="edit")
        if edit == "replace":
            parent[last] = draw(VALUES, label="value")
        elif edit == "remove":
            del parent[last]
        elif edit == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10), label="key")] = parent.pop(last)
        elif edit == "copy":
            other = draw(st.sampled_from(paths), label="from")
            source = tree
            for step in other:
                source = source[step]
            parent[last] = _copy(source)
    return file, yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


def _check(text: str, file: str) -> None:
    """Parse and check one file the way load_catalog does; only CatalogError may escape."""
    try:
        loaded = parse_matter(text, file)
    except CatalogError as exc:
        _assert_problems(exc.problems, file)
        return
    if isinstance(loaded.spec, MatterSpec):
        problems = check.check_matter(loaded.spec, loaded.source, set(ROLES.roles))
    else:
        problems = check_bundle(loaded.spec, loaded.source, SPECS)
    problems += check.check_across([loaded])
    _assert_problems(problems, file)


def _assert_problems(problems, file: str) -> None:
    for p in problems:
        assert p.file == file and p.line >= 1 and p.message, p
        assert str(p)  # renders as file:line: path: message


YAML_BITS = st.text(
    alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#%@`,?~ \n\t\\ab01é中\x00\ufeff")), max_size=60
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=80), YAML_BITS))
@example(text="a: &x [*x]")  # found by this test: a cycle was followed until RecursionError
@example(text="a: &x {b: *x}")
@example(text="[" * 5000)  # PyYAML's composer itself recurses per level
@example(text="!!python/object:os.system {}")
@example(text="? [a, b]\n: c")
@example(text="a: 1\na: 2")
@example(text="x: 2026-02-30")
@example(text="\ufeffcode: x")
@example(text="- " * 200 + "x")
def test_yaml_text_parses_or_says_where_it_is_wrong(text):
    try:
        source = parse(text, "fuzz.yaml")
    except CatalogError as exc:
        _assert_problems(exc.problems, "fuzz.yaml")
        return
    assert source.line_of(()) >= 1
    _check(text, "fuzz.yaml")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_a_damaged_catalog_file_gets_problems_not_a_crash(case):
    file, text = case
    _check(text, str(file))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_a_damaged_file_in_a_whole_catalog_is_reported(case):
    file, text = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for p, original in ORIGINALS.items():
            target = folder / p.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text if p == file else original, "utf-8")
        (folder / "roles.yaml").write_text((ROOT / "roles.yaml").read_text("utf-8"), "utf-8")
        result = load_catalog([folder])
    for p in result.problems:
        assert p.line >= 1 and p.message, p


@pytest.mark.parametrize("file", FILES, ids=[p.name for p in FILES])
def test_the_real_catalog_files_load_cleanly(file):
    """The control: unmutated, every file passes the same checks."""
    loaded = parse_matter(ORIGINALS[file], str(file))
    if isinstance(loaded.spec, MatterSpec):
        assert check.check_matter(loaded.spec, loaded.source, set(ROLES.roles)) == []
