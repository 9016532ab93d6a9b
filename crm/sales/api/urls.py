"""Sales API: each area's module holds its own urlpatterns."""

from crm.sales.api import (
    analysis,
    commissions,
    contracts,
    leads,
    opportunities,
    orders,
    payments,
    plans,
    quotes,
    workspace,
)

urlpatterns = [
    *leads.urlpatterns,
    *opportunities.urlpatterns,
    *quotes.urlpatterns,
    *contracts.urlpatterns,
    *orders.urlpatterns,
    *payments.urlpatterns,
    *commissions.urlpatterns,
    *plans.urlpatterns,
    *analysis.urlpatterns,
    *workspace.urlpatterns,
]
