"""tongban serve — the production WSGI server (gunicorn), optionally with a worker."""

import os
import signal
import subprocess
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "启动 Web 服务（gunicorn）"
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--with-worker", action="store_true", help="同时启动一个 tongban worker"
        )

    def handle(self, *args, host, port, workers, with_worker, **options):
        from gunicorn.app.base import BaseApplication

        from tongban.wsgi import application

        class App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("timeout", 60)
                self.cfg.set("accesslog", "-")

            def load(self):
                return application

        # The case worker (time limits, outbox) and the task worker (registry imports
        # started from the web pages), each in its own process.
        background = []
        if with_worker:
            for command in ("worker", "db_worker"):
                background.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tongban", command], env=os.environ.copy()
                    )
                )
        self.stdout.write(f"通办已启动：http://{host}:{port}/")
        try:
            App().run()
        finally:
            for process in background:
                process.send_signal(signal.SIGTERM)
            for process in background:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
