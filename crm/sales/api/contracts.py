"""contracts API."""

urlpatterns: list = []
