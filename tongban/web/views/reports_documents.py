"""The download links of a case's documents (tongban.services.reports.documents), for the
staff and the applicant's case pages."""

from __future__ import annotations

from django.urls import reverse

from tongban.services.reports import documents


def case_documents(case) -> list[dict]:
    """[{"name", "url"}] for each document the case has now."""
    return [
        {"name": d.name, "url": reverse(d.key, args=[case.pk])} for d in documents.for_case(case)
    ]
