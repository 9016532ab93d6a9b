"""S5 sales order API: scope (404 outside, absent from the list), create and update
with version, lines, from a contract, confirm with the credit check (409 with the
numbers, override with permission and reason), deliveries, cancellation."""

from decimal import Decimal

import pytest

from crm.sales.models import SalesOrder

pytest_plugins = ["crm.sales.tests.contracts_fixtures"]
pytestmark = pytest.mark.django_db
D = Decimal
API = "/api/v1/sales/orders/"
JSON = "application/json"


def test_scope(make_order, deal_org, client_for):
    mine = make_order()
    theirs = make_order(owner=deal_org.rep_b)
    client = client_for(deal_org.rep_a)
    assert [row["number"] for row in client.get(API).json()["results"]] == [mine.number]
    assert client.get(f"{API}{theirs.pk}/").status_code == 404
    assert client.post(f"{API}{theirs.pk}/confirm/").status_code == 404
    assert (
        client.post(
            f"{API}{theirs.pk}/cancel/", {"reason": "x"}, content_type=JSON
        ).status_code
        == 404
    )


def test_direct_order_lifecycle(deal_org, customer, deal_product, client_for, english):
    customer.credit_limit = D("1000")
    customer.save(update_fields=["credit_limit"])
    client = client_for(deal_org.rep_a)
    created = client.post(
        API,
        {"customer": customer.pk, "payment_due_on": "2099-06-30"},
        content_type=JSON,
    )
    assert created.status_code == 201
    order = created.json()
    base = f"{API}{order['id']}/"
    line = client.post(
        f"{base}lines/",
        {"product": deal_product.pk, "quantity": "10", "unit_price": "100"},
        content_type=JSON,
    )
    assert line.status_code == 201
    assert (
        client.patch(
            base, {"notes": "加急", "version": 1}, content_type=JSON
        ).status_code
        == 409
    )  # the line bumped the version
    current = client.get(base).json()
    assert current["total"] == "1130.000000"
    assert (
        client.patch(
            base, {"notes": "加急", "version": current["version"]}, content_type=JSON
        ).status_code
        == 200
    )
    refused = client.post(f"{base}confirm/", {}, content_type=JSON)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "conflict"
    assert "1,130.00" in body["message"]
    assert "1,000.00" in body["message"]
    assert "override_reason" in body["fields"]
    forbidden = client.post(
        f"{base}confirm/", {"override_reason": "老客户"}, content_type=JSON
    )
    assert forbidden.status_code == 403
    confirmed = client_for(deal_org.manager).post(
        f"{base}confirm/", {"override_reason": "老客户"}, content_type=JSON
    )
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "confirmed"
    assert body["credit_override_by"] == deal_org.manager.pk
    assert body["instalments"][0]["due_on"] == "2099-06-30"
    assert body["instalments"][0]["amount"] == "1130.000000"
    line_id = body["lines"][0]["id"]
    over = client.post(
        f"{base}deliver/",
        {"lines": [{"line": line_id, "quantity": "11"}]},
        content_type=JSON,
    )
    assert over.status_code == 400
    delivered = client.post(
        f"{base}deliver/",
        {"lines": [{"line": line_id, "quantity": "10"}]},
        content_type=JSON,
    )
    assert delivered.json()["status"] == "completed"
    assert delivered.json()["delivery_status"] == "delivered"
    assert (
        client.post(f"{base}cancel/", {"reason": "x"}, content_type=JSON).status_code
        == 409
    )


def test_from_contract(make_active, deal_org, client_for):
    contract = make_active(lines=[(10, "100")])
    line = contract.lines.get()
    other = client_for(deal_org.rep_b).post(
        f"{API}from-contract/", {"contract": contract.pk}, content_type=JSON
    )
    assert other.status_code == 400
    client = client_for(deal_org.rep_a)
    too_much = client.post(
        f"{API}from-contract/",
        {"contract": contract.pk, "quantities": [{"line": line.pk, "quantity": "12"}]},
        content_type=JSON,
    )
    assert too_much.status_code == 400
    created = client.post(
        f"{API}from-contract/",
        {"contract": contract.pk, "quantities": [{"line": line.pk, "quantity": "4"}]},
        content_type=JSON,
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["contract"], body["total"]) == (contract.pk, "452.000000")
    assert body["lines"][0]["contract_line"] == line.pk
    confirmed = client.post(f"{API}{body['id']}/confirm/")
    assert confirmed.json()["instalments"] == []
    rest = client.post(
        f"{API}from-contract/", {"contract": contract.pk}, content_type=JSON
    )
    assert rest.json()["lines"][0]["quantity"] == "6.0000"


def test_delete_a_draft(make_order, deal_org, client_for):
    order = make_order()
    assert client_for(deal_org.manager).delete(f"{API}{order.pk}/").status_code == 204
    assert not SalesOrder.objects.filter(pk=order.pk).exists()
