"""HQ API: sellin."""

urlpatterns: list = []
