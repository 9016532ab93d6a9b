"""Sales reads, one module per area; importing them registers their lists (X1)."""

from crm.sales.selectors import (  # noqa: F401
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
