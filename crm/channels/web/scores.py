"""HQ pages: scores."""

urlpatterns: list = []
