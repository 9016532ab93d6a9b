"""quotes API."""

urlpatterns: list = []
