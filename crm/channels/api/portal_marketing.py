"""Partner portal API: marketing."""

urlpatterns: list = []
