"""Partner portal pages (/portal/): each area's module holds its own urlpatterns."""

from crm.channels.portal import (
    home,
    agreements,
    sellin,
    sellthrough,
    inventory,
    scores,
    marketing,
    deals,
)

app_name = "portal"

urlpatterns = [
    *home.urlpatterns,
    *agreements.urlpatterns,
    *sellin.urlpatterns,
    *sellthrough.urlpatterns,
    *inventory.urlpatterns,
    *scores.urlpatterns,
    *marketing.urlpatterns,
    *deals.urlpatterns,
]
