"""Test data for D6: counts, received sell-in and reported sell-through made through the
ORM (the sell-in and sell-through areas own the services that normally write them)."""

import datetime
import itertools
from decimal import Decimal

from crm.channels.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    SellThroughLine,
    SellThroughReport,
    StockCount,
)

_numbers = itertools.count(1)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def count(partner, product, on: str, quantity) -> StockCount:
    return StockCount.objects.create(
        partner=partner, product=product, counted_on=day(on), quantity=Decimal(quantity)
    )


def receive(partner, product, on: str, quantity, *, by) -> ReceiptLine:
    """Goods of a (received) purchase order arriving at the partner on `on`."""
    n = next(_numbers)
    order = PurchaseOrder.objects.create(
        number=f"CGT{n:06d}",
        partner=partner,
        owner=partner.owner,
        department=partner.department,
        ordered_on=day(on),
        status=PurchaseOrder.Status.RECEIVED,
    )
    line = PurchaseOrderLine.objects.create(
        order=order,
        product=product,
        quantity=Decimal(quantity),
        unit_price=Decimal("1"),
        received_quantity=Decimal(quantity),
    )
    receipt = Receipt.objects.create(
        order=order, partner=partner, received_on=day(on), created_by=by
    )
    return ReceiptLine.objects.create(
        receipt=receipt,
        order_line=line,
        partner=partner,
        product=product,
        received_on=day(on),
        quantity=Decimal(quantity),
    )


def sell(partner, product, on: str, quantity) -> SellThroughLine:
    n = next(_numbers)
    report = SellThroughReport.objects.create(
        partner=partner, reference=f"T-{n}", source=SellThroughReport.Source.HQ
    )
    return SellThroughLine.objects.create(
        report=report,
        partner=partner,
        product=product,
        sold_on=day(on),
        quantity=Decimal(quantity),
        amount=Decimal("1"),
    )
