"""tongban demo — demo org tree, accounts for every role, demo cases."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "创建演示数据：组织机构、各角色账号、演示办件"
    requires_system_checks: list = []

    def handle(self, *args, **options):
        from tongban.services.demo import DEMO_PASSWORD, build

        accounts = build()
        for org, names in accounts.items():
            self.stdout.write(f"{org}: {' '.join(names)}")
        self.stdout.write(f"演示账号密码：{DEMO_PASSWORD}")
