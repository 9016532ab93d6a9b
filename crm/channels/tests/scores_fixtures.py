"""Data builders for the scores tests: sell-through, receipts (sell-in), stock counts,
reports with a submission time, agreements with rebate and penalty rules; and the
hand-computed Q1 2026 scenario the scoring tests check (see `scored_org`)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.channels.models import (
    Agreement,
    AgreementTerm,
    Partner,
    PartnerTarget,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ScorePeriod,
    SellThroughLine,
    SellThroughReport,
    StockBound,
    StockCount,
)
from crm.channels.tests.conftest import make_partner
from crm.customers.tests.factories import CustomerFactory

D = Decimal
_seq = iter(range(1, 10**6))


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def at(text: str) -> datetime.datetime:
    """Noon local time of a day (a report's submission time)."""
    return timezone.make_aware(datetime.datetime.fromisoformat(f"{text}T12:00:00"))


def report(partner, submitted: str, lines, *, start=None, end=None):
    """A sell-through report submitted on `submitted` with lines
    [(sold_on, product, quantity, amount, end_customer or None)]."""
    rep = SellThroughReport.objects.create(
        partner=partner,
        reference=f"R{next(_seq)}",
        source=SellThroughReport.Source.PORTAL,
        period_start=day(start) if start else None,
        period_end=day(end) if end else None,
    )
    for sold_on, product, quantity, amount, customer in lines:
        SellThroughLine.objects.create(
            report=rep,
            partner=partner,
            sold_on=day(sold_on),
            product=product,
            quantity=D(quantity),
            amount=D(amount),
            end_customer=customer,
        )
    SellThroughReport.objects.filter(pk=rep.pk).update(created_at=at(submitted))
    return rep


def receive(partner, user, received_on: str, product, quantity, amount):
    """Sell-in: an approved order received on a day."""
    order = PurchaseOrder.objects.create(
        number=f"CG{next(_seq):06d}",
        partner=partner,
        ordered_on=day(received_on),
        status=PurchaseOrder.Status.RECEIVED,
        owner=partner.owner,
    )
    line = PurchaseOrderLine.objects.create(
        order=order,
        product=product,
        quantity=D(quantity),
        unit_price=D(amount) / D(quantity),
        amount=D(amount),
        received_quantity=D(quantity),
    )
    receipt = Receipt.objects.create(
        order=order, partner=partner, received_on=day(received_on), created_by=user
    )
    return ReceiptLine.objects.create(
        receipt=receipt,
        order_line=line,
        partner=partner,
        product=product,
        received_on=day(received_on),
        quantity=D(quantity),
        amount=D(amount),
    )


def count(partner, product, counted_on: str, quantity):
    return StockCount.objects.create(
        partner=partner,
        product=product,
        counted_on=day(counted_on),
        quantity=D(quantity),
    )


def agreement(
    partner, *, rebates=(), penalties=(), start="2026-01-01", end="2026-12-31"
):
    """An agreement in force with rebate tiers [(threshold, percent)] and penalties
    [(threshold, fine)]."""
    agr = Agreement.objects.create(
        number=f"XY{next(_seq):06d}",
        partner=partner,
        title="年度合作协议",
        status=Agreement.Status.ACTIVE,
        starts_on=day(start),
        ends_on=day(end),
        owner=partner.owner,
    )
    for threshold, percent in rebates:
        AgreementTerm.objects.create(
            agreement=agr,
            kind=AgreementTerm.Kind.REBATE,
            threshold_percent=D(threshold),
            percent=D(percent),
        )
    for threshold, fine in penalties:
        AgreementTerm.objects.create(
            agreement=agr,
            kind=AgreementTerm.Kind.PENALTY,
            threshold_percent=D(threshold),
            amount=D(fine),
        )
    return agr


def target(partner, kind="quarter", start="2026-01-01", end="2026-03-31", **fields):
    return PartnerTarget.objects.create(
        partner=partner,
        owner=partner.owner,
        period_kind=kind,
        starts_on=day(start),
        ends_on=day(end),
        **fields,
    )


@pytest.fixture
def scored_org(channel_org):
    """2026 Q1, hand-computed (default scorecard 40/15/15/15/15):

    partner_a — target 1,000,000, service level 95 (actual 90.25):
      sell-through 300,000 + 500,000 + 50,000 = 850,000 → achievement 85.00 → 85.00 pts
      2025 Q4 680,000 → growth (850,000 − 680,000) ÷ 680,000 = 25.00 % → 75.00 pts
      stock at 31 Mar (30-day window 2–31 Mar):
        p2: count 1 on 31 Mar, nothing sold in the window → no cover → outside
        p3: count 200 on 15 Mar + 100 received 25 Mar − 100 sold 20 Mar = 200;
            100 sold in the window → 200 ÷ (100 ÷ 30) = 60.00 days, inside 30–70
            (its own bound; the global 7–50 would say outside)
        p1: count 0, nothing sold in the window → not carried, not counted
        → 1 of 2 inside → 50.00 pts
      reports: Jan by 3 Feb (on time), Feb on 8 Mar (late), Mar on 5 Apr (on time)
        → 2 ÷ 3 → 66.67 pts
      service level 90.25 ÷ 95 = 95.00 pts
      total (85×40 + 75×15 + 50×15 + 66.67×15 + 95×15) ÷ 100 = 77.0005 → 77.00
      sell-in 220,000 + 6,000 = 226,000; tiers 80 %→2 %, 100 %→5 %: 85 ≥ 80 → 2 %
        → rebate 4,520.00; penalties below 60/70: none
    partner_a2 — target 500,000, no service level target:
      250,000 → 50.00 pts; no previous sales → growth 50.00 (neutral); no stock → n/a;
      Feb report on 2 Mar → 1 of 3 months → 33.33; service level n/a
      total (50×40 + 50×15 + 33.33×15) ÷ 70 = 46.4278… → 46.43
      penalties below 60 → 10,000, below 80 → 4,000: both apply → the larger, 10,000
    partner_c and partner_e (no target, no data): growth 50, timeliness 0,
      the rest n/a → (50×15 + 0×15) ÷ 30 = 25.00: a tie, both rank 3.
    partner_t is terminated: not scored.
    Ranks: a 1, a2 2, c 3, e 3.
    """
    org = channel_org
    cat = org.catalogue
    a, a2, _c = org.partner_a, org.partner_a2, org.partner_c
    org.partner_e = make_partner(org.mgr_c, "深圳鹏程机械有限公司", "QD000005")
    org.partner_t = make_partner(
        org.mgr_c, "已终止经销商", "QD000009", status=Partner.Status.TERMINATED
    )
    x = CustomerFactory(name="终端客户甲有限公司")
    y = CustomerFactory(name="终端客户乙有限公司")
    org.customer_x, org.customer_y = x, y
    org.target_a = target(
        a,
        sales_amount=D("1000000"),
        service_level=D("95"),
        service_level_actual=D("90.25"),
        new_customers=2,
    )
    org.target_a2 = target(a2, sales_amount=D("500000"))
    report(a, "2025-12-20", [("2025-12-01", cat.p1, 1, "680000", y)])
    report(
        a,
        "2026-02-03",
        [("2026-01-10", cat.p1, 3, "300000", x)],
        start="2026-01-01",
        end="2026-01-31",
    )
    report(
        a,
        "2026-03-08",
        [("2026-02-15", cat.p2, 2, "500000", y)],
        start="2026-02-01",
        end="2026-02-28",
    )
    report(
        a,
        "2026-04-05",
        [("2026-03-20", cat.p3, 100, "50000", x)],
        start="2026-03-01",
        end="2026-03-31",
    )
    report(a2, "2026-03-02", [("2026-02-10", cat.p1, 2, "250000", None)])
    receive(a, org.mgr_a, "2026-02-01", cat.p2, 1, "220000")
    receive(a, org.mgr_a, "2026-03-25", cat.p3, 100, "6000")
    receive(a, org.mgr_a, "2026-04-02", cat.p3, 50, "3000")  # after the period
    count(a, cat.p1, "2026-01-31", 0)
    count(a, cat.p2, "2026-03-31", 1)
    count(a, cat.p3, "2026-03-15", 200)
    count(a, cat.p3, "2026-04-10", 10)  # after the period: not read
    StockBound.objects.create(low_days=7, high_days=50)
    StockBound.objects.create(partner=a, product=cat.p3, low_days=30, high_days=70)
    agreement(
        a,
        rebates=[("80", "2"), ("100", "5")],
        penalties=[("60", "10000"), ("70", "5000")],
    )
    agreement(a2, rebates=[("100", "3")], penalties=[("60", "10000"), ("80", "4000")])
    org.period = ScorePeriod.objects.create(
        name="2026 Q1",
        kind="quarter",
        starts_on=day("2026-01-01"),
        ends_on=day("2026-03-31"),
    )
    return org
