"""HQ pages: sellin."""

urlpatterns: list = []
