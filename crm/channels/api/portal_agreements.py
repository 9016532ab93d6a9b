"""Partner portal API: agreements."""

urlpatterns: list = []
