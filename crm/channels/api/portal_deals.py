"""Partner portal API: deals."""

urlpatterns: list = []
