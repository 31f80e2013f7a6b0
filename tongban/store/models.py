"""Django models. Persistence only: rules live in engine/, use cases in services/."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from tongban.store.choices import ApplicantKind, EventKind, Level, Outcome
from tongban.store.queries import CaseQuerySet


class Org(models.Model):
    """A node of the organisation tree: 区 / 街道·镇 / 社区·村 / 网格.

    `path` is the chain of codes from the root (`320507/320507104/320507104001`), so
    "in my jurisdiction" is a prefix test the database can index.
    """

    code = models.CharField("区划代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "组织机构"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path}/{self.code}" if self.parent else self.code
        super().save(*args, **kwargs)

    @property
    def division(self) -> str:
        """The 6-digit administrative-division code (GB/T 2260) of this node's district."""
        return self.path.split("/")[0][:6]


class Membership(models.Model):
    """A user holds a role at an org node (and everything below it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("角色", max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "岗位"
        constraints = [
            models.UniqueConstraint(fields=["user", "org", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.org} ({self.role})"


class Profile(models.Model):
    """Who a user is to the public side: a person or an enterprise, and where they live."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    kind = models.CharField(
        "类型", max_length=12, choices=ApplicantKind.choices, default=ApplicantKind.PERSON
    )
    display_name = models.CharField("姓名/名称", max_length=100, blank=True)
    home_org = models.ForeignKey(
        Org, verbose_name="所在社区", null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = verbose_name_plural = "用户资料"

    def __str__(self) -> str:
        return self.display_name or str(self.user)


class MatterVersion(models.Model):
    """One loaded version of a catalog file. A changed file becomes a new version;
    running cases keep the version they started on."""

    code = models.CharField(max_length=64, db_index=True)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=50, blank=True)
    digest = models.CharField(max_length=64)
    file = models.CharField(max_length=255)
    source = models.TextField()
    spec_json = models.TextField()
    current = models.BooleanField(default=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "事项版本"
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="matter_version_unique"),
            models.UniqueConstraint(fields=["code", "digest"], name="matter_digest_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(current=True), name="matter_one_current"
            ),
        ]
        ordering = ["code", "-version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Case(models.Model):
    """A case (办件): one running instance of a matter version."""

    matter = models.ForeignKey(MatterVersion, on_delete=models.PROTECT, related_name="cases")
    matter_code = models.CharField(max_length=64)
    state = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)  # optimistic lock
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="cases")
    org_path = models.CharField(max_length=255)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who works on it now (a role code, "applicant", or "" for sign states and closed cases),
    # and at which level: kept beside the state so a worklist is one indexed query.
    pending_role = models.CharField(max_length=64, blank=True)
    pending_level = models.CharField(max_length=12, blank=True)
    data = models.JSONField(default=dict)
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
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="spawned"
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
            models.Index(fields=["pending_role", "org_path", "deadline"], name="case_worklist"),
            models.Index(fields=["applicant", "-submitted_at"], name="case_applicant"),
            models.Index(fields=["outcome", "deadline"], name="case_open_deadline"),
            models.Index(fields=["matter_code", "state"], name="case_matter_state"),
            models.Index(fields=["org_path", "submitted_at"], name="case_org_time"),
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

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
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


class Outbox(models.Model):
    """A message written in the same transaction as the change that caused it, delivered
    later by the worker exactly once (its delivery_id is the idempotency key)."""

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, null=True, on_delete=models.SET_NULL, related_name="+")
    topic = models.CharField(max_length=40)
    recipient = models.CharField(max_length=120, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "待发消息"
        indexes = [
            models.Index(
                fields=["id"], condition=Q(delivered_at__isnull=True), name="outbox_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.recipient}"


class Delivery(models.Model):
    """The log sink's record of a delivered message: unique per delivery_id, so a message
    delivered twice (a worker killed mid-batch) is caught by the database."""

    delivery_id = models.UUIDField(unique=True)
    topic = models.CharField(max_length=40)
    recipient = models.CharField(max_length=120, blank=True)
    payload = models.JSONField(default=dict)
    delivered_at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "消息投递记录"

    def __str__(self) -> str:
        return str(self.delivery_id)


class Counter(models.Model):
    """A gapless sequence per numbering scope, incremented inside the issuing transaction."""

    scope = models.CharField(max_length=255, unique=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "编号计数器"

    def __str__(self) -> str:
        return f"{self.scope} = {self.value}"


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
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=200, blank=True)
    signature = models.TextField(blank=True)
    key_id = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "电子证照"

    def __str__(self) -> str:
        return self.number


class Holiday(models.Model):
    """A day that differs from Monday–Friday: a holiday on a weekday or a make-up workday."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否上班")
    name = models.CharField("名称", max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.name}"


class CalendarYear(models.Model):
    """A year whose holiday arrangement has been entered; other years fall back to Mon–Fri."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=40, default="admin")

    class Meta:
        verbose_name = verbose_name_plural = "已录入节假日的年份"
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
