"""Volunteer dispatch and service-circle pages under /dispatch/ (志愿者调度)."""

from django.urls import path

from tongban.web.views import dispatch, dispatch_circle

app_name = "dispatch"

urlpatterns = [
    path("", dispatch.index, name="index"),
    path("template.xlsx", dispatch.template, name="template"),
    path("circle/", dispatch_circle.circle, name="circle"),
    path("<int:pk>/", dispatch.demand_set, name="set"),
    path("<int:pk>/lines/", dispatch.add_line, name="add_line"),
    path("<int:pk>/lines/<int:line_id>/delete/", dispatch.delete_line, name="delete_line"),
    path("<int:pk>/rules/", dispatch.rules, name="rules"),
    path("<int:pk>/upload/", dispatch.upload, name="upload"),
    path("<int:pk>/plan/", dispatch.run, name="run"),
    path("<int:pk>/drop/", dispatch.drop, name="drop"),
    path("<int:pk>/roster/", dispatch.roster, name="roster"),
    path("<int:pk>/roster.xlsx", dispatch.roster_xlsx, name="roster_xlsx"),
]
