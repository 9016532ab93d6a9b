"""opportunities pages (HTML)."""

urlpatterns: list = []
