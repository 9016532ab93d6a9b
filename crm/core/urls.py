from django.urls import path

from crm.core.web import system

app_name = "core"
urlpatterns = [
    path("exports/", system.export_jobs, name="export-jobs"),
    path("exports/<int:pk>/", system.export_job, name="export-job"),
    path("exports/<int:pk>/download/", system.export_download, name="export-download"),
    path("export/<str:key>/", system.export_view, name="export"),
    path("system/parameters/", system.parameters, name="parameters"),
    path("system/sequences/", system.sequences, name="sequences"),
]
