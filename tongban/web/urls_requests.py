"""诉求 pages under /requests/."""

from django.urls import path

from tongban.web.views import requests as views

app_name = "requests"

urlpatterns = [
    path("new/", views.new, name="new"),
    path("track/", views.track, name="track"),
    path("hotline/", views.hotline, name="hotline"),
    path("hotline/similar/", views.hotline_similar, name="hotline_similar"),
    path("queue/", views.queue, name="queue"),
    path("queue/<int:case_id>/dispatch/", views.dispatch, name="dispatch"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/merge/", views.merge, name="merge"),
    path("<int:case_id>/unmerge/", views.unmerge, name="unmerge"),
    path("<int:case_id>/relocate/", views.relocate, name="relocate"),
    path("<int:case_id>/refer/", views.refer, name="refer"),
    path("routing/", views.routing, name="routing"),
    path("routing/export.xlsx", views.routing_export, name="routing_export"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
