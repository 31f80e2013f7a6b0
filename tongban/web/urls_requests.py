"""诉求 pages under /requests/."""

from django.urls import path

from tongban.web.views import requests as views
from tongban.web.views import requests_admin as admin
from tongban.web.views import requests_handling as handling

app_name = "requests"

urlpatterns = [
    path("new/", views.new, name="new"),
    path("track/", views.track, name="track"),
    path("hotline/", views.hotline, name="hotline"),
    path("hotline/similar/", views.hotline_similar, name="hotline_similar"),
    path("queue/", handling.queue, name="queue"),
    path("queue/<int:case_id>/dispatch/", handling.dispatch, name="dispatch"),
    path("<int:case_id>/", handling.detail, name="detail"),
    path("<int:case_id>/merge/", handling.merge, name="merge"),
    path("<int:case_id>/unmerge/", handling.unmerge, name="unmerge"),
    path("<int:case_id>/relocate/", handling.relocate, name="relocate"),
    path("<int:case_id>/refer/", handling.refer, name="refer"),
    path("routing/", admin.routing, name="routing"),
    path("routing/export.xlsx", admin.routing_export, name="routing_export"),
    path("dashboard/", admin.dashboard, name="dashboard"),
]
