"""tongban dispatch plan|drop|template — volunteer dispatch from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError

from tongban.cli.base import TongbanCommand
from tongban.services import dispatch
from tongban.services.context import user_by_name
from tongban.services.dispatch_demand import DemandInvalid


def _user(name: str | None):
    return user_by_name(name) if name else None


class Command(TongbanCommand):
    help = "志愿者调度：按需求文件排班，志愿者退出后重新排班"

    def add_subcommands(self, sub) -> None:
        p = sub.add_parser("plan", help="按需求排班（已有方案时尽量少改动）")
        p.add_argument(
            "--demand", metavar="FILE", help="需求文件（.xlsx 或 .csv：站点、班次、岗位、人数）"
        )
        p.add_argument(
            "--org", metavar="CODE", help="组织单位代码：新建排班需求，站点和志愿者取其辖区"
        )
        p.add_argument("--set", dest="set_id", type=int, metavar="ID", help="已有的排班需求编号")
        p.add_argument("--title", help="新建排班需求的名称（默认：文件名）")
        p.add_argument("--max-km", type=float, default=5.0, help="最远出行距离，公里（默认 5）")
        p.add_argument("--max-shifts", type=int, default=1, help="每人最多班次（默认 1）")
        p.add_argument("--as", dest="as_user", metavar="USER", help="以该工作人员的辖区排班")
        p.add_argument("--dry-run", action="store_true", help="只计算，不保存、不通知")
        p.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        p = sub.add_parser("drop", help="志愿者退出：重新排班，只改动必要的安排")
        p.add_argument("volunteer", help="志愿者编号、身份证号码、手机号或姓名")
        p.add_argument("--set", dest="set_id", type=int, metavar="ID", help="只在该排班需求中退出")
        p.add_argument("--as", dest="as_user", metavar="USER")
        p.add_argument("--dry-run", action="store_true", help="只计算，不保存、不通知")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("template", help="下载空白需求文件")
        p.add_argument("file")

    def do_plan(
        self, *, demand, org, set_id, title, max_km, max_shifts, as_user, dry_run, json: bool, **_
    ):
        if demand and not Path(demand).is_file():
            raise CommandError(f"找不到文件 {demand}")
        try:
            out = dispatch.plan_file(
                _user(as_user),
                org_code=org,
                set_id=set_id,
                path=demand,
                title=title,
                max_km=max_km,
                max_shifts=max_shifts,
                dry_run=dry_run,
            )
        except DemandInvalid as exc:
            for line in exc.problems:
                self.stderr.write(line)
            raise CommandError(f"需求文件有 {len(exc.problems)} 处问题，未做任何修改") from None
        self._print([out], json)

    def do_drop(self, *, volunteer, set_id, as_user, dry_run, json: bool, **_):
        user = _user(as_user)
        if set_id is not None:
            vid = dispatch.find_volunteer(set_id, user, volunteer)
            sets = [set_id]
        else:
            vid, sets = dispatch.sets_with(user, volunteer)
            if not sets:
                raise CommandError("该志愿者在当前的排班方案中没有安排")
        self._print([dispatch.drop(pk, user, vid, dry_run=dry_run) for pk in sets], json)

    def do_template(self, *, file, **_):
        from tongban.dispatch.demandfile import write_demand_template

        write_demand_template(file)
        self.stdout.write(f"已写入 {file}")

    def _print(self, outcomes, as_json: bool) -> None:
        if as_json:
            data = [o.as_dict() for o in outcomes]
            self.stdout.write(json.dumps(data if len(data) > 1 else data[0], ensure_ascii=False))
            return
        for o in outcomes:
            ds = o.demand_set
            head = "（试算，未保存）" if o.dry_run else f"方案 #{o.plan.pk}"
            self.stdout.write(
                f"排班需求 #{ds.pk}“{ds.title}”{head}：已安排 {o.filled} 人次，"
                f"缺口 {o.missing} 人次，总出行 {o.total_km:.1f} 公里"
            )
            if o.skipped_no_home:
                self.stdout.write(f"  {o.skipped_no_home} 名志愿者未登记居住地坐标，未参与排班")
            if o.unfilled:
                self.stdout.write("缺口：")
                for u in o.unfilled:
                    self.stdout.write(
                        f"  {u['shift']} {u['place']} {u['role']} 缺 {u['missing']} 人：{u['text']}"
                    )
            else:
                self.stdout.write("需求已全部安排。")
            for label, items in (("新增", o.added), ("取消", o.removed)):
                for a in items:
                    self.stdout.write(
                        f"  {label}：{a['volunteer']} {a['shift']} {a['place']} {a['role']}"
                    )
            if not o.dry_run:
                self.stdout.write(f"已通知 {o.notified} 名志愿者（安排有变动的）")
