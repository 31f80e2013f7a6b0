from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tongban.web.api import api
from tongban.web.views import auth, bundles, files, pickers, portal, supervise, work

urlpatterns = [
    path("", portal.home, name="home"),
    path("healthz", portal.healthz, name="healthz"),
    path("matters/", portal.matters, name="matters"),
    path("matters/<slug:code>/", portal.matter, name="matter"),
    path("matters/<slug:code>/apply/", portal.apply, name="apply"),
    path("bundles/<slug:code>/", bundles.bundle, name="bundle"),
    path("bundles/<slug:code>/apply/", bundles.apply, name="bundle_apply"),
    path("my/bundles/<int:bundle_id>/", bundles.my_bundle, name="my_bundle"),
    path("my/", portal.my_cases, name="my_cases"),
    path("my/cases/<int:case_id>/", portal.my_case, name="my_case"),
    path("my/cases/<int:case_id>/act/<slug:action>/", portal.my_case_act, name="my_case_act"),
    path("my/cases/<int:case_id>/rate/", portal.rate, name="rate"),
    path("my/cases/<int:case_id>/report/<slug:key>/", portal.report, name="report"),
    path("work/", work.worklist_view, name="worklist"),
    path("work/cases/<int:case_id>/", work.case_view, name="work_case"),
    path("work/cases/<int:case_id>/act/<slug:action>/", work.act_view, name="work_act"),
    path("work/cases/<int:case_id>/reveal/", work.reveal_view, name="reveal"),
    path(
        "work/cases/<int:case_id>/certificates/<str:number>/revoke/",
        work.revoke_view,
        name="work_revoke",
    ),
    path("work/bulk/", work.bulk_accept, name="bulk_accept"),
    path("work/register/", work.register, name="register"),
    path("work/register/<slug:code>/", work.register, name="register_matter"),
    path("files/<int:case_id>/<str:sha>", files.material, name="material"),
    path("certificates/<str:number>.pdf", files.certificate_pdf, name="certificate_pdf"),
    path("verify/", files.verify_lookup, name="verify_lookup"),
    path("verify/<str:number>", files.verify, name="verify"),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("supervise/", supervise.dashboard, name="dashboard"),
    path("supervise/overdue/", supervise.overdue, name="supervise_overdue"),
    path("supervise/cases/<int:case_id>/escalate/", supervise.escalate, name="supervise_escalate"),
    path("supervise/export.xlsx", supervise.export, name="supervise_export"),
    path("api/", api.urls),
    path("reports/", include("tongban.web.urls_reports")),
    path("registry/", include("tongban.web.urls_registry")),
    path("open311/v2/", include("tongban.web.open311.urls")),
    path("requests/", include("tongban.web.urls_requests")),
    path("dispatch/", include("tongban.web.urls_dispatch")),
    path("pick/<slug:kind>/", pickers.search, name="pick_search"),
    path("pick/<slug:kind>/<int:pk>/", pickers.choose, name="pick_choose"),
    path("admin/", admin.site.urls),
]
handler500 = "tongban.web.middleware.server_error"
