"""Shared plumbing for subcommands: service errors become a message and exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from tongban.services.errors import ServiceError


class TongbanCommand(BaseCommand):
    """A command with subcommands (`tongban catalog check …`), one method per subcommand."""

    requires_system_checks: list = []

    def add_subcommands(self, subparsers) -> None:
        raise AssertionError("subclasses define their subcommands")

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="sub", required=True, metavar="SUBCOMMAND")
        sub._parser_class = type(parser)  # keep Django's CommandParser error handling
        self.add_subcommands(sub)

    def handle(self, *args, sub: str, **options):
        method = getattr(self, "do_" + sub.replace("-", "_"))
        try:
            return method(**options)
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"数据库不可用或未初始化：{exc}（先运行 tongban migrate）") from None


def read_json(path: str | None) -> dict:
    if not path:
        return {}
    try:
        text = (
            Path(path).read_text(encoding="utf-8")
            if path != "-"
            else __import__("sys").stdin.read()
        )
    except OSError as exc:
        raise CommandError(f"无法读取 {path}：{exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path}:{exc.lineno}: JSON 格式错误：{exc.msg}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path}: 应为一个 JSON 对象 {{...}}")
    return data
