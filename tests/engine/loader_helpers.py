"""Shared helpers for the catalog loader tests: edit the demo matter, load it, find problems."""

from __future__ import annotations

from pathlib import Path

from tests.engine.conftest import ROAD_YAML, ROLES_YAML
from tongban.engine.loader import CatalogResult, load_catalog

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
