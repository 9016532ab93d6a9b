"""leads pages (HTML)."""

urlpatterns: list = []
