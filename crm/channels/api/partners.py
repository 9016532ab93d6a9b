"""HQ API: partners."""

urlpatterns: list = []
