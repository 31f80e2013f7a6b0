"""tongban registry import|export|template|kinds — registries in and out of Excel."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import CommandError

from tongban.cli.base import TongbanCommand
from tongban.services import registry
from tongban.services.context import user_by_name

PROBLEMS_SHOWN = 200


def _plain(text: str) -> str:
    return text  # stderr is styled as errors on a terminal; progress is not an error


class ProgressBar:
    """A progress bar on stderr: redrawn in place on a terminal, a line per 10 % in a log."""

    WIDTH = 30

    def __init__(self, stream, label: str):
        self.stream, self.label = stream, label  # a Django OutputWrapper
        self.tty = stream.isatty()
        self.last_draw = 0.0
        self.last_decile = -1
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        percent = min(100, done * 100 // total) if total else 0
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw < 0.1 and percent < 100:
                return
            self.last_draw = now
            filled = self.WIDTH * percent // 100
            bar = "█" * filled + "░" * (self.WIDTH - filled)
            line = f"\r{self.label} [{bar}] {percent:3d}%  {now - self.started:5.1f}s"
            self.stream.write(line, style_func=_plain, ending="")
            self.stream.flush()
        elif percent // 10 != self.last_decile:
            self.last_decile = percent // 10
            self.stream.write(f"{self.label} {percent}%  {now - self.started:.1f}s", _plain)
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("")
            self.stream.flush()


class Command(TongbanCommand):
    help = "台账：Excel 导入、导出和模板"

    def add_subcommands(self, sub) -> None:
        kinds = "、".join(f"{k.name}（{k.label}）" for k in registry.kinds())
        p = sub.add_parser("import", help="从 xlsx 导入台账")
        p.add_argument("kind", help=f"台账种类：{kinds}")
        p.add_argument("file")
        p.add_argument("--as", dest="as_user", metavar="USER", help="以该工作人员的辖区导入")
        p.add_argument("--partial", action="store_true", help="只导入正确的行，错误的行另存为 xlsx")
        p.add_argument("--gcj02", action="store_true", help="文件中的坐标为 GCJ-02（国内地图）")
        p.add_argument(
            "--rejected", metavar="PATH", help="未导入行的文件（默认：原文件名.rejected.xlsx）"
        )
        p.add_argument("--quiet", action="store_true", help="不显示进度条")
        p = sub.add_parser("export", help="导出台账为 xlsx")
        p.add_argument("kind")
        p.add_argument("file")
        p.add_argument("--as", dest="as_user", metavar="USER", help="只导出该工作人员辖区内的记录")
        p.add_argument(
            "--unmasked",
            action="store_true",
            help="导出完整的身份证号码和电话（需 --as，每条记录都记入查看日志）",
        )
        p = sub.add_parser("template", help="下载空白导入模板")
        p.add_argument("kind")
        p.add_argument("file")
        sub.add_parser("kinds", help="列出台账种类")

    def do_import(self, kind, file, as_user, partial, gcj02, rejected, quiet, **_):
        registry.kind_of(kind)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件 {file}")
        user = user_by_name(as_user) if as_user else None
        rejected_out = Path(rejected) if rejected else path.with_suffix(".rejected.xlsx")
        bar = None if quiet else ProgressBar(self.stderr, "导入")
        try:
            result = registry.import_file(
                kind,
                path,
                user,
                partial=partial,
                gcj02=gcj02,
                progress=bar,
                rejected_out=rejected_out,
            )
        finally:
            if bar:
                bar.close()
        for p in result.problems[:PROBLEMS_SHOWN]:
            self.stderr.write(p.text())
        if len(result.problems) > PROBLEMS_SHOWN:
            self.stderr.write(f"……另有 {len(result.problems) - PROBLEMS_SHOWN} 个问题")
        if result.rejected_file:
            self.stderr.write(
                f"未导入的 {result.rejected} 行（含错误原因）：{result.rejected_file}"
            )
        if not result.imported and result.problems:
            hint = (
                "" if result.fatal or partial else "；改正后重新导入，或加 --partial 只导入正确的行"
            )
            raise CommandError(result.summary() + hint)
        self.stdout.write(result.summary())

    def do_export(self, kind, file, as_user, unmasked, **_):
        user = user_by_name(as_user) if as_user else None
        count = registry.export(kind, file, user, unmasked=unmasked)
        self.stdout.write(f"已导出 {count} 条到 {file}")

    def do_template(self, kind, file, **_):
        registry.write_template(kind, file)
        self.stdout.write(f"模板已保存到 {file}")

    def do_kinds(self, **_):
        for k in registry.kinds():
            self.stdout.write(f"{k.name:<12} {k.label}（以 {k.key_headers} 识别同一条记录）")
