"""The text classifier behind automatic routing, and the dispatcher corrections that teach
its next training."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from django.conf import settings

from tongban.store.models import RoutingCorrection

log = logging.getLogger("tongban.requests")
_lock = threading.Lock()
_router: tuple[float, Any] | None = None


def model_path() -> Path:
    return Path(settings.VAR_DIR) / "models" / "routing.joblib"


def router():
    """The trained classifier, loaded once per process (reloaded when the file changes);
    None when no model has been trained: then every request waits for a dispatcher."""
    global _router
    path = model_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    with _lock:
        if _router is None or _router[0] != mtime:
            from tongban.routing.model import Router

            try:
                _router = (mtime, Router.load(path))
            except Exception as exc:  # a broken model file must not stop intake
                log.warning("routing model at %s cannot be loaded: %s", path, exc)
                return None
        return _router[1]


def classify(text: str) -> tuple[str | None, float, bool]:
    """(category, confidence, routed automatically?)"""
    model = router()
    if model is None or not text.strip():
        return None, 0.0, False
    prediction = model.predict([text])[0]
    label, confidence = prediction[0], float(prediction[1])
    return label, confidence, bool(model.is_automatic(confidence))


def corrections() -> list[tuple[str, str]]:
    """(text, label) pairs from dispatchers, for `tongban routing train`."""
    return list(RoutingCorrection.objects.order_by("pk").values_list("text", "corrected"))
