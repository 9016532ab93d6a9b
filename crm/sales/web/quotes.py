"""quotes pages (HTML)."""

urlpatterns: list = []
