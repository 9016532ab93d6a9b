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

# C4 imports (crm/core/web/imports.py): /import/<key>/ for every registered ImportSpec.
from crm.core.web import imports as import_views  # noqa: E402

urlpatterns += [
    path("import/<str:key>/", import_views.import_upload, name="import"),
    path(
        "import/<str:key>/template/",
        import_views.import_template_download,
        name="import-template",
    ),
    path("import/<str:key>/<int:pk>/", import_views.import_job, name="import-job"),
    path("import/<str:key>/<int:pk>/map/", import_views.import_map, name="import-map"),
    path(
        "import/<str:key>/<int:pk>/commit/",
        import_views.import_commit,
        name="import-commit",
    ),
    path(
        "import/<str:key>/<int:pk>/errors/",
        import_views.import_errors,
        name="import-errors",
    ),
]
