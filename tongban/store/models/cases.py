"""Cases, their hash-chained events, certificates and number counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tongban.store.choices import EventKind, Outcome
from tongban.store.models.catalog import MatterVersion
from tongban.store.models.org import Org
from tongban.store.queries import CaseQuerySet


class Case(models.Model):
    """A case (办件): one running instance of a matter version."""

    # Foreign keys carry no index of their own unless a query needs one: every index is
    # rewritten by each step on PostgreSQL (a step changes indexed columns, so its update is
    # never HOT) and adds a page to each SQLite commit. See migration 0009_lean_indexes.
    matter = models.ForeignKey(
        MatterVersion, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    matter_code = models.CharField(max_length=64)
    state = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)  # optimistic lock
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="cases", db_index=False)
    org_path = models.CharField(max_length=255)
    # The case's org and its ancestors, one column per level: "in my jurisdiction" is an
    # exact match on an indexed column, on SQLite and PostgreSQL alike.
    j_district = models.CharField(max_length=20, blank=True)
    j_street = models.CharField(max_length=20, blank=True)
    j_community = models.CharField(max_length=20, blank=True)
    j_grid = models.CharField(max_length=20, blank=True)
    applicant = models.ForeignKey(  # indexed by case_applicant
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    created_by = models.ForeignKey(  # with a key: case_idempotency_unique
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    handler = models.ForeignKey(  # case_handler, where set
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Who works on it now (a role code, "applicant", or "" for sign states and closed cases),
    # and at which level: kept beside the state so a worklist is one indexed query.
    pending_role = models.CharField(max_length=64, blank=True)
    pending_level = models.CharField(max_length=12, blank=True)
    data = models.JSONField(default=dict)
    materials = models.JSONField(default=dict)  # {material key: [{sha256, name, size, type}]}
    signatures = models.JSONField(default=list)
    visited = models.JSONField(default=list)
    extensions = models.PositiveSmallIntegerField(default=0)
    overdue = models.BooleanField(default=False)
    ever_overdue = models.BooleanField(default=False)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True, default="")
    submitted_at = models.DateTimeField()
    entered_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    event_count = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    # NULL, not "", when absent: the unique constraint must ignore cases without a key.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    parent = models.ForeignKey(  # case_parent, where set
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="spawned",
        db_index=False,
    )
    bundle = models.ForeignKey(  # case_bundle, where set
        "store.Bundle",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "办件"
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="case_idempotency_unique",
            )
        ]
        indexes = [
            models.Index(fields=["pending_role", "j_district", "deadline"], name="case_work_d"),
            models.Index(fields=["pending_role", "j_street", "deadline"], name="case_work_s"),
            models.Index(fields=["pending_role", "j_community", "deadline"], name="case_work_c"),
            models.Index(fields=["pending_role", "j_grid", "deadline"], name="case_work_g"),
            models.Index(fields=["j_district", "submitted_at"], name="case_district_time"),
            models.Index(fields=["j_street", "submitted_at"], name="case_street_time"),
            models.Index(fields=["applicant", "-submitted_at"], name="case_applicant"),
            models.Index(fields=["outcome", "deadline"], name="case_open_deadline"),
            models.Index(fields=["matter_code", "state"], name="case_matter_state"),
            # Most cases have no handler, parent or bundle: partial indexes are not written
            # for them, and `x = ?` still uses them (it implies x IS NOT NULL).
            models.Index(
                fields=["handler"], condition=Q(handler__isnull=False), name="case_handler"
            ),
            models.Index(fields=["parent"], condition=Q(parent__isnull=False), name="case_parent"),
            models.Index(fields=["bundle"], condition=Q(bundle__isnull=False), name="case_bundle"),
        ]

    def __str__(self) -> str:
        return f"办件 {self.pk}"

    @property
    def is_open(self) -> bool:
        return not self.outcome


class Event(models.Model):
    """One entry of a case's history, hash-chained to the previous one.

    `body` is the canonical JSON that was hashed; the other columns are queryable copies
    that `tongban audit verify` checks against it."""

    # Indexed by event_seq_unique (case, seq), which serves every lookup by case.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    action = models.CharField(max_length=64, blank=True)
    from_state = models.CharField(max_length=64, blank=True)
    to_state = models.CharField(max_length=64)
    actor_id = models.BigIntegerField()
    at = models.DateTimeField()
    body = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "办件记录"
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="event_seq_unique")]
        ordering = ["case", "seq"]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind}"


class Certificate(models.Model):
    """An issued certificate (电子证照)."""

    number = models.CharField("证照编号", max_length=64, unique=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="certificates")
    key = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    matter_code = models.CharField(max_length=64)
    holder = models.CharField(max_length=200, blank=True)
    grants = models.TextField(blank=True)
    details = models.JSONField(default=dict)
    # The validity as instants. A validity of whole days (date fields, `validity.days`)
    # runs from 00:00:00 of the first day to 23:59:59 of the last, Asia/Shanghai, and is
    # signed as dates (payload TB1); `validity_timed` marks one taken from datetime fields,
    # shown to the minute and signed as datetimes (TB2).
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    validity_timed = models.BooleanField(default=False)
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=200, blank=True)
    signature = models.TextField(blank=True)
    key_id = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "电子证照"

    def __str__(self) -> str:
        return self.number


class Counter(models.Model):
    """A gapless sequence per numbering scope, incremented inside the issuing transaction."""

    scope = models.CharField(max_length=255, unique=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "编号计数器"

    def __str__(self) -> str:
        return f"{self.scope} = {self.value}"
