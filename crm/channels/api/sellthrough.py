"""HQ API: sellthrough."""

urlpatterns: list = []
