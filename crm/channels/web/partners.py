"""HQ pages: partners."""

urlpatterns: list = []
