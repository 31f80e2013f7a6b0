"""Volunteer dispatch (志愿者调度): demand sets, the plans made for them, assignments.

A demand set belongs to an org (a street or a community): its sites and volunteers are
the places and volunteer profiles registered within that org's subtree, and it carries
the org's jurisdiction columns (j_<level>) like cases and registry records, so
"plans in my area" is an exact match on an indexed column. Every plan run is kept; the
newest is the current one. The solver itself (tongban.dispatch) knows nothing of this.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tongban.store.models.org import InJurisdiction
from tongban.store.queries import jurisdiction_q


class DemandSetQuerySet(models.QuerySet):
    def visible_to(self, user) -> DemandSetQuerySet:
        """Demand sets in the org subtrees where the user holds any role."""
        if not user or not user.is_authenticated:
            return self.none()
        pairs = set(user.memberships.values_list("org__level", "org__code"))
        if not pairs:
            return self.none()
        return self.filter(jurisdiction_q(pairs))


class DemandSet(InJurisdiction):
    """A coordinator's call for volunteers (排班需求): sites × shifts × roles × counts,
    with the rules every volunteer of the plan shares (range, shifts per person)."""

    org = models.ForeignKey(
        "store.Org", verbose_name="组织单位", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("名称", max_length=100)
    max_km = models.FloatField("最远出行距离（公里）", default=5.0)
    max_shifts = models.PositiveSmallIntegerField("每人最多班次", default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = DemandSetQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "排班需求"
        indexes = [
            models.Index(fields=["j_street"], name="demandset_j_s"),
            models.Index(fields=["j_community"], name="demandset_j_c"),
        ]

    def __str__(self) -> str:
        return self.title


class DemandLine(models.Model):
    """``count`` volunteers with skill ``role`` wanted at ``place`` during ``shift``
    (e.g. "2022-04-10 上午")."""

    demand_set = models.ForeignKey(DemandSet, on_delete=models.CASCADE, related_name="lines")
    place = models.ForeignKey(
        "store.Place", verbose_name="站点", on_delete=models.PROTECT, related_name="+"
    )
    shift = models.CharField("班次", max_length=40)
    role = models.CharField("岗位", max_length=40)
    count = models.PositiveIntegerField("人数")

    class Meta:
        verbose_name = verbose_name_plural = "排班需求明细"
        constraints = [
            models.UniqueConstraint(
                fields=["demand_set", "place", "shift", "role"], name="demandline_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.place_id} {self.shift} {self.role} × {self.count}"


class DispatchPlan(models.Model):
    """One planning run for a demand set. ``unfilled`` lists the short demand with its
    reason; ``dropped`` the volunteer ids left out because they dropped out (cumulative)."""

    class Kind(models.TextChoices):
        PLAN = "plan", "排班"
        REPLAN = "replan", "调整排班"
        DROP = "drop", "志愿者退出后重排"

    demand_set = models.ForeignKey(DemandSet, on_delete=models.CASCADE, related_name="plans")
    kind = models.CharField("方式", max_length=10, choices=Kind.choices, default=Kind.PLAN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="排班人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("排班时间")
    filled = models.PositiveIntegerField("已安排人次", default=0)
    missing = models.PositiveIntegerField("缺口人次", default=0)
    total_m = models.BigIntegerField("总出行距离（米）", default=0)
    added = models.PositiveIntegerField("新增安排", default=0)
    removed = models.PositiveIntegerField("取消安排", default=0)
    unfilled = models.JSONField("缺口", default=list, blank=True)
    dropped = models.JSONField("已退出的志愿者", default=list, blank=True)
    stats = models.JSONField("运行信息", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "排班方案"
        indexes = [models.Index(fields=["demand_set", "-id"], name="dispatchplan_latest")]

    def __str__(self) -> str:
        return f"{self.demand_set_id}#{self.pk}"


class DispatchAssignment(models.Model):
    """Volunteer ``volunteer`` works ``role`` at ``place`` during ``shift``; ``metres`` of
    great-circle travel from home."""

    plan = models.ForeignKey(DispatchPlan, on_delete=models.CASCADE, related_name="assignments")
    volunteer = models.ForeignKey(
        "store.Volunteer", verbose_name="志愿者", on_delete=models.PROTECT, related_name="+"
    )
    place = models.ForeignKey(
        "store.Place", verbose_name="站点", on_delete=models.PROTECT, related_name="+"
    )
    shift = models.CharField("班次", max_length=40)
    role = models.CharField("岗位", max_length=40)
    metres = models.PositiveIntegerField("出行距离（米）")

    class Meta:
        verbose_name = verbose_name_plural = "排班安排"
        constraints = [
            models.UniqueConstraint(fields=["plan", "volunteer", "shift"], name="assignment_slot")
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} → {self.place_id} {self.shift} {self.role}"
