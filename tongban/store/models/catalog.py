"""Loaded catalog versions and the working-day calendar."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class MatterVersion(models.Model):
    """One loaded version of a catalog file. A changed file becomes a new version;
    running cases keep the version they started on."""

    code = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=10, default="matter")  # matter or bundle
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=100, blank=True)
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
