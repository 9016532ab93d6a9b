"""Partner portal API: home."""

urlpatterns: list = []
