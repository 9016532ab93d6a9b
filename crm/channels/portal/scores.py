"""Partner portal pages: scores."""

urlpatterns: list = []
