"""tongban case submit|act|show|list — run cases without the web."""

import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from tongban.cli.base import TongbanCommand, read_json
from tongban.services import cases, timeline, uploads
from tongban.services.context import user_by_name


class Command(TongbanCommand):
    help = "提交和办理办件"

    def add_subcommands(self, sub) -> None:
        p = sub.add_parser("submit", help="提交一个办件")
        p.add_argument("matter")
        p.add_argument("--data", help="申请内容 JSON 文件（- 表示标准输入）")
        p.add_argument("--as", dest="as_user", required=True, metavar="USER")
        p.add_argument("--key", help="幂等键：重复提交返回同一办件")
        p.add_argument("--org", help="所属社区/街道代码（默认：申请人所在社区）")
        p.add_argument("--for", dest="for_user", metavar="USER", help="窗口代办：替该用户提交")
        p.add_argument(
            "--file",
            action="append",
            default=[],
            metavar="MATERIAL=PATH",
            help="上传材料，如 --file site_plan=plan.pdf（可重复）",
        )
        p = sub.add_parser("act", help="办理：执行一个动作")
        p.add_argument("case", type=int)
        p.add_argument("action")
        p.add_argument("--as", dest="as_user", required=True, metavar="USER")
        p.add_argument("--comment", default="")
        p.add_argument("--data", help="动作输入 JSON 文件")
        p.add_argument("--to", dest="target", help="退回到哪个环节")
        p.add_argument("--assignee", help="转交给哪个用户")
        p.add_argument("--version", type=int, help="期望的办件版本（过期则报冲突）")
        p = sub.add_parser("show", help="显示办件和时间线")
        p.add_argument("case", type=int)
        p.add_argument("--json", dest="as_json", action="store_true")
        p = sub.add_parser("list", help="列出办件")
        p.add_argument("--matter")
        p.add_argument("--open", action="store_true")

    def do_submit(self, matter, data, as_user, key, org, for_user, file, **_):
        user = user_by_name(as_user)
        on_behalf = user_by_name(for_user) if for_user else None
        payload = read_json(data)
        # Materials: references already uploaded (in "_materials") and files given now.
        materials = payload.pop("_materials", None) or {}
        for item in file:
            key_, _, path = item.partition("=")
            if not key_ or not path:
                raise CommandError(f"--file 应写成 材料代码=文件路径，而不是 {item}")
            try:
                content = Path(path).read_bytes()
            except OSError as exc:
                raise CommandError(f"无法读取 {path}：{exc.strerror}") from None
            materials.setdefault(key_, []).append(uploads.store(content, Path(path).name, user))
        case = cases.submit(
            matter,
            user,
            payload,
            idempotency_key=key,
            org_code=org,
            on_behalf_of=on_behalf,
            materials=materials,
        )
        self.stdout.write(f"{case.pk}")
        self.stderr.write(f"办件 {case.pk} 已提交，当前环节：{timeline.state_label(case)}")

    def do_act(self, case, action, as_user, comment, data, target, assignee, version, **_):
        user = user_by_name(as_user)
        req = cases.ActRequest(
            action=action,
            comment=comment,
            data=read_json(data),
            target=target,
            assignee_id=user_by_name(assignee).pk if assignee else None,
            expected_version=version,
        )
        result = cases.act(case, user, req)
        self.stdout.write(
            f"办件 {result.pk}：{timeline.state_label(result)}（版本 {result.version}）"
        )

    def do_show(self, case, as_json, **_):
        view = timeline.for_cli(case)
        if as_json:
            self.stdout.write(json.dumps(view, ensure_ascii=False, indent=2, default=str))
            return
        self.stdout.write(timeline.render_text(view))

    def do_list(self, matter, open, **_):  # noqa: A002 (argparse dest)
        from tongban.store.models import Case

        qs = Case.objects.order_by("-pk")
        if matter:
            qs = qs.filter(matter_code=matter)
        if open:
            qs = qs.filter(outcome="")
        now = timezone.now()
        for c in qs[:200]:
            late = "超期" if c.deadline and c.deadline < now and c.is_open else ""
            self.stdout.write(
                f"{c.pk:>8}  {c.matter_code:<24} {c.state:<14} {c.org_path:<30} {late}"
            )
