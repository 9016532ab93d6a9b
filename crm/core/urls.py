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

# X4 notifications (crm/core/web/notifications.py, API crm/core/api/notifications.py)
# and X5 calendar feed (crm/core/web/calendar.py).
from rest_framework.routers import SimpleRouter  # noqa: E402

from crm.core.api.notifications import NotificationViewSet  # noqa: E402
from crm.core.web import calendar as calendar_views  # noqa: E402
from crm.core.web import notifications as notification_views  # noqa: E402

_notification_api = SimpleRouter()
_notification_api.register(
    "api/v1/notifications", NotificationViewSet, basename="api-notification"
)

urlpatterns += [
    path("notifications/", notification_views.notifications, name="notifications"),
    path(
        "notifications/bell/",
        notification_views.notification_bell,
        name="notification-bell",
    ),
    path(
        "notifications/read-all/",
        notification_views.notifications_read_all,
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        notification_views.notification_read,
        name="notification-read",
    ),
    path(
        "notifications/<int:pk>/open/",
        notification_views.notification_open,
        name="notification-open",
    ),
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path(
        "calendar/regenerate/",
        calendar_views.calendar_regenerate,
        name="calendar-regenerate",
    ),
    path("calendar/revoke/", calendar_views.calendar_revoke, name="calendar-revoke"),
    path("calendar/<str:token>.ics", calendar_views.calendar_ics, name="calendar-ics"),
    *_notification_api.urls,
]
