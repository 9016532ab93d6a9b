"""HQ API: dashboard."""

urlpatterns: list = []
