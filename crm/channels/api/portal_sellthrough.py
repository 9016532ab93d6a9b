"""Partner portal API: sellthrough."""

urlpatterns: list = []
