"""HQ pages: inventory."""

urlpatterns: list = []
