"""tongban routing train|eval — the request router (诉求自动分拨模型)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from tongban.cli.base import TongbanCommand

_DEFAULT = "VAR_DIR/models/routing.joblib"


def default_model_path() -> Path:
    return Path(settings.VAR_DIR) / "models" / "routing.joblib"


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _percent(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _is_up_to_date(model: Path) -> bool:
    """The model exists and is newer than the training data and the routing code."""
    import tongban.routing
    from tongban.routing.data import MESSAGES_FILE, TITLES_FILE, data_dir

    if not model.is_file():
        return False
    code = Path(tongban.routing.__file__).parent.glob("*.py")
    data = [data_dir() / MESSAGES_FILE, data_dir() / TITLES_FILE]
    inputs = [p for p in [*code, *data] if p.is_file()]
    built = model.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in inputs)


class Command(TongbanCommand):
    help = "训练并评估诉求自动分拨模型（文本分类）"

    def add_subcommands(self, sub) -> None:
        p = sub.add_parser("train", help="用共享数据训练模型并保存（打印训练报告）")
        p.add_argument(
            "--out", metavar="PATH", help="模型文件（默认 VAR_DIR/models/routing.joblib）"
        )
        p.add_argument(
            "--if-missing",
            action="store_true",
            help="模型文件已存在且比数据和代码新时什么都不做",
        )
        p.add_argument("--seed", type=int, default=0, help="划分数据的随机种子（默认 0）")
        p.add_argument(
            "--no-corrections",
            action="store_true",
            help="不使用数据库中的派单纠正记录，只用共享数据训练",
        )
        p = sub.add_parser("eval", help="在带标签的 TSV（text/title 与 label 两列）上评估模型")
        p.add_argument("file", metavar="FILE.tsv")
        p.add_argument(
            "--model", metavar="PATH", help="模型文件（默认 VAR_DIR/models/routing.joblib）"
        )
        p.add_argument(
            "--json", dest="as_json", action="store_true", help="最后一行输出一个 JSON 对象"
        )

    def do_train(self, out=None, if_missing=False, seed=0, no_corrections=False, **_):
        from tongban.routing.data import DataError
        from tongban.routing.train import train

        path = Path(out) if out else default_model_path()
        if if_missing and _is_up_to_date(path):
            self.stdout.write(f"模型已是最新，未重新训练：{path}")
            return
        extra = [] if no_corrections else self._corrections()
        self.stdout.write(f"训练中（一两分钟）… 数据：{_data_dir()}")
        try:
            report = train(path, extra=extra, seed=seed)
        except (DataError, ValueError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self._print_train(report)

    def do_eval(self, file, model=None, as_json=False, **_):
        from tongban.routing.data import DataError, check_labels, read_tsv
        from tongban.routing.model import ModelError, Router
        from tongban.routing.train import display_order, evaluate

        path = Path(model) if model else default_model_path()
        try:
            router = Router.load(path)
            examples = read_tsv(file)
            check_labels(examples, display_order(router.classes))
        except (DataError, ModelError) as exc:
            raise CommandError(str(exc)) from None
        result = evaluate(router, [e.text for e in examples], [e.label for e in examples])
        self._print_eval(result, file, path)
        if as_json:
            self.stdout.write(_json_line(result, file, path))

    def _corrections(self) -> list[tuple[str, str]]:
        """Dispatchers' corrections (派单纠正) from the database; none if it is not set up."""
        from django.db import DatabaseError

        from tongban.routing.data import LABELS
        from tongban.services.requests import corrections

        try:
            rows = corrections()
        except DatabaseError as exc:
            self.stderr.write(f"未使用派单纠正记录：数据库不可用或未初始化（{exc}）")
            return []
        usable = [(text, label) for text, label in rows if text.strip() and label in LABELS]
        if len(usable) < len(rows):
            self.stderr.write(f"跳过 {len(rows) - len(usable)} 条文本为空或类别未知的纠正记录")
        return usable

    # -- output -----------------------------------------------------------------------------

    def _print_train(self, r: dict) -> None:
        s = r["sizes"]
        sel = r["threshold_selection"]
        self.stdout.write(f"模型已保存：{r['model']}（{r['model_bytes'] / 1e6:.1f} MB）")
        self.stdout.write(
            f"训练数据：正文 {s['train_messages']} 条，标题 {s['train_titles']} 条，"
            f"更正 {s['corrections']} 条；因与测试集近似重复而剔除 {s['dropped_near_test']} 条"
        )
        self.stdout.write(f"训练用时：{r['training_seconds']:.1f} 秒")
        threshold = "无（未达到目标精度）" if r["threshold"] is None else f"{r['threshold']:.4f}"
        self.stdout.write(
            f"自动分拨阈值：{threshold}（在 {sel['held_back_rows']} 条留出训练数据上选定，"
            f"目标准确率 {_percent(sel['target_precision'])}）"
        )
        for key, name in (("message_test", "正文测试集"), ("title_dev", "标题开发集")):
            m = r[key]
            self.stdout.write(
                f"{name}（{m['n']} 条）：准确率 {_percent(m['accuracy'])}，"
                f"macro-F1 {m['macro_f1']:.4f}，自动分拨 {_percent(m['auto_share'])}，"
                f"其中正确 {_percent(m['auto_precision'])}"
            )

    def _print_eval(self, m: dict, file: str, model: Path) -> None:
        out = self.stdout.write
        out(f"文件：{file}（{m['n']} 条）  模型：{model}")
        out(f"准确率 accuracy：{m['accuracy']:.4f}")
        out(f"macro-F1：{m['macro_f1']:.4f}")
        out("")
        out("各类 F1：")
        labels = m["confusion"]["labels"]
        name_width = max(_width(lab) for lab in labels)
        for lab in labels:
            if lab in m["per_class_f1"]:
                out(f"  {_pad(lab, name_width)}  {m['per_class_f1'][lab]:.4f}")
        out("")
        out("混淆矩阵（行：实际类别，列：预测类别）：")
        matrix = m["confusion"]["matrix"]
        widths = [
            max(_width(lab), *(len(str(row[c])) for row in matrix)) for c, lab in enumerate(labels)
        ]
        out(
            "  "
            + _pad("", name_width)
            + "".join(f"  {_pad(lab, w)}" for lab, w in zip(labels, widths, strict=True))
        )
        for lab, row in zip(labels, matrix, strict=True):
            cells = "".join(
                f"  {_pad(str(v), w, right=True)}" for v, w in zip(row, widths, strict=True)
            )
            out("  " + _pad(lab, name_width) + cells)
        out("")
        if m["threshold"] is None:
            out("自动分拨：模型没有阈值（选定时未达到目标准确率），全部转人工")
        else:
            out(
                f"自动分拨（置信度 ≥ {m['threshold']:.4f}）：{m['auto_count']} 条，"
                f"占 {_percent(m['auto_share'])}，其中正确 {_percent(m['auto_precision'])}"
            )


def _data_dir() -> Path:
    from tongban.routing.data import data_dir

    return data_dir()


def _json_line(m: dict, file: str, model: Path) -> str:
    keys = (
        "n",
        "accuracy",
        "macro_f1",
        "auto_share",
        "auto_precision",
        "auto_count",
        "threshold",
        "per_class_f1",
        "confusion",
    )
    return json.dumps(
        {"file": str(file), "model": str(model), **{k: m[k] for k in keys}},
        ensure_ascii=False,
    )
