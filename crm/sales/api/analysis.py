"""analysis API."""

urlpatterns: list = []
