"""Query helpers: permission filtering is part of the query, so a view cannot forget it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def subtree(path: str, field: str = "org_path") -> Q:
    return Q(**{field: path}) | Q(**{f"{field}__startswith": path + "/"})


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        """Cases a user may see: their own applications, and every case in the org
        subtrees where they hold any role."""
        if not user or not user.is_authenticated:
            return self.none()
        q = Q(applicant=user) | Q(created_by=user)
        for path in {m.org.path for m in user.memberships.select_related("org")}:
            q |= subtree(path)
        return self.filter(q)

    def open(self) -> CaseQuerySet:
        return self.filter(outcome="")
