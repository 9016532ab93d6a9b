"""HQ pages: agreements."""

urlpatterns: list = []
