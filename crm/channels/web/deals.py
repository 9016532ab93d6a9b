"""HQ pages: deals."""

urlpatterns: list = []
