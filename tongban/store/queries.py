"""Query helpers: permission filtering is part of the query, so a view cannot forget it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def jurisdiction_q(memberships) -> Q:
    """Cases within any of the given (level, org code) pairs: exact matches on indexed columns."""
    q = Q(pk__in=[])
    for level, code in memberships:
        q |= Q(**{f"j_{level}": code})
    return q


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        """Cases a user may see: their own applications, and every case in the org
        subtrees where they hold any role."""
        if not user or not user.is_authenticated:
            return self.none()
        pairs = set(user.memberships.values_list("org__level", "org__code"))
        return self.filter(Q(applicant=user) | Q(created_by=user) | jurisdiction_q(pairs))

    def open(self) -> CaseQuerySet:
        return self.filter(outcome="")
