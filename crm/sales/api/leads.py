"""leads API."""

urlpatterns: list = []
