"""tongban catalog check|load|schema|list — the matter catalog."""

import json

from django.core.management.base import CommandError

from tongban.cli.base import TongbanCommand
from tongban.engine.schema import MatterSpec


class Command(TongbanCommand):
    help = "检查、加载和列出事项目录（catalog）"

    def add_subcommands(self, sub) -> None:
        p = sub.add_parser("check", help="检查事项文件，逐行报告问题")
        p.add_argument("paths", nargs="+", metavar="PATH")
        p = sub.add_parser("load", help="检查并加载事项；有改动的文件成为新版本")
        p.add_argument("paths", nargs="+", metavar="PATH")
        sub.add_parser("schema", help="输出事项文件的 JSON Schema（供编辑器补全）")
        sub.add_parser("list", help="列出已加载的事项及版本")

    def _report(self, problems) -> None:
        for p in problems:
            self.stderr.write(str(p))
        if problems:
            raise CommandError(f"发现 {len(problems)} 个问题", returncode=1)

    def do_check(self, paths, **_):
        from tongban.engine.loader import load_catalog

        result = load_catalog(paths)
        self._report(result.problems)
        self.stdout.write(f"通过：{len(result.matters)} 个事项")

    def do_load(self, paths, **_):
        from tongban.services import catalog

        report = catalog.load(paths)
        self._report(report.problems)
        for code, version in report.created:
            self.stdout.write(f"已加载 {code} 版本 {version}")
        for code, version in report.unchanged:
            self.stdout.write(f"未变化 {code} 版本 {version}")

    def do_schema(self, **_):
        self.stdout.write(
            json.dumps(MatterSpec.model_json_schema(by_alias=True), ensure_ascii=False, indent=2)
        )

    def do_list(self, **_):
        from tongban.store.models import MatterVersion

        for v in MatterVersion.objects.order_by("code", "version"):
            mark = "*" if v.current else " "
            self.stdout.write(f"{mark} {v.code:<28} v{v.version:<3} {v.name}  ({v.file})")
