"""Bundles (一件事): one submission, one sub-case per applicable item."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Bundle(models.Model):
    """One submission of a bundle; its items become cases of their own matters."""

    version = models.ForeignKey("store.MatterVersion", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=64)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bundles"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    org = models.ForeignKey("store.Org", on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict)
    submitted_at = models.DateTimeField()
    due_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # "" open; completed (every applicable item done); partial (some refused or
    # withdrawn, the rest done); refused (none done)
    outcome = models.CharField(max_length=12, blank=True, default="")
    overdue = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name = verbose_name_plural = "一件事办件"
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="bundle_idempotency_unique",
            )
        ]
        indexes = [models.Index(fields=["outcome", "due_at"], name="bundle_open_due")]

    def __str__(self) -> str:
        return f"{self.code} #{self.pk}"


class BundleItem(models.Model):
    """One item of a submitted bundle: waiting for another item's output, skipped by its
    condition, or running as a case."""

    WAITING, SKIPPED, ACTIVE, COMPLETED, REFUSED, WITHDRAWN = (
        "waiting",
        "skipped",
        "active",
        "completed",
        "refused",
        "withdrawn",
    )
    STATUS_LABELS = {
        WAITING: "等待前置事项",
        SKIPPED: "不适用",
        ACTIVE: "办理中",
        COMPLETED: "已办结",
        REFUSED: "未通过",
        WITHDRAWN: "已撤回",
    }

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=64)
    row = models.PositiveIntegerField(default=0)
    matter_code = models.CharField(max_length=64)
    status = models.CharField(max_length=12)
    case = models.OneToOneField(
        "store.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="bundle_item"
    )
    data = models.JSONField(default=dict)  # answers for an item still waiting
    materials = models.JSONField(default=dict)
    reason = models.TextField(blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "一件事事项"
        constraints = [
            models.UniqueConstraint(fields=["bundle", "key", "row"], name="bundle_item_unique")
        ]
        ordering = ["bundle", "pk"]

    def __str__(self) -> str:
        return f"{self.bundle_id}/{self.key}#{self.row}"
