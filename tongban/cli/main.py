"""The `tongban` console script: Django management with tongban's settings."""

import os
import sys
from pathlib import Path


def _load_local_env() -> None:
    """`make install` writes var/local.env (never committed): a random secret key and a
    certificate signing key, so the command line works on a machine without exporting
    anything. Variables already set in the environment win."""
    var = Path(os.environ.get("TONGBAN_VAR", Path(__file__).resolve().parents[2] / "var"))
    env_file = var / "local.env"
    if not env_file.is_file():
        return
    for line in env_file.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name.startswith("TONGBAN_") and not name.startswith("#"):
            os.environ.setdefault(name, value)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    _load_local_env()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tongban", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
