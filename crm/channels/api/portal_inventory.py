"""Partner portal API: inventory."""

urlpatterns: list = []
