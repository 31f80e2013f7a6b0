"""Requests (诉求) that repeat an open one (附议 / 重复件), and the short query codes a
resident uses to follow a request (also the Open311 `token`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RequestLink(models.Model):
    """A new request found close in text, place and time to an open one (its `original`).

    `linked`: shown to handlers as a "me too" (附议) on the original. `merged`: the newer
    request waits in state `merged` and is answered with the original. `separate`: a handler
    decided it is not the same problem (or split a merged one out again); it no longer
    counts."""

    LINKED, MERGED, SEPARATE = "linked", "merged", "separate"
    STATUSES = [(LINKED, "疑似重复"), (MERGED, "已并案"), (SEPARATE, "已拆分")]

    request = models.OneToOneField(
        "store.Case", on_delete=models.CASCADE, related_name="duplicate_link"
    )
    original = models.ForeignKey("store.Case", on_delete=models.CASCADE, related_name="me_too")
    similarity = models.FloatField("文本相似度")
    distance_m = models.FloatField("距离（米）", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=STATUSES, default=LINKED)
    created_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "重复诉求关联"
        indexes = [models.Index(fields=["original", "status"], name="request_link_original")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(request=models.F("original")), name="request_link_not_self"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.original_id} ({self.status})"


class RequestToken(models.Model):
    """A request's query code (查询码): told to the caller or shown after filing, resolved
    by `GET /open311/v2/tokens/{token}` to the request's id."""

    token = models.CharField(max_length=16, unique=True)
    case = models.OneToOneField("store.Case", on_delete=models.CASCADE, related_name="token")

    class Meta:
        verbose_name = verbose_name_plural = "诉求查询码"

    def __str__(self) -> str:
        return self.token
