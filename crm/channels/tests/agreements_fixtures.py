"""Helpers the agreement tests share: an agreement created directly (no service), so a
test states exactly the dates, status and prices it relies on."""

import datetime
from decimal import Decimal

from crm.channels.models import Agreement

_counter = iter(range(1, 10**6))


def make_agreement(
    partner,
    *,
    starts_on=datetime.date(2026, 1, 1),
    ends_on=datetime.date(2026, 12, 31),
    status=Agreement.Status.ACTIVE,
    number=None,
    title="2026 年度经销协议",
    discount_percent=Decimal("0"),
    price_list=None,
    **fields,
) -> Agreement:
    return Agreement.objects.create(
        number=number or f"XYT{next(_counter):06d}",
        partner=partner,
        owner=partner.owner,
        department=partner.department,
        title=title,
        status=status,
        starts_on=starts_on,
        ends_on=ends_on,
        discount_percent=discount_percent,
        price_list=price_list,
        **fields,
    )
