"""Partner portal pages: sellthrough."""

urlpatterns: list = []
