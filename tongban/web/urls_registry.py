"""Registry pages under /registry/ (台账)."""

from django.urls import path

from tongban.web.views import registry

urlpatterns = [
    path("", registry.index, name="registry"),
    path("jobs/<uuid:token>/", registry.job, name="registry_job"),
    path("jobs/<uuid:token>/progress", registry.job_progress, name="registry_job_progress"),
    path("jobs/<uuid:token>/rejected.xlsx", registry.job_rejected, name="registry_job_rejected"),
    path("<slug:kind>/", registry.records, name="registry_list"),
    path("<slug:kind>/lookup", registry.lookup, name="registry_lookup"),
    path("<slug:kind>/template.xlsx", registry.template, name="registry_template"),
    path("<slug:kind>/export.xlsx", registry.export, name="registry_export"),
    path("<slug:kind>/import/", registry.upload, name="registry_import"),
    path("<slug:kind>/<int:pk>/", registry.record, name="registry_record"),
    path("<slug:kind>/<int:pk>/reveal/", registry.reveal, name="registry_reveal"),
]
