"""The dispatch module stays pure: importing it pulls in no Django and no project layer."""

from __future__ import annotations

import subprocess
import sys


def test_no_django_no_layers():
    code = (
        "import sys, tongban.dispatch\n"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')\n"
        "       or m.split('.')[:2] in (['tongban','store'], ['tongban','services'],\n"
        "                                ['tongban','web'], ['tongban','cli'])]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
