"""workspace API."""

urlpatterns: list = []
