"""HQ pages: sellthrough."""

urlpatterns: list = []
