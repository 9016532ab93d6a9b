"""opportunities API."""

urlpatterns: list = []
