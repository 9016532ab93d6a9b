"""Partner portal pages: deals."""

urlpatterns: list = []
