"""The organisation tree, role memberships and user profiles."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tongban.store.choices import LEVELS, ApplicantKind, Level


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
        expected = LEVELS[len(self.parent.path.split("/"))] if self.parent else LEVELS[0]
        if self.level != expected:
            # Depth and level go together (区 → 街道/镇 → 社区/村 → 网格), which lets a case
            # carry one jurisdiction column per level.
            raise ValueError(f"{self.name}: 该位置的层级应为 {expected}，而不是 {self.level}")
        self.path = f"{self.parent.path}/{self.code}" if self.parent else self.code
        super().save(*args, **kwargs)

    def jurisdiction(self) -> dict[str, str]:
        """The j_<level> columns of a case filed here."""
        return jurisdiction_columns(self.path)

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


def jurisdiction_columns(path: str) -> dict[str, str]:
    codes = path.split("/")
    return {f"j_{level}": codes[i] if i < len(codes) else "" for i, level in enumerate(LEVELS)}


class InJurisdiction(models.Model):
    """Abstract: a record that belongs to an org (its own `org` foreign key) and carries that
    org's jurisdiction columns, so "in my area" is an exact match on an indexed column.
    A one-by-one save copies them from the org; bulk writers set them themselves."""

    j_district = models.CharField(max_length=20, blank=True, editable=False)
    j_street = models.CharField(max_length=20, blank=True, editable=False)
    j_community = models.CharField(max_length=20, blank=True, editable=False)
    j_grid = models.CharField(max_length=20, blank=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        for column, code in self.org.jurisdiction().items():
            setattr(self, column, code)
        super().save(*args, **kwargs)
