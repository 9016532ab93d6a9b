"""D2 reads: cooperation agreements, always inside the viewer's channel scope (Y5), and
the two helpers the sell-in and scoring areas price and measure by."""

import datetime
from decimal import Decimal

from crm.channels.models import Agreement, Partner
from crm.core.money import round_money
from crm.products.models import Product
from crm.products.selectors import price_for

HUNDRED = Decimal(100)


def agreement_in_force(partner: Partner, on: datetime.date) -> Agreement | None:
    """The partner's active agreement whose validity covers `on` (at most one: activation
    refuses overlapping active agreements), else None."""
    return (
        Agreement.objects.filter(
            partner=partner,
            status=Agreement.Status.ACTIVE,
            starts_on__lte=on,
            ends_on__gte=on,
        )
        .select_related("price_list")
        .order_by("-starts_on", "-pk")
        .first()
    )


def partner_price(agreement: Agreement, product: Product) -> Decimal:
    """The partner's unit price for one piece: the agreement price list's price (else the
    product's list price) less the agreement discount, rounded like an order amount.

        price = round(base × (100 − discount%) / 100)"""
    base = price_for(product=product, price_list=agreement.price_list)
    net = Decimal(base) * (HUNDRED - Decimal(agreement.discount_percent)) / HUNDRED
    return round_money(net, "order")
