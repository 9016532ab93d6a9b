"""plans API."""

urlpatterns: list = []
