"""HQ pages: dashboard."""

urlpatterns: list = []
