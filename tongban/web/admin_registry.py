"""Django admin for the registries, generated from the kind descriptions.

Lists mask ID numbers and phones; opening a record's change page shows them in full and
is logged in RevealLog like a reveal on the workbench. Health tags are left out of the
admin for users without a `sees_health` role. Non-superusers see only their jurisdiction.
"""

from __future__ import annotations

from django.contrib import admin

from tongban.services import registry
from tongban.store.models import ImportJob, RevealLog
from tongban.web.views.common import client_ip


def _masked(col):
    def show(obj):
        return registry.mask_value(col, getattr(obj, col.key))

    show.short_description = col.header
    return show


def _has_health_role(user) -> bool:
    roles = set(user.memberships.values_list("role", flat=True))
    return bool(roles & registry.health_roles())


class RegistryAdmin(admin.ModelAdmin):
    kind = None  # set per registry below
    autocomplete_fields = ["org"]
    list_select_related = ["org"]
    readonly_fields = ["created_at", "updated_at", "updated_by"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.visible_to(request.user)

    def get_exclude(self, request, obj=None):
        if _has_health_role(request.user):
            return []
        return [c.key for c in self.kind.health]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200 and self.kind.personal:
            RevealLog.objects.create(
                user=request.user,
                subject=f"{self.kind.name}:{object_id}",
                field="admin:" + ",".join(c.key for c in self.kind.personal),
                ip=client_ip(request),
            )
        return response


def _admin_for(kind):
    listed = []
    for key in (*kind.title, *kind.listed):
        col = kind.column(key)
        if key in listed or col.health:
            continue
        listed.append(key)
    display = [_masked(kind.column(k)) if kind.column(k).personal else k for k in listed]
    search = []
    for key in kind.search:
        col = kind.column(key)
        if col.health:
            continue
        search.append(f"={key}" if col.personal else key)
    filters = [k for k in kind.filters if kind.column(k).type in ("choice", "bool")]
    return type(
        f"{kind.model}Admin",
        (RegistryAdmin,),
        {
            "kind": kind,
            "list_display": [*display, "org", "updated_at"],
            "search_fields": search,
            "list_filter": [*filters, "org__level"],
        },
    )


for _kind in registry.kinds():
    admin.site.register(registry.model_of(_kind), _admin_for(_kind))


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "file_name", "user", "status", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["file_name", "user__username"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
