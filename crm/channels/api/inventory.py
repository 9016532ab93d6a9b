"""HQ API: inventory."""

urlpatterns: list = []
