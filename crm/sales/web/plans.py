"""plans pages (HTML)."""

urlpatterns: list = []
