"""commissions pages (HTML)."""

urlpatterns: list = []
