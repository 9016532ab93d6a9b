"""orders API."""

urlpatterns: list = []
