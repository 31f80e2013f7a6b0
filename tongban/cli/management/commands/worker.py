"""tongban worker — sweeps time limits, escalates, delivers the outbox."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "后台工作：标记超期并督办，投递消息（可同时运行多个）"
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="只运行一轮后退出")
        parser.add_argument("--interval", type=float, default=2.0, help="空闲时的轮询间隔（秒）")

    def handle(self, *args, once: bool, interval: float, **options):
        from tongban.services import worker

        if once:
            swept, delivered = worker.run_once()
            self.stdout.write(f"标记超期 {swept} 件，投递消息 {delivered} 条")
            return
        self.stdout.write("tongban worker 已启动（Ctrl-C 退出）")
        try:
            worker.run(interval=interval)
        except KeyboardInterrupt:
            self.stdout.write("已停止")
