"""Partner portal pages: agreements."""

urlpatterns: list = []
