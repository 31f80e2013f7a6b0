"""Status vocabularies, in one place."""

from django.db import models


class Level(models.TextChoices):
    DISTRICT = "district", "区"
    STREET = "street", "街道/镇"
    COMMUNITY = "community", "社区/村"
    GRID = "grid", "网格"


LEVELS = ("district", "street", "community", "grid")  # the order of depth in the tree


class Outcome(models.TextChoices):
    OPEN = "", "办理中"
    COMPLETED = "completed", "办结"
    REFUSED = "refused", "不予受理/不予许可"
    WITHDRAWN = "withdrawn", "已撤回"
    CLOSED = "closed", "已关闭"


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", "提交申请"
    MOVED = "moved", "办理"
    SIGNED = "signed", "会签"
    TRANSFERRED = "transferred", "转交"
    EXTENDED = "extended", "延期"
    OVERDUE = "overdue", "超期"
    ESCALATED = "escalated", "督办"
    REPORTED = "reported", "报告"
    REPORT_MISSED = "report_missed", "报告逾期"
    REMINDED = "reminded", "到期提醒"
    NOTED = "noted", "记录"
    CERTIFICATE = "certificate", "发证"


class ApplicantKind(models.TextChoices):
    PERSON = "person", "个人"
    ENTERPRISE = "enterprise", "企业"
    STAFF = "staff", "工作人员"
