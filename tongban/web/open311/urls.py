from django.urls import path, re_path

from tongban.web.open311 import views

app_name = "open311"
FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    path("", views.root, name="root"),
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<code>[^/]{1,64}?)" + FMT, views.definition, name="definition"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]{1,40}?)" + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]{1,40}?)" + FMT, views.token, name="token"),
    re_path(r"^(?P<path>.*)$", views.unknown),
]
