"""Partner portal pages: inventory."""

urlpatterns: list = []
