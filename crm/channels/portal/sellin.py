"""Partner portal pages: sellin."""

urlpatterns: list = []
