"""The transactional outbox and the delivery log."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Outbox(models.Model):
    """A message written in the same transaction as the change that caused it, delivered
    later by the worker exactly once (its delivery_id is the idempotency key)."""

    # Not indexed: nothing looks a message up by its delivery id or case, and a random
    # UUID's index entry lands on a random page with every message. Duplicate deliveries
    # are caught where they matter, by Delivery.delivery_id (unique).
    delivery_id = models.UUIDField(default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "store.Case", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
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
