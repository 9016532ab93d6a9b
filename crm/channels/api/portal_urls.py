"""Partner portal API (/api/v1/portal/): each area's module holds its own urlpatterns."""

from crm.channels.api import (
    portal_agreements,
    portal_deals,
    portal_home,
    portal_inventory,
    portal_marketing,
    portal_scores,
    portal_sellin,
    portal_sellthrough,
)

urlpatterns = [
    *portal_home.urlpatterns,
    *portal_agreements.urlpatterns,
    *portal_sellin.urlpatterns,
    *portal_sellthrough.urlpatterns,
    *portal_inventory.urlpatterns,
    *portal_scores.urlpatterns,
    *portal_marketing.urlpatterns,
    *portal_deals.urlpatterns,
]
