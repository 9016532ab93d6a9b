"""D6 reconciliation and inventory arithmetic, computed by hand."""

from decimal import Decimal

import pytest

from crm.channels.models import StockBound
from crm.channels.selectors.inventory import (
    inventory_rows,
    reconciliation_rows,
)
from crm.channels.tests.inventory_fixtures import count, day, receive, sell
from crm.customers.models import Region

D = Decimal


@pytest.fixture
def stock(channel_org):
    """partner_a/p1: the full window case; see each test for the arithmetic."""
    org = channel_org
    a, a2, c = org.partner_a, org.partner_a2, org.partner_c
    p1, p2, p3 = org.catalogue.p1, org.catalogue.p2, org.catalogue.p3
    for partner, code in ((a, "330100"), (a2, "330200"), (c, "440100")):
        partner.region = Region.objects.get(code=code)
        partner.save(update_fields=["region"])
    by = org.admin
    # partner_a × p1
    count(a, p1, "2026-02-01", 5)
    count(a, p1, "2026-03-01", 10)
    count(a, p1, "2026-03-31", 22)
    receive(a, p1, "2026-02-15", 100, by=by)  # before the window
    receive(a, p1, "2026-03-01", 7, by=by)  # on the previous count's date: excluded
    receive(a, p1, "2026-03-10", 20, by=by)
    receive(a, p1, "2026-03-31", 5, by=by)  # on the latest count's date: included
    receive(a, p1, "2026-04-02", 50, by=by)  # after
    sell(a, p1, "2026-03-01", 3)  # excluded
    sell(a, p1, "2026-03-15", 4)
    sell(a, p1, "2026-03-31", 2)  # included
    sell(a, p1, "2026-04-01", 9)  # after
    # partner_a × p2: nothing moved, nothing counted
    count(a, p2, "2026-03-01", 0)
    count(a, p2, "2026-03-20", 0)
    # partner_a × p3: a single count, nothing to reconcile
    count(a, p3, "2026-03-31", 1)
    # partner_a2 × p1: expected 0, reported 3
    count(a2, p1, "2026-03-05", 0)
    count(a2, p1, "2026-03-25", 3)
    # partner_a2 × p2: decimals that add up exactly (0.3 − 0.2 = 0.1)
    count(a2, p2, "2026-03-01", "0.3")
    count(a2, p2, "2026-03-31", "0.1")
    sell(a2, p2, "2026-03-31", "0.2")
    # partner_c × p1 (mgr_c's partner)
    count(c, p1, "2026-03-01", 10)
    count(c, p1, "2026-03-31", 10)
    sell(c, p1, "2026-03-10", 1)
    return org


def by_pair(rows):
    return {(r["partner__number"], r["product__code"]): r for r in rows}


AS_OF = day("2026-04-10")


def test_reconciliation_arithmetic(stock):
    rows = by_pair(reconciliation_rows(stock.admin, as_of=AS_OF))
    # 10 + (20 + 5) − (4 + 2) = 29; reported 22 → −7, −7/29 = −24.1 %
    r = rows[("QD000001", "EX-200")]
    assert r["previous_on"] == day("2026-03-01")
    assert r["counted_on"] == day("2026-03-31")
    assert (r["previous_quantity"], r["sell_in"], r["sell_through"]) == (
        D(10),
        D(25),
        D(6),
    )
    assert r["expected"] == D(29)
    assert r["quantity"] == D(22)
    assert r["difference"] == D(-7)
    assert r["percent"] == D("-24.1")
    assert r["flagged"] is True
    # nothing moved, 0 = 0
    r = rows[("QD000001", "EX-350")]
    assert (r["expected"], r["difference"], r["percent"], r["flagged"]) == (
        D(0),
        D(0),
        None,
        False,
    )
    # expected 0, reported 3: no percentage, flagged
    r = rows[("QD000002", "EX-200")]
    assert (r["expected"], r["difference"], r["percent"], r["flagged"]) == (
        D(0),
        D(3),
        None,
        True,
    )
    # 0.3 − 0.2 = 0.1 exactly, even where the database adds in floats
    r = rows[("QD000002", "EX-350")]
    assert (r["expected"], r["difference"], r["flagged"]) == (D("0.1"), D(0), False)
    # 10 − 1 = 9, reported 10: +1, 11.1 %
    r = rows[("QD000003", "EX-200")]
    assert (r["expected"], r["difference"], r["percent"]) == (D(9), D(1), D("11.1"))
    # a single count has nothing to be reconciled with
    assert ("QD000001", "FL-01") not in rows
    assert len(rows) == 5


