"""Template source rules Django does not enforce: a `{# … #}` comment must close on its own
line — a comment spread over several lines is printed on the page as text (it was, above
every report's filter)."""

from __future__ import annotations

from pathlib import Path

import tongban

TEMPLATES = Path(tongban.__file__).resolve().parent / "web" / "templates"


def test_every_short_comment_closes_on_its_line():
    unclosed = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if line.count("{#") > line.count("#}")
    ]
    assert unclosed == [], "use {% comment %} … {% endcomment %} for these: " + ", ".join(unclosed)
