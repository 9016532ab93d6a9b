"""HQ API: scores."""

urlpatterns: list = []
