"""What the portal and workbench keep besides cases: uploads, drafts, ratings, PII reveals,
API tokens and login attempts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Upload(models.Model):
    """An uploaded file, stored by the sha256 of its content (never by its name)."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    file_type = models.CharField(max_length=10)  # detected from the content
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "上传文件"

    def __str__(self) -> str:
        return self.sha256[:12]


class Draft(models.Model):
    """An application saved before submitting (草稿)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    matter_code = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    materials = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "草稿"
        constraints = [
            models.UniqueConstraint(fields=["user", "matter_code"], name="draft_one_per_matter")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.matter_code}"


class Rating(models.Model):
    """好差评: one rating per completed case, 5 levels."""

    LEVELS = [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")]

    case = models.OneToOneField("store.Case", on_delete=models.CASCADE, related_name="rating")
    level = models.PositiveSmallIntegerField("评价", choices=LEVELS)
    comment = models.TextField("意见", blank=True, max_length=1000)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    rectification = models.ForeignKey(
        "store.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "好差评"

    def __str__(self) -> str:
        return f"{self.case_id}: {self.get_level_display()}"


class RevealLog(models.Model):
    """Every reveal of masked personal data: who, what, when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    case = models.ForeignKey("store.Case", null=True, blank=True, on_delete=models.SET_NULL)
    subject = models.CharField(max_length=120, blank=True)  # e.g. "person:42" for registries
    field = models.CharField(max_length=120)
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "个人信息查看记录"
        indexes = [models.Index(fields=["case", "at"], name="reveal_case")]

    def __str__(self) -> str:
        return f"{self.user} {self.field} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """An API token; only its sha256 is stored, the token is shown once on creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=80, blank=True)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class LoginAttempt(models.Model):
    """Failed logins, counted per username and per address to throttle guessing."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "登录失败记录"

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
