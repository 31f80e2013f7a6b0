"""Pack reports under /reports/: one line per report page."""

from django.urls import path  # noqa: F401 (used by the lines below)

urlpatterns: list = []
urlpatterns.append(path("resumption/", ("tongban.web.views.reports_resumption", None, None)))

from tongban.web.views import reports_community  # noqa: E402 (community-service packs)

urlpatterns += [
    path("food/", reports_community.food_publication, name="report_food"),
    path("home-work/", reports_community.home_work_income, name="report_home_work"),
    path(
        "mediation/<int:case_id>/agreement.pdf",
        reports_community.mediation_agreement,
        name="mediation_agreement",
    ),
]
