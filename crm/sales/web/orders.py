"""orders pages (HTML)."""

urlpatterns: list = []
