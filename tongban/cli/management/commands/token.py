"""tongban token create|list|revoke — API tokens for `Authorization: Bearer <token>`."""

from django.utils import timezone

from tongban.cli.base import TongbanCommand
from tongban.services import auth
from tongban.services.context import user_by_name
from tongban.store.models import ApiToken


def _when(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else "—"


class Command(TongbanCommand):
    help = "接口令牌：创建、列出、吊销"

    def add_subcommands(self, sub) -> None:
        p = sub.add_parser("create", help="为用户创建一个令牌（只显示这一次）")
        p.add_argument("user", metavar="USER")
        p.add_argument("--name", default="", help="令牌的用途，如「对接系统 A」")
        p = sub.add_parser("list", help="列出用户的令牌（只显示前缀）")
        p.add_argument("user", metavar="USER")
        p = sub.add_parser("revoke", help="吊销用户的一个令牌")
        p.add_argument("user", metavar="USER")
        p.add_argument("prefix", metavar="PREFIX", help="令牌前缀（见 token list）")

    def do_create(self, user, name, **_):
        owner = user_by_name(user)
        token = auth.create_token(owner, name=name.strip()[:80])
        # stdout carries the token alone, so scripts can capture it.
        self.stdout.write(token)
        self.stderr.write(
            f"已为 {owner.get_username()} 创建令牌（前缀 {token[:8]}）。"
            "令牌只显示这一次，请妥善保存；用法：Authorization: Bearer <令牌>"
        )

    def do_list(self, user, **_):
        owner = user_by_name(user)
        rows = ApiToken.objects.filter(user=owner).order_by("created_at", "pk")
        if not rows:
            self.stdout.write(f"{owner.get_username()} 没有令牌")
            return
        self.stdout.write(f"{'前缀':<10}{'状态':<6}{'创建时间':<18}{'最近使用':<18}名称")
        for t in rows:
            state = "已吊销" if t.revoked else "有效"
            self.stdout.write(
                f"{t.prefix:<10}{state:<6}{_when(t.created_at):<18}"
                f"{_when(t.last_used_at):<18}{t.name}"
            )

    def do_revoke(self, user, prefix, **_):
        owner = user_by_name(user)
        auth.revoke_token(prefix.strip(), owner)
        self.stdout.write(f"已吊销 {owner.get_username()} 的令牌 {prefix.strip()}")
