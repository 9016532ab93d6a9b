"""workspace pages (HTML)."""

urlpatterns: list = []
