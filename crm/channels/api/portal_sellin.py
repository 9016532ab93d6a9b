"""Partner portal API: sellin."""

urlpatterns: list = []
