"""D2 helpers other areas rely on: the agreement in force on a day, a partner's price."""

import datetime
from decimal import Decimal

from crm.channels.models import Agreement
from crm.channels.selectors.agreements import agreement_in_force, partner_price
from crm.channels.tests.agreements_fixtures import make_agreement
from crm.core.params import params_update
from crm.products.models import Product


def d(month, day, year=2026):
    return datetime.date(year, month, day)


def test_agreement_in_force_is_the_active_one_covering_the_day(channel_org):
    pa = channel_org.partner_a
    old = make_agreement(
        pa, starts_on=d(1, 1, 2025), ends_on=d(12, 31, 2025), status="expired"
    )
    current = make_agreement(pa, starts_on=d(1, 1), ends_on=d(12, 31))
    make_agreement(pa, starts_on=d(1, 1, 2027), ends_on=d(12, 31, 2027), status="draft")
    # Another partner's active agreement never counts for partner_a.
    make_agreement(channel_org.partner_c, starts_on=d(1, 1), ends_on=d(12, 31))

    assert agreement_in_force(pa, d(1, 1)) == current  # first day included
    assert agreement_in_force(pa, d(12, 31)) == current  # last day included
    assert agreement_in_force(pa, d(6, 30, 2025)) is None  # expired, not active
    assert agreement_in_force(pa, d(3, 1, 2027)) is None  # a draft is not in force
    assert agreement_in_force(channel_org.partner_a2, d(6, 1)) is None
    old.refresh_from_db()
    assert old.status == Agreement.Status.EXPIRED


def test_terminated_agreements_are_not_in_force_renewed_ones_run_out(channel_org):
    pa = channel_org.partner_a
    make_agreement(pa, status=Agreement.Status.TERMINATED)
    assert agreement_in_force(pa, d(6, 1)) is None
    # Renewed before its end (its renewal starts the day after): in force until then.
    renewed = make_agreement(
        pa, starts_on=d(1, 1, 2027), ends_on=d(12, 31, 2027), status="renewed"
    )
    assert agreement_in_force(pa, d(12, 31, 2027)) == renewed


def test_partner_price_uses_the_price_list_less_the_discount(channel_org):
    cat = channel_org.catalogue
    agreement = make_agreement(
        channel_org.partner_a,
        price_list=cat.price_list,
        discount_percent=Decimal("12.5"),
    )
    # p1 on the list at 90,000: 90,000 × 87.5% = 78,750.00
    assert partner_price(agreement, cat.p1) == Decimal("78750.00")
    # p3 at 60: 60 × 87.5% = 52.50
    assert partner_price(agreement, cat.p3) == Decimal("52.50")


def test_partner_price_falls_back_to_the_list_price_and_rounds_half_up(channel_org):
    cat = channel_org.catalogue
    unlisted = Product.objects.create(
        code="BK-01", name="铲斗", category=cat.parts, list_price=Decimal("99.99")
    )
    agreement = make_agreement(
        channel_org.partner_a,
        price_list=cat.price_list,
        discount_percent=Decimal("5"),
    )
    # Not on the price list: 99.99 × 95% = 94.9905 → 94.99
    assert partner_price(agreement, unlisted) == Decimal("94.99")
    no_list = make_agreement(
        channel_org.partner_a2, discount_percent=Decimal("0.5"), price_list=None
    )
    # No price list: 80 (list price of p3) × 99.5% = 79.60
    assert partner_price(no_list, cat.p3) == Decimal("79.60")
    # 0.5% off 250,000 is 248,750.00 exactly.
    assert partner_price(no_list, cat.p2) == Decimal("248750.00")


def test_partner_price_rounds_to_the_order_decimals(channel_org):
    params_update(actor=channel_org.admin, values={"decimals_order": 0})
    cat = channel_org.catalogue
    agreement = make_agreement(
        channel_org.partner_a,
        price_list=cat.price_list,
        discount_percent=Decimal("2.5"),
    )
    # 60 × 97.5% = 58.5 → 59 with no decimals (half up)
    assert partner_price(agreement, cat.p3) == Decimal("59")
