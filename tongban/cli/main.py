"""The `tongban` console script: Django management with tongban's settings."""

import os
import sys
from pathlib import Path


def _load_local_secret() -> None:
    # `make install` writes a random key to var/secret.key (never committed), so the
    # command line works on a developer machine without exporting anything.
    if os.environ.get("TONGBAN_SECRET_KEY"):
        return
    var = Path(os.environ.get("TONGBAN_VAR", Path(__file__).resolve().parents[2] / "var"))
    key_file = var / "secret.key"
    if key_file.is_file():
        os.environ["TONGBAN_SECRET_KEY"] = key_file.read_text().strip()


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    _load_local_secret()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tongban", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
