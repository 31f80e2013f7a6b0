"""Request (诉求) configuration and learning data: the routing table and dispatcher
corrections."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RoutingRule(models.Model):
    """Category (+ area) → the department role that handles it. Admins edit this table
    (and export/import it as xlsx); the most specific area wins."""

    category = models.CharField("诉求类别", max_length=40)
    org = models.ForeignKey(
        "store.Org",
        verbose_name="适用区域（空＝全部）",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    department = models.CharField("承办部门角色", max_length=64)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "派单规则"
        constraints = [
            models.UniqueConstraint(fields=["category", "org"], name="routing_rule_unique"),
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(org__isnull=True),
                name="routing_rule_default_unique",
            ),
        ]
        ordering = ["category", "org"]

    def __str__(self) -> str:
        return f"{self.category} → {self.department}"


class RoutingCorrection(models.Model):
    """A dispatcher's correction of the classifier: used by the next `tongban routing train`."""

    case = models.ForeignKey("store.Case", on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    predicted = models.CharField(max_length=40, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    corrected = models.CharField(max_length=40)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "派单纠正记录"

    def __str__(self) -> str:
        return f"{self.predicted} → {self.corrected}"
