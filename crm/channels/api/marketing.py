"""HQ API: marketing."""

urlpatterns: list = []
