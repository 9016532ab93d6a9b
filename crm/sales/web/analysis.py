"""analysis pages (HTML)."""

urlpatterns: list = []
