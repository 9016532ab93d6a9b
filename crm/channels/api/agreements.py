"""HQ API: agreements."""

urlpatterns: list = []
