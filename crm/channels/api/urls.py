"""HQ channel API: each area's module holds its own urlpatterns."""

from crm.channels.api import (
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