def test_reconciliation_as_of_uses_counts_up_to_that_date(stock):
    rows = by_pair(reconciliation_rows(stock.admin, as_of=day("2026-03-30")))
    # latest 03-01 (10), previous 02-01 (5): 5 + (100 + 7) − 3 = 109; 10 − 109 = −99
    r = rows[("QD000001", "EX-200")]
    assert (r["previous_on"], r["counted_on"]) == (day("2026-02-01"), day("2026-03-01"))
    assert (r["expected"], r["difference"]) == (D(109), D(-99))
    # partner_a2 × p1's second count (03-25) is in, partner_c's 03-31 is not
    assert ("QD000002", "EX-200") in rows
    assert ("QD000003", "EX-200") not in rows


def test_reconciliation_same_day_as_latest_count_counts(stock):
    """A sale on the latest count's date is inside the window; moving it to the
    previous count's date takes it out."""
    sell(stock.partner_a, stock.catalogue.p1, "2026-03-31", 1)
    rows = by_pair(reconciliation_rows(stock.admin, as_of=AS_OF))
    assert rows[("QD000001", "EX-200")]["expected"] == D(28)
    sell(stock.partner_a, stock.catalogue.p1, "2026-03-01", 100)
    rows = by_pair(reconciliation_rows(stock.admin, as_of=AS_OF))
    assert rows[("QD000001", "EX-200")]["expected"] == D(28)


def test_reconciliation_only_mismatches_and_sort(stock):
    rows = reconciliation_rows(stock.admin, as_of=AS_OF, only_mismatches=True)
    # |−7|, |3|, |1| largest first
    assert [(r["partner__number"], r["difference"]) for r in rows] == [
        ("QD000001", D(-7)),
        ("QD000002", D(3)),
        ("QD000003", D(1)),
    ]
    rows = reconciliation_rows(
        stock.admin, as_of=AS_OF, only_mismatches=True, sort="difference"
    )
    assert [r["difference"] for r in rows] == [D(1), D(3), D(-7)]


def test_reconciliation_tolerance(stock):
    # 30 %: 7 ≤ 8.7 (30 % of 29) and 1 ≤ 2.7 pass; expected 0 is flagged whatever
    rows = reconciliation_rows(
        stock.admin, as_of=AS_OF, only_mismatches=True, tolerance=D(30)
    )
    assert [(r["partner__number"], r["product__code"]) for r in rows] == [
        ("QD000002", "EX-200")
    ]
    # 20 %: 7 > 5.8 is flagged again; 1 < 1.8 still passes
    rows = reconciliation_rows(
        stock.admin, as_of=AS_OF, only_mismatches=True, tolerance=D(20)
    )
    assert {(r["partner__number"], r["product__code"]) for r in rows} == {
        ("QD000001", "EX-200"),
        ("QD000002", "EX-200"),
    }


def test_reconciliation_filters_and_scope(stock):
    mine = by_pair(reconciliation_rows(stock.mgr_a, as_of=AS_OF))
    assert {k[0] for k in mine} == {"QD000001", "QD000002"}
    theirs = by_pair(reconciliation_rows(stock.mgr_c, as_of=AS_OF))
    assert set(theirs) == {("QD000003", "EX-200")}
    # mgr_a asking for partner_c's rows gets none (the filter refuses the choice)
    assert reconciliation_rows(stock.mgr_a, as_of=AS_OF, partner=stock.partner_c) == []
    zhejiang = Region.objects.get(code="330000")
    hangzhou = Region.objects.get(code="330100")
    rows = by_pair(reconciliation_rows(stock.admin, as_of=AS_OF, region=zhejiang))
    assert {k[0] for k in rows} == {"QD000001", "QD000002"}
    rows = by_pair(reconciliation_rows(stock.admin, as_of=AS_OF, region=hangzhou))
    assert {k[0] for k in rows} == {"QD000001"}
    rows = reconciliation_rows(
        stock.admin, as_of=AS_OF, partner=stock.partner_a, product=stock.catalogue.p1
    )
    assert [r["difference"] for r in rows] == [D(-7)]


# Inventory: as of 04-10 with a 30-day window, sales in (03-11, 04-10]


