"""payments API."""

urlpatterns: list = []
