"""D6 APIs: HQ counts, reconciliation, inventory and bounds; the portal's counts."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.channels.models import StockBound, StockCount
from crm.channels.tests.inventory_fixtures import count
from crm.channels.tests.test_inventory_selectors import stock  # noqa: F401

AS_OF = "2026-04-10"


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_stock_counts_in_scope(stock, api):  # noqa: F811
    response = api(stock.mgr_a).get("/api/v1/channels/stock-counts/")
    assert response.status_code == 200
    assert {r["partner"] for r in response.data["results"]} == {
        stock.partner_a.pk,
        stock.partner_a2.pk,
    }
    theirs = StockCount.objects.filter(partner=stock.partner_c).first()
    client = api(stock.mgr_a)
    assert client.get(f"/api/v1/channels/stock-counts/{theirs.pk}/").status_code == 404
    response = client.get(
        "/api/v1/channels/stock-counts/", {"partner": stock.partner_c.pk}
    )
    assert response.status_code == 400


def test_reconciliation_api(stock, api):  # noqa: F811
    response = api(stock.mgr_a).get(
        "/api/v1/channels/reconciliation/",
        {"as_of": AS_OF, "mismatches": "true", "sort": "-difference"},
    )
    assert response.status_code == 200
    rows = response.data["results"]
    assert [(r["partner_number"], r["product_code"]) for r in rows] == [
        ("QD000001", "EX-200"),
        ("QD000002", "EX-200"),
    ]
    first = rows[0]
    assert Decimal(first["expected"]) == 29
    assert Decimal(first["difference"]) == -7
    assert Decimal(first["percent"]) == Decimal("-24.1")
    assert first["flagged"] is True
    assert rows[1]["percent"] is None
    response = api(stock.mgr_a).get(
        "/api/v1/channels/reconciliation/", {"as_of": "not-a-date"}
    )
    assert response.status_code == 400
    assert "as_of" in response.data["fields"]


def test_inventory_api(stock, api):  # noqa: F811
    client = api(stock.admin)
    response = client.get(
        "/api/v1/channels/inventory/", {"as_of": AS_OF, "alert": "over"}
    )
    assert response.status_code == 200
    rows = {
        (r["partner_number"], r["product_code"]): r for r in response.data["results"]
    }
    assert set(rows) == {
        ("QD000001", "FL-01"),
        ("QD000002", "EX-200"),
        ("QD000003", "EX-200"),
    }
    assert rows[("QD000001", "FL-01")]["no_sales"] is True
    assert rows[("QD000001", "FL-01")]["days"] is None
    response = client.get("/api/v1/channels/inventory/", {"as_of": AS_OF})
    a_p1 = next(
        r
        for r in response.data["results"]
        if (r["partner_number"], r["product_code"]) == ("QD000001", "EX-200")
    )
    assert Decimal(a_p1["days"]) == 44
    response = client.get(
        "/api/v1/channels/inventory/groups/", {"as_of": AS_OF, "group": "region"}
    )
    assert response.status_code == 200
    regions = {r["name"]: r for r in response.data["results"]}
    assert Decimal(regions["杭州市"]["stock"]) == 23
    assert regions["杭州市"]["key"] == "330100"
    response = client.get("/api/v1/channels/inventory/groups/", {"group": "city"})
    assert response.status_code == 400


def test_bounds_api(stock, api):  # noqa: F811
    client = api(stock.admin)
    url = "/api/v1/channels/stock-bounds/"
    response = client.post(url, {"low_days": 5, "high_days": 50}, format="json")
    assert response.status_code == 201, response.data
    pk = response.data["id"]
    # a second bound for all partners and products: refused, NULLs included
    response = client.post(url, {"low_days": 1, "high_days": 9}, format="json")
    assert response.status_code == 400
    response = client.post(
        url,
        {"partner": None, "product": None, "low_days": 9, "high_days": 3},
        format="json",
    )
    assert response.status_code == 400
    response = client.patch(f"{url}{pk}/", {"high_days": 70}, format="json")
    assert response.status_code == 200
    assert (response.data["low_days"], response.data["high_days"]) == (5, 70)
    response = client.patch(f"{url}{pk}/", {"high_days": 4}, format="json")
    assert response.status_code == 400
    assert "high_days" in response.data["fields"]
    assert client.delete(f"{url}{pk}/").status_code == 204
    assert not StockBound.objects.exists()


def test_bounds_api_scope(stock, api):  # noqa: F811
    theirs = StockBound.objects.create(partner=stock.partner_c, low_days=1, high_days=2)
    client = api(stock.mgr_a)
    url = "/api/v1/channels/stock-bounds/"
    assert client.get(f"{url}{theirs.pk}/").status_code == 404
    response = client.post(
        url,
        {"partner": stock.partner_c.pk, "low_days": 1, "high_days": 5},
        format="json",
    )
    assert response.status_code == 400  # not a choice for mgr_a
    response = client.post(url, {"low_days": 1, "high_days": 5}, format="json")
    assert response.status_code == 403  # all partners: needs every partner in scope
    response = client.post(
        url,
        {"partner": stock.partner_a.pk, "low_days": 1, "high_days": 5},
        format="json",
    )
    assert response.status_code == 201
    assert client.get(url).data["count"] == 1


def test_portal_api(channel_org, api):
    org = channel_org
    p1, p2 = org.catalogue.p1, org.catalogue.p2
    client = api(org.pa_user)
    url = "/api/v1/portal/stock-counts/"
    body = {
        "counted_on": "2026-03-01",
        "lines": [
            {"product": p1.pk, "quantity": "4"},
            {"product": p2.pk, "quantity": "0"},
        ],
    }
    response = client.post(url, body, format="json")
    assert response.status_code == 201, response.data
    assert len(response.data) == 2
    body["lines"] = [{"product": p1.pk, "quantity": "6"}]
    assert client.post(url, body, format="json").status_code == 201
    assert StockCount.objects.get(product=p1).quantity == 6  # replaced, not added
    response = client.get(url, {"product": p1.pk})
    assert [r["quantity"] for r in response.data["results"]] == ["6.0000"]
    response = client.post(
        url,
        {"counted_on": "2026-03-01", "lines": [{"product": 999999, "quantity": "1"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "lines.0.product" in response.data["fields"]
    response = client.post(
        url,
        {"counted_on": "2026-03-01", "lines": [{"product": p1.pk, "quantity": "-1"}]},
        format="json",
    )
    assert response.status_code == 400
    # isolation
    theirs = count(org.partner_c, p1, "2026-03-02", 9)
    assert client.get(f"{url}{theirs.pk}/").status_code == 404
    assert all(r["id"] != theirs.pk for r in client.get(url).data["results"])
    assert api(org.mgr_a).get(url).status_code == 403
    assert api(org.pa_user).get("/api/v1/channels/stock-counts/").status_code == 403


def test_bound_service_rules(stock):  # noqa: F811
    from crm.channels.services.inventory import (
        stock_bound_create,
        stock_bound_delete,
        stock_bound_update,
    )
    from crm.core.errors import Forbidden, Invalid

    p1, p2 = stock.catalogue.p1, stock.catalogue.p2
    a = stock.partner_a
    first = stock_bound_create(
        actor=stock.mgr_a,
        data={"partner": a, "product": p1, "low_days": 5, "high_days": 50},
    )
    second = stock_bound_create(
        actor=stock.mgr_a,
        data={"partner": a, "product": p2, "low_days": 5, "high_days": 50},
    )
    # moving the second onto the first's pair is refused
    with pytest.raises(Invalid) as exc:
        stock_bound_update(actor=stock.mgr_a, obj=second, data={"product": p1})
    assert "product" in exc.value.fields
    # low must stay below high
    with pytest.raises(Invalid):
        stock_bound_update(actor=stock.mgr_a, obj=first, data={"low_days": 50})
    # deleting needs the delete permission (the channel role has none)
    with pytest.raises(Forbidden):
        stock_bound_delete(actor=stock.mgr_a, obj=first)
    stock_bound_delete(actor=stock.admin, obj=first)
    assert list(StockBound.objects.all()) == [second]
