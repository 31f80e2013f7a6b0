"""Follow-up reports filed (or missed) per period, and reminders already sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FollowupReport(models.Model):
    """One period of a recurring report: filed (with its data) or missed."""

    case = models.ForeignKey("store.Case", on_delete=models.CASCADE, related_name="reports")
    key = models.CharField(max_length=64)
    period = models.PositiveIntegerField()
    period_start = models.DateTimeField()
    due_at = models.DateTimeField()
    data = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    missed = models.BooleanField(default=False)

    class Meta:
        verbose_name = verbose_name_plural = "跟踪报告"
        constraints = [
            models.UniqueConstraint(fields=["case", "key", "period"], name="report_period_unique")
        ]
        ordering = ["case", "key", "period"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.key} #{self.period + 1}"


class Reminder(models.Model):
    """A reminder sent for one dated row (e.g. an instalment), so it is sent once."""

    case = models.ForeignKey("store.Case", on_delete=models.CASCADE, related_name="reminders")
    key = models.CharField(max_length=64)
    row = models.PositiveIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "到期提醒"
        constraints = [models.UniqueConstraint(fields=["case", "key", "row"], name="reminder_once")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.key} #{self.row}"
