"""HQ pages: marketing."""

urlpatterns: list = []
