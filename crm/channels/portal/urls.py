"""Partner portal pages (/portal/): each area's module holds its own urlpatterns."""

from crm.channels.portal import (
    agreements,
    deals,
    home,
    inventory,
    marketing,
    scores,
    sellin,
    sellthrough,
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
