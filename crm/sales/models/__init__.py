"""Sales models (S1–S8), one module per aggregate."""

from crm.sales.models.commissions import (
    CommissionLine,
    CommissionPeriod,
    CommissionRule,
)
from crm.sales.models.contracts import (
    Contract,
    ContractAttachment,
    ContractLine,
    Instalment,
)
from crm.sales.models.leads import AssignmentRule, Lead, LeadFollowUp
from crm.sales.models.opportunities import (
    Competitor,
    Opportunity,
    OpportunityProduct,
    Stage,
    StageChange,
)
from crm.sales.models.orders import SalesOrder, SalesOrderLine
from crm.sales.models.payments import Payment
from crm.sales.models.plans import SalesTarget
from crm.sales.models.quotes import Quote, QuoteLine

__all__ = [
    "AssignmentRule",
    "CommissionLine",
    "CommissionPeriod",
    "CommissionRule",
    "Competitor",
    "Contract",
    "ContractAttachment",
    "ContractLine",
    "Instalment",
    "Lead",
    "LeadFollowUp",
    "Opportunity",
    "OpportunityProduct",
    "Payment",
    "Quote",
    "QuoteLine",
    "SalesOrder",
    "SalesOrderLine",
    "SalesTarget",
    "Stage",
    "StageChange",
]
