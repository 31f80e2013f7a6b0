"""Demo data for the catalog packs: every module here with a `build()` function is run by
`tongban demo` (after the org tree and accounts exist), in name order. Each build must be
safe to run twice."""

from __future__ import annotations

import importlib
import pkgutil


def build_all() -> list[str]:
    done = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        build = getattr(module, "build", None)
        if callable(build):
            build()
            done.append(info.name)
    return done