def test_inventory_days_and_default_alerts(stock):
    rows = by_pair(inventory_rows(stock.admin, as_of=AS_OF, window=30))
    # partner_a × p1: stock 22 (03-31); sold 4 + 2 + 9 = 15 → 22 ÷ (15 ÷ 30) = 44 days
    r = rows[("QD000001", "EX-200")]
    assert (r["quantity"], r["sold"]) == (D(22), D(15))
    assert round(r["days"], 6) == 44
    assert (r["low_days"], r["high_days"], r["alert"]) == (7, 90, "")
    # stock 0, no sales: no days, no alert
    r = rows[("QD000001", "EX-350")]
    assert (r["days"], r["alert"]) == (None, "")
    # stock without sales: over-stock (∞ days)
    assert rows[("QD000001", "FL-01")]["days"] is None
    assert rows[("QD000001", "FL-01")]["alert"] == "over"
    assert rows[("QD000002", "EX-200")]["alert"] == "over"
    # 0.1 ÷ (0.2 ÷ 30) = 15 days
    assert round(rows[("QD000002", "EX-350")]["days"], 6) == 15
    # partner_c: stock 10, sold 03-10 is before the window → over
    assert rows[("QD000003", "EX-200")]["alert"] == "over"


def test_inventory_window(stock):
    # 60 days: (02-09, 04-10] also holds 03-01 (3) and 03-10 for partner_c
    rows = by_pair(inventory_rows(stock.admin, as_of=AS_OF, window=60))
    r = rows[("QD000001", "EX-200")]
    assert r["sold"] == D(18)  # 3 + 4 + 2 + 9
    assert round(r["days"], 6) == round(22 * 60 / 18, 6)  # 73.33…
    assert rows[("QD000003", "EX-200")]["sold"] == D(1)
    assert round(rows[("QD000003", "EX-200")]["days"], 6) == 600  # 10 ÷ (1 ÷ 60)
    assert rows[("QD000003", "EX-200")]["alert"] == "over"


def test_inventory_most_specific_bound(stock):
    p1 = stock.catalogue.p1
    a = stock.partner_a
    StockBound.objects.create(partner=None, product=None, low_days=50, high_days=400)
    rows = by_pair(inventory_rows(stock.admin, as_of=AS_OF))
    assert rows[("QD000001", "EX-200")]["alert"] == "low"  # 44 < 50 (global)
    StockBound.objects.create(partner=a, product=None, low_days=10, high_days=40)
    rows = by_pair(inventory_rows(stock.admin, as_of=AS_OF))
    assert rows[("QD000001", "EX-200")]["alert"] == "over"  # 44 > 40 (partner)
    assert rows[("QD000002", "EX-350")]["low_days"] == 50  # a2: still global
    StockBound.objects.create(partner=None, product=p1, low_days=10, high_days=60)
    rows = by_pair(inventory_rows(stock.admin, as_of=AS_OF))
    r = rows[("QD000001", "EX-200")]
    assert (r["low_days"], r["high_days"], r["alert"]) == (10, 60, "")  # product
    StockBound.objects.create(partner=a, product=p1, low_days=45, high_days=100)
    rows = by_pair(inventory_rows(stock.admin, as_of=AS_OF))
    r = rows[("QD000001", "EX-200")]
    assert (r["low_days"], r["high_days"], r["alert"]) == (45, 100, "low")
    # the alert filter: a2 × p2 has 15 days, below the global 50
    low = inventory_rows(stock.admin, as_of=AS_OF, alert="low")
    assert [(r["partner__number"], r["product__code"]) for r in low] == [
        ("QD000001", "EX-200"),
        ("QD000002", "EX-350"),
    ]


def test_inventory_grouped(stock):
    rows = {
        r["partner__number"]: r
        for r in inventory_rows(stock.mgr_a, as_of=AS_OF, group="partner")
    }
    assert set(rows) == {"QD000001", "QD000002"}
    # partner_a: 22 + 0 + 1 = 23 in stock, 15 sold → 46 days; p3 over-stock
    a = rows["QD000001"]
    assert (a["stock"], a["sold_total"], a["low"], a["over"]) == (D(23), D(15), 0, 1)
    assert round(a["days"], 6) == 46
    # partner_a2: 3 + 0.1 = 3.1, 0.2 sold → 465 days
    a2 = rows["QD000002"]
    assert (a2["stock"], a2["sold_total"], a2["over"]) == (D("3.1"), D("0.2"), 1)
    assert round(a2["days"], 6) == 465
    by_product = {
        r["product__code"]: r
        for r in inventory_rows(stock.admin, as_of=AS_OF, group="product")
    }
    assert by_product["EX-200"]["stock"] == D(35)  # 22 + 3 + 10
    by_region = {
        r["partner__region__name"]: r
        for r in inventory_rows(stock.admin, as_of=AS_OF, group="region")
    }
    assert by_region["杭州市"]["stock"] == D(23)
