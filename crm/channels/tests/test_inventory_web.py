"""D6 HQ pages: reconciliation, inventory, stock counts, bounds; scope and exports."""

import io
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from crm.channels.models import StockBound
from crm.channels.tests.test_inventory_selectors import stock  # noqa: F401
from crm.core.scopes import DataScope
from crm.org.tests.factories import make_role

AS_OF = "2026-04-10"


@pytest.fixture
def exporter(stock):  # noqa: F811
    role = make_role("导出", "core.export_data", scope=DataScope.OWN)
    stock.mgr_a.groups.add(role)
    stock.admin.groups.add(role)
    return stock


def test_reconciliation_page_shows_rows_in_scope(stock, client_for):  # noqa: F811
    response = client_for(stock.mgr_a).get(
        "/channels/inventory/reconciliation/", {"as_of": AS_OF}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "杭州恒通机械有限公司" in html
    assert "广州粤达" not in html  # mgr_c's partner
    rows = response.context["rows"]
    assert [r["row"]["difference"] for r in rows][:2] == [-7, 3]
    assert "—" in html  # expected 0: no percentage
    assert "-24.1%" in html


def test_reconciliation_filters(stock, client_for):  # noqa: F811
    client = client_for(stock.admin)
    response = client.get(
        "/channels/inventory/reconciliation/",
        {"as_of": AS_OF, "mismatches": "true", "partner": stock.partner_a2.pk},
    )
    rows = response.context["rows"]
    assert [(r["row"]["product__code"], r["row"]["difference"]) for r in rows] == [
        ("EX-200", 3)
    ]
    response = client.get(
        "/channels/inventory/reconciliation/",
        {"as_of": AS_OF, "region": "440000", "sort": "-difference"},
    )
    assert [r["row"]["partner__number"] for r in response.context["rows"]] == [
        "QD000003"
    ]
    # another manager's partner as a filter value is refused, not shown
    response = client_for(stock.mgr_a).get(
        "/channels/inventory/reconciliation/",
        {"as_of": AS_OF, "partner": stock.partner_c.pk},
    )
    assert response.status_code == 400
    assert response.context["rows"] == []


def test_reconciliation_export_in_scope(exporter, client_for):
    with translation.override("en"):
        response = client_for(exporter.mgr_a).get(
            "/export/channels.reconciliation/",
            {"as_of": AS_OF, "format": "xlsx", "sort": "-difference"},
        )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    # columns: number, partner, location, product code, product, previous date,
    # previous count, sell-in, sell-through, expected, count date, reported,
    # difference, difference %, mismatch (headers in the user's language)
    assert len(rows[0]) == 15
    assert {r[0] for r in rows[1:]} == {"QD000001", "QD000002"}
    # sorted by |difference|, largest first: −7 before +3
    first = rows[1]
    assert (first[0], first[3]) == ("QD000001", "EX-200")
    assert (float(first[9]), float(first[12]), float(first[13])) == (29, -7, -24.1)


def test_inventory_page_and_groups(stock, client_for):  # noqa: F811
    client = client_for(stock.mgr_a)
    response = client.get("/channels/inventory/", {"as_of": AS_OF, "window": "30"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "∞" in html
    assert "宁波力拓" in html
    assert "广州粤达" not in html
    response = client.get(
        "/channels/inventory/", {"as_of": AS_OF, "group": "partner", "sort": "-stock"}
    )
    rows = [r["row"] for r in response.context["rows"]]
    assert [(r["partner__number"], r["stock"]) for r in rows] == [
        ("QD000001", 23),
        ("QD000002", Decimal("3.1")),
    ]
    response = client.get("/channels/inventory/", {"window": "45"})
    assert response.status_code == 400


def test_inventory_export_grouped(exporter, client_for):
    with translation.override("en"):
        response = client_for(exporter.admin).get(
            "/export/channels.inventory/",
            {"as_of": AS_OF, "group": "product", "format": "csv"},
        )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    lines = [line.split(",") for line in text.splitlines()]
    # product code, product, stock, sold, days, low items, over items
    assert len(lines[0]) == 7
    ex200 = next(line for line in lines if line[0] == "EX-200")
    assert Decimal(ex200[2]) == 35  # 22 + 3 + 10


def test_stock_count_list_scope(stock, client_for):  # noqa: F811
    response = client_for(stock.mgr_a).get("/channels/inventory/counts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "QD000001" in html
    assert "QD000003" not in html


def test_bounds_pages(english, stock, client_for):  # noqa: F811
    admin = client_for(stock.admin)
    response = admin.post(
        "/channels/inventory/bounds/new/",
        {
            "partner": "",
            "product": stock.catalogue.p1.pk,
            "low_days": 5,
            "high_days": 60,
        },
    )
    assert response.status_code == 302
    bound = StockBound.objects.get()
    assert (bound.partner, bound.product, bound.low_days) == (
        None,
        stock.catalogue.p1,
        5,
    )
    # the same blank partner + product again is refused with the reason
    with translation.override("en"):
        response = admin.post(
            "/channels/inventory/bounds/new/",
            {
                "partner": "",
                "product": stock.catalogue.p1.pk,
                "low_days": 1,
                "high_days": 9,
            },
        )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    response = admin.post(
        f"/channels/inventory/bounds/{bound.pk}/",
        {
            "partner": "",
            "product": stock.catalogue.p1.pk,
            "low_days": 6,
            "high_days": 61,
        },
    )
    assert response.status_code == 302
    bound.refresh_from_db()
    assert (bound.low_days, bound.high_days) == (6, 61)
    assert admin.get("/channels/inventory/bounds/").status_code == 200
    response = admin.post(f"/channels/inventory/bounds/{bound.pk}/delete/")
    assert response.status_code == 302
    assert not StockBound.objects.exists()


def test_bounds_scope(stock, client_for):  # noqa: F811
    theirs = StockBound.objects.create(partner=stock.partner_c, low_days=1, high_days=2)
    client = client_for(stock.mgr_a)
    assert client.get(f"/channels/inventory/bounds/{theirs.pk}/").status_code == 404
    response = client.get("/channels/inventory/bounds/")
    assert response.status_code == 200
    assert "广州粤达" not in response.content.decode()
    # a bound for every partner needs a user who sees every partner
    response = client.post(
        "/channels/inventory/bounds/new/",
        {"partner": "", "product": "", "low_days": 5, "high_days": 60},
    )
    assert response.status_code == 403
    response = client.post(
        "/channels/inventory/bounds/new/",
        {"partner": stock.partner_a.pk, "product": "", "low_days": 5, "high_days": 60},
    )
    assert response.status_code == 302


def test_pages_need_the_view_permission(stock, client_for):  # noqa: F811
    client = client_for(stock.rep_c)  # a sales rep without channel permissions
    for url in (
        "/channels/inventory/",
        "/channels/inventory/reconciliation/",
        "/channels/inventory/counts/",
        "/channels/inventory/bounds/",
    ):
        assert client.get(url).status_code == 403


def test_reconciliation_page_queries_do_not_grow_with_rows(stock, client_for):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.channels.tests.inventory_fixtures import count, sell

    client = client_for(stock.admin)
    url = "/channels/inventory/reconciliation/"
    client.get(url, {"as_of": AS_OF})
    with CaptureQueriesContext(connection) as before:
        client.get(url, {"as_of": AS_OF})
    for product in (stock.catalogue.p2, stock.catalogue.p3):
        count(stock.partner_c, product, "2026-03-01", 5)
        count(stock.partner_c, product, "2026-03-31", 4)
        sell(stock.partner_c, product, "2026-03-15", 1)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url, {"as_of": AS_OF})
    assert len(response.context["rows"]) == 7
    assert len(after) == len(before)
