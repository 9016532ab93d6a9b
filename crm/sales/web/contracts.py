"""contracts pages (HTML)."""

urlpatterns: list = []
