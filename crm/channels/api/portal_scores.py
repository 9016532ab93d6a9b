"""Partner portal API: scores."""

urlpatterns: list = []
