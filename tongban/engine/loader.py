"""Parse catalog files into specs, translating every error to `file:line: path: message`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from tongban.engine import check
from tongban.engine.check_bundle import check_bundle
from tongban.engine.errors import CatalogError, Problem
from tongban.engine.schema import MatterSpec, RolesFile
from tongban.engine.schema_bundle import BundleSpec
from tongban.engine.source import Source, parse

ROLES_FILE = "roles.yaml"

_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知的键（拼写错误？请对照 docs/catalog.md）",
    "string_pattern_mismatch": "只能用小写英文字母、数字和下划线，并以字母开头",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数（不能有小数）",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表（每项以 - 开头）",
    "tuple_type": "应为列表（每项以 - 开头）",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "too_short": "内容太少",
    "string_too_short": "不能为空",
    "string_too_long": "太长",
}


def _message(err: dict) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
    if kind == "literal_error":
        return f"取值必须是 {ctx.get('expected', '')} 之一"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        op = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<"}.get(kind, "≤")
        bound = next(iter(ctx.values()), "")
        return f"应 {op} {bound}"
    if kind == "too_short" and "min_length" in ctx:
        return f"至少需要 {ctx['min_length']} 项"
    return _MESSAGES.get(kind, err["msg"])


def _validate[M: BaseModel](model: type[M], source: Source) -> M:
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # pydantic appends the union member / validator name for some errors; keep the
            # part of the location that exists in the file.
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            problems.append(source.problem(loc, _message(err)))
        raise CatalogError(problems) from None


@dataclass(frozen=True)
class LoadedMatter:
    """A parsed catalog file: a matter, or a bundle (spec.kind == "bundle")."""

    spec: MatterSpec | BundleSpec
    source: Source
    text: str
    digest: str  # sha256 of the file: a changed file is a new version

    @property
    def file(self) -> str:
        return self.source.file


def parse_matter(text: str, file: str) -> LoadedMatter:
    source = parse(text, file)
    if not isinstance(source.data, dict):
        raise CatalogError([Problem(file, 1, "", "事项文件的顶层应为映射（键: 值）")])
    model = BundleSpec if source.data.get("kind") == "bundle" else MatterSpec
    spec = _validate(model, source)
    return LoadedMatter(spec, source, text, hashlib.sha256(text.encode()).hexdigest())


def parse_roles(text: str, file: str) -> RolesFile:
    return _validate(RolesFile, parse(text, file))


@dataclass
class CatalogResult:
    matters: list[LoadedMatter]  # matters and bundles
    roles: RolesFile | None
    problems: list[Problem]

    @property
    def bundles(self) -> list[LoadedMatter]:
        return [m for m in self.matters if isinstance(m.spec, BundleSpec)]

    @property
    def ok(self) -> bool:
        return not self.problems


def _yaml_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.yaml") if p.is_file()))
            files.extend(sorted(p for p in path.rglob("*.yml") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 1, "", "文件或目录不存在"))
    return list(dict.fromkeys(files)), problems


def _find_roles_file(files: list[Path]) -> Path | None:
    for f in files:
        if f.name == ROLES_FILE:
            return f
    # A matter file given alone: look beside it and in its parents.
    for f in files:
        for folder in [f.parent, *f.parent.parents]:
            if (folder / ROLES_FILE).is_file():
                return folder / ROLES_FILE
    return None


def load_catalog(paths: Iterable[str | Path]) -> CatalogResult:
    """Parse and check every YAML file under `paths`; collect all problems, never stop early."""
    files, problems = _yaml_files(paths)
    roles: RolesFile | None = None
    roles_path = _find_roles_file(files)
    if roles_path is None:
        problems.append(
            Problem(ROLES_FILE, 1, "", "找不到角色表 roles.yaml（应放在事项文件所在目录）")
        )
    else:
        try:
            roles = parse_roles(roles_path.read_text(encoding="utf-8"), str(roles_path))
        except CatalogError as exc:
            problems.extend(exc.problems)
        except UnicodeDecodeError:
            problems.append(Problem(str(roles_path), 1, "", "文件不是 UTF-8 编码"))
    matters: list[LoadedMatter] = []
    for f in files:
        if f.name == ROLES_FILE:
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(str(f), 1, "", "文件不是 UTF-8 编码"))
            continue
        try:
            loaded = parse_matter(text, str(f))
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        matters.append(loaded)
    role_codes = set(roles.roles) if roles else None
    plain = [m for m in matters if isinstance(m.spec, MatterSpec)]
    specs = {m.spec.code: m.spec for m in plain}
    for loaded in matters:
        if isinstance(loaded.spec, BundleSpec):
            problems.extend(check_bundle(loaded.spec, loaded.source, specs))
        else:
            problems.extend(check.check_matter(loaded.spec, loaded.source, role_codes))
    problems.extend(check.check_across(matters))
    return CatalogResult(matters, roles, sorted(set(problems)))
