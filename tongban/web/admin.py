"""Django admin: orgs, users and their roles, the holiday calendar, the loaded catalog."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse
from django.urls import path

from tongban.services import calendar, catalog
from tongban.store.models import (
    CalendarYear,
    Holiday,
    MatterVersion,
    Membership,
    Org,
    Profile,
    RevealLog,
)
from tongban.web.views.auth import ThrottledAdminAuthenticationForm

# The admin signs in through the same throttle as the site (services.auth's backend);
# this form only says so in words instead of "wrong password".
admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = "通办 · 系统管理"
admin.site.site_title = "通办管理"
admin.site.index_title = "管理"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["org"]


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    autocomplete_fields = ["home_org"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class TongbanUserAdmin(UserAdmin):
    inlines = [ProfileInline, MembershipInline]


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent", "head"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent", "head"]
    readonly_fields = ["path"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "org", "role"]
    list_filter = ["role", "org__level"]
    search_fields = ["user__username", "user__first_name", "org__name", "role"]
    autocomplete_fields = ["user", "org"]


class _CalendarChanged:
    """Editing the calendar takes effect at once in this process (others within a minute)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        calendar.invalidate()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        calendar.invalidate()


@admin.register(Holiday)
class HolidayAdmin(_CalendarChanged, admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(CalendarYear)
class CalendarYearAdmin(_CalendarChanged, admin.ModelAdmin):
    list_display = ["year", "source"]


@admin.register(RevealLog)
class RevealLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "case", "field", "ip"]
    list_filter = ["field"]
    search_fields = ["user__username"]
    readonly_fields = [f.name for f in RevealLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MatterVersion)
class MatterVersionAdmin(admin.ModelAdmin):
    list_display = ["code", "version", "name", "category", "current", "loaded_at", "file"]
    list_filter = ["current", "category"]
    search_fields = ["code", "name"]
    readonly_fields = [f.name for f in MatterVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        extra = [
            path(
                "check/",
                self.admin_site.admin_view(self.check_view),
                name="store_matterversion_check",
            )
        ]
        return extra + super().get_urls()

    def check_view(self, request):
        """The catalog page: loaded matters, their versions, and the check of the files."""
        problems = catalog.check([settings.CATALOG_DIR])
        versions = MatterVersion.objects.order_by("code", "-version")
        return TemplateResponse(
            request,
            "admin/catalog_check.html",
            {
                **self.admin_site.each_context(request),
                "title": "事项目录检查",
                "problems": problems,
                "versions": versions,
                "catalog_dir": settings.CATALOG_DIR,
            },
        )


from tongban.web import admin_registry  # noqa: E402,F401 (registers the registries)
