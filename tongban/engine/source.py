"""Read YAML while remembering where every value came from.

PyYAML's composer gives each node a start mark; walking the node tree ourselves lets every
later error (pydantic's or the semantic checker's) point at `file:line`. Only the safe
subset of YAML is accepted: no tags, no Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from tongban.engine.errors import CatalogError, Problem

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Source:
    """Parsed YAML data plus a map from each path inside it to its 1-based line number."""

    file: str
    data: object
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int:
        # The nearest enclosing node that has a line: a missing key is reported where its
        # parent mapping starts.
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message)


def dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


def parse(text: str, file: str) -> Source:
    """Parse YAML text; raise CatalogError with file:line for syntax errors and duplicates."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # PyYAML's composer recurses once per level of nesting
        raise CatalogError([Problem(file, 1, "", TOO_DEEP)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise CatalogError([Problem(file, line, "", f"YAML 语法错误: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise CatalogError([Problem(file, 1, "", f"YAML 语法错误: {exc}")]) from exc
    if node is None:
        raise CatalogError([Problem(file, 1, "", "文件为空")])
    lines: dict[Path, int] = {}
    problems: list[Problem] = []
    data = _build(node, (), lines, problems, file, frozenset())
    if problems:
        raise CatalogError(problems)
    return Source(file, data, lines)


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")
}
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_SCALAR = yaml.SafeLoader("")  # only used for its scalar constructors (bool, int, float, null)


MAX_NODES = 200_000  # a catalog file is small; aliases must not expand without bound
MAX_DEPTH = 64  # a matter nests a few levels; far below Python's recursion limit
TOO_DEEP = f"嵌套层级过深（超过 {MAX_DEPTH} 层）"


def _build(
    node, path: Path, lines: dict[Path, int], problems: list[Problem], file: str, above: frozenset
):
    """The plain data of `node`; `above` holds the collection nodes enclosing it, so an
    alias that points at one of them (`a: &x [*x]`, a cycle) is refused, not followed."""
    lines[path] = node.start_mark.line + 1
    if id(node) in above:
        problems.append(Problem(file, lines[path], dotted(path), "别名（*）引用了包含它自身的内容"))
        return None
    if len(path) > MAX_DEPTH:
        if not any(p.message == TOO_DEEP for p in problems):
            problems.append(Problem(file, lines[path], dotted(path), TOO_DEEP))
        return None
    if len(lines) > MAX_NODES:
        if not any(p.message.startswith("文件过大") for p in problems):
            problems.append(
                Problem(file, lines[path], dotted(path), "文件过大或别名（&/*）展开过多")
            )
        return None
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTION_TAGS:
        problems.append(Problem(file, lines[path], dotted(path), f"不支持的 YAML 标签 {node.tag}"))
        return None
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        above = above | {id(node)}
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, dotted(path), "键必须是文字")
                )
                continue
            key = key_node.value
            if key in result:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        dotted((*path, key)),
                        "重复的键（同一层级不能出现两次）",
                    )
                )
                continue
            result[key] = _build(value_node, (*path, key), lines, problems, file, above)
            # A key's line is where the key is written, which is what an author looks for.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), lines, problems, file, above)
            for i, item in enumerate(node.value)
        ]
    if node.tag in _PLAIN_TAGS:
        try:
            return _SCALAR.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            problems.append(Problem(file, lines[path], dotted(path), f"无法解析的值: {exc}"))
            return None
    problems.append(Problem(file, lines[path], dotted(path), f"不支持的 YAML 标签 {node.tag}"))
    return None
