"""API endpoints of the platform itself, under /api/v1/auth/."""

from django.urls import path

from crm.core.api.auth import TokenView

urlpatterns = [
    path("token/", TokenView.as_view(), name="api-token"),
]
