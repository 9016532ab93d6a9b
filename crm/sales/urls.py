"""Sales pages: each area's module holds its own urlpatterns."""

from crm.sales.web import (
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

app_name = "sales"

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
