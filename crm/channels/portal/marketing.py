"""Partner portal pages: marketing."""

urlpatterns: list = []
