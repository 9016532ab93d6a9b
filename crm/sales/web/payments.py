"""payments pages (HTML)."""

urlpatterns: list = []
