"""HQ channel pages: each area's module holds its own urlpatterns."""

from crm.channels.web import (
    agreements,
    dashboard,
    deals,
    inventory,
    marketing,
    partners,
    scores,
    sellin,
    sellthrough,
)

app_name = "channels"

urlpatterns = [
    *partners.urlpatterns,
    *agreements.urlpatterns,
    *sellin.urlpatterns,
    *sellthrough.urlpatterns,
    *inventory.urlpatterns,
    *scores.urlpatterns,
    *marketing.urlpatterns,
    *deals.urlpatterns,
    *dashboard.urlpatterns,
]
