"""Line and document totals (S3–S5), Decimal end to end, rounded per document type (Y2).

    amount     = round(quantity × unit_price × (1 − discount%/100))
    tax_amount = round(amount × tax_rate%/100)
    total      = amount + tax_amount
Each line is rounded, and the document's totals are the sums of its rounded lines, so a
printed document always adds up.
"""

from dataclasses import dataclass
from decimal import Decimal

from crm.core.money import round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineAmounts:
    amount: Decimal
    tax_amount: Decimal
    total: Decimal


def line_amounts(
    *, quantity, unit_price, discount_percent=0, tax_rate=0, kind: str
) -> LineAmounts:
    gross = Decimal(quantity) * Decimal(unit_price)
    net = gross * (HUNDRED - Decimal(discount_percent)) / HUNDRED
    amount = round_money(net, kind, field="unit_price")
    tax_amount = round_money(amount * Decimal(tax_rate) / HUNDRED, kind)
    return LineAmounts(amount, tax_amount, amount + tax_amount)


def document_totals(lines) -> LineAmounts:
    """Sums of already computed lines (objects with amount, tax_amount, total)."""
    amount = sum((line.amount for line in lines), Decimal(0))
    tax_amount = sum((line.tax_amount for line in lines), Decimal(0))
    return LineAmounts(amount, tax_amount, amount + tax_amount)


def apply_line_amounts(line, kind: str) -> None:
    """Set a PricedLine's computed columns from its own quantity, price, discount, tax."""
    amounts = line_amounts(
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        tax_rate=line.tax_rate,
        kind=kind,
    )
    line.amount, line.tax_amount, line.total = (
        amounts.amount,
        amounts.tax_amount,
        amounts.total,
    )
