"""commissions API."""

urlpatterns: list = []
