"""Channel models (D1–D10), one module per area."""

from crm.channels.models.agreements import Agreement, AgreementTerm
from crm.channels.models.deals import DealRegistration
from crm.channels.models.inventory import StockBound, StockCount
from crm.channels.models.marketing import (
    ExecutionReport,
    FundRequest,
    PartnerPlan,
    Promotion,
)
from crm.channels.models.partners import ApiKey, Partner, PartnerUser, Territory, Tier
from crm.channels.models.scores import (
    Kpi,
    PartnerScore,
    PartnerTarget,
    PartnerTargetLine,
    PeriodKind,
    ScorePeriod,
)
from crm.channels.models.sellin import (
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
)
from crm.channels.models.sellthrough import SellThroughLine, SellThroughReport

__all__ = [
    "Agreement",
    "AgreementTerm",
    "ApiKey",
    "DealRegistration",
    "ExecutionReport",
    "FundRequest",
    "Kpi",
    "Partner",
    "PartnerPlan",
    "PartnerScore",
    "PartnerTarget",
    "PartnerTargetLine",
    "PartnerUser",
    "PeriodKind",
    "Promotion",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Receipt",
    "ReceiptLine",
    "ScorePeriod",
    "SellThroughLine",
    "SellThroughReport",
    "StockBound",
    "StockCount",
    "Territory",
    "Tier",
]
