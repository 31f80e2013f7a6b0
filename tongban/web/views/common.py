"""Helpers shared by the views: turning service errors into pages."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import render

from tongban.services.auth import request_ip
from tongban.services.errors import Forbidden, NotFound, Unavailable


def client_ip(request) -> str | None:
    return request_ip(request)


def service_page(view):
    """NotFound → 404 page; Forbidden → 403 page. Other service errors are handled in views."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except Forbidden as exc:
            return render(request, "error.html", {"message": exc.message}, status=403)
        except Unavailable as exc:
            return render(request, "error.html", {"message": exc.message}, status=503)

    return wrapper
