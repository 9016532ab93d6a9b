"""Column shapes the channel records share (the sales documents' own, so sums line up)."""

from crm.sales.models.base import MONEY, PERCENT, QUANTITY

__all__ = ["MONEY", "PERCENT", "QUANTITY"]
