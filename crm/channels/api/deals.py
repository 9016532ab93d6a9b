"""HQ API: deals."""

urlpatterns: list = []
