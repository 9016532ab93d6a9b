"""S5 sales order pages: list and export within the scope, detail, direct orders and
orders called off a contract, confirmation with the credit check and its override,
deliveries, cancellation, and 404 for another rep's order."""

import datetime
from decimal import Decimal

import pytest

from crm.sales.models import Instalment, SalesOrder

pytest_plugins = ["crm.sales.tests.contracts_fixtures"]
pytestmark = pytest.mark.django_db
S = SalesOrder.Status
D = Decimal


def test_list_and_export_within_the_scope(make_order, deal_org, client_for):
    mine = make_order()
    east = make_order(owner=deal_org.rep_b)
    south = make_order(owner=deal_org.rep_c)
    text = client_for(deal_org.rep_a).get("/sales/orders/").content.decode()
    assert mine.number in text
    assert east.number not in text
    assert south.number not in text
    export = client_for(deal_org.manager).get("/export/sales.order/?format=csv")
    text = export.content.decode("utf-8-sig")
    assert mine.number in text
    assert east.number in text
    assert south.number not in text
    text = (
        client_for(deal_org.manager)
        .get("/sales/orders/?kind=direct&status=draft")
        .content.decode()
    )
    assert mine.number in text


def test_another_reps_order_is_404(make_order, deal_org, client_for):
    order = make_order()
    line = order.lines.get()
    client = client_for(deal_org.rep_b)
    base = f"/sales/orders/{order.pk}"
    assert client.get(f"{base}/").status_code == 404
    assert client.get(f"{base}/edit/").status_code == 404
    for url in (
        "confirm/",
        "deliver/",
        "cancel/",
        "delete/",
        "lines/",
        f"lines/{line.pk}/",
        f"lines/{line.pk}/delete/",
    ):
        assert client.post(f"{base}/{url}").status_code == 404, url
    order.refresh_from_db()
    assert order.status == S.DRAFT


def test_direct_order_on_the_page(deal_org, customer, deal_product, client_for):
    client = client_for(deal_org.rep_a)
    assert client.get("/sales/orders/new/").status_code == 200
    response = client.post(
        "/sales/orders/new/",
        {"customer": customer.pk, "ordered_on": "2026-03-02", "currency": "CNY"},
    )
    order = SalesOrder.objects.get()
    assert response["Location"] == f"/sales/orders/{order.pk}/"
    client.post(
        f"/sales/orders/{order.pk}/lines/",
        {
            "product": deal_product.pk,
            "quantity": "10",
            "unit_price": "100",
            "discount_percent": "0",
            "tax_rate": "13",
        },
    )
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'id="credit-check"' in page
    assert 'id="confirm-form"' in page
    client.post(f"/sales/orders/{order.pk}/confirm/")
    order.refresh_from_db()
    assert order.status == S.CONFIRMED
    assert Instalment.objects.get(order=order).due_on == datetime.date(2026, 4, 1)


def test_credit_refusal_and_override_on_the_page(
    make_order, deal_org, customer, client_for, english
):
    customer.credit_limit = D("1000")
    customer.save(update_fields=["credit_limit"])
    order = make_order()
    rep = client_for(deal_org.rep_a)
    page = rep.get(f"/sales/orders/{order.pk}/").content.decode()
    assert "Over the limit." in page
    assert "override_reason" not in page  # no permission: no field
    response = rep.post(f"/sales/orders/{order.pk}/confirm/", follow=True)
    assert (
        "Credit limit exceeded: open receivables 0.00 + this order 1,130.00 = "
        "1,130.00, above the credit limit of 1,000.00" in response.content.decode()
    )
    manager = client_for(deal_org.manager)
    assert (
        "override_reason" in manager.get(f"/sales/orders/{order.pk}/").content.decode()
    )
    manager.post(f"/sales/orders/{order.pk}/confirm/", {"override_reason": "战略客户"})
    order.refresh_from_db()
    assert (order.status, order.credit_override_reason) == (S.CONFIRMED, "战略客户")


def test_from_contract_and_delivery_on_the_page(make_active, deal_org, client_for):
    contract = make_active(lines=[(10, "100"), (5, "20")])
    a, b = contract.lines.order_by("pk")
    client = client_for(deal_org.rep_a)
    form = client.get(f"/sales/orders/from-contract/{contract.pk}/")
    assert form.status_code == 200
    too_much = client.post(
        f"/sales/orders/from-contract/{contract.pk}/",
        {f"quantity_{a.pk}": "11", f"quantity_{b.pk}": "0"},
    )
    assert too_much.status_code == 400
    response = client.post(
        f"/sales/orders/from-contract/{contract.pk}/",
        {f"quantity_{a.pk}": "6", f"quantity_{b.pk}": "0"},
    )
    order = SalesOrder.objects.get()
    assert response["Location"] == f"/sales/orders/{order.pk}/"
    assert order.contract == contract
    assert [(line.contract_line, line.quantity) for line in order.lines.all()] == [
        (a, D("6"))
    ]
    client.post(f"/sales/orders/{order.pk}/confirm/")
    line = order.lines.get()
    client.post(f"/sales/orders/{order.pk}/deliver/", {f"quantity_{line.pk}": "2"})
    order.refresh_from_db()
    assert order.delivery_status == "partial"
    client.post(f"/sales/orders/{order.pk}/deliver/", {f"quantity_{line.pk}": "4"})
    order.refresh_from_db()
    assert (order.status, order.delivery_status) == (S.COMPLETED, "delivered")
    page = client.get(f"/sales/contracts/{contract.pk}/").content.decode()
    assert order.number in page
    assert not Instalment.objects.filter(order=order).exists()
    # Another rep cannot call off rep_a's contract.
    assert (
        client_for(deal_org.rep_b)
        .get(f"/sales/orders/from-contract/{contract.pk}/")
        .status_code
        == 404
    )


def test_cancel_on_the_page(make_order, deal_org, client_for):
    order = make_order()
    client = client_for(deal_org.rep_a)
    client.post(f"/sales/orders/{order.pk}/cancel/", {"text": ""})
    order.refresh_from_db()
    assert order.status == S.DRAFT
    client.post(f"/sales/orders/{order.pk}/cancel/", {"text": "重复下单"})
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (S.CANCELLED, "重复下单")
