"""tongban audit verify — check every case's hash chain."""

from django.core.management.base import CommandError

from tongban.cli.base import TongbanCommand


class Command(TongbanCommand):
    help = "审计：校验办件记录的哈希链"

    def add_subcommands(self, sub) -> None:
        p = sub.add_parser("verify", help="校验全部（或指定）办件的记录链，指出第一处断裂")
        p.add_argument("cases", nargs="*", type=int, metavar="CASE")

    def do_verify(self, cases, **_):
        from tongban.services.audit import verify_all

        checked = failed = 0
        for _pk, failure in verify_all(cases or None):
            checked += 1
            if failure is not None:
                failed += 1
                self.stderr.write(str(failure))
        if failed:
            raise CommandError(f"{failed} / {checked} 个办件的记录链已损坏", returncode=1)
        self.stdout.write(f"通过：{checked} 个办件的记录链完整")
