"""Pack reports under /reports/: one line per report page."""

from django.urls import path  # noqa: F401 (used by the lines below)

urlpatterns: list = []
