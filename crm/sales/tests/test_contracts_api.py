"""S4 contract API: list and detail within the scope (404 outside), create and update
with version, lines, plan and split, the status actions with their permissions, from a
quote."""

from decimal import Decimal

import pytest

from crm.sales.models import Contract, Quote, QuoteLine

pytest_plugins = ["crm.sales.tests.contracts_fixtures"]
pytestmark = pytest.mark.django_db
S = Contract.Status
D = Decimal
API = "/api/v1/sales/contracts/"


def test_list_and_detail_within_the_scope(make_draft, deal_org, client_for):
    mine = make_draft()
    theirs = make_draft(owner=deal_org.rep_b)
    client = client_for(deal_org.rep_a)
    listed = client.get(API).json()
    assert [row["number"] for row in listed["results"]] == [mine.number]
    detail = client.get(f"{API}{mine.pk}/").json()
    assert detail["total"] == "1130.000000"
    assert [line["quantity"] for line in detail["lines"]] == ["10.0000"]
    assert detail["instalments"] == []
    assert client.get(f"{API}{theirs.pk}/").status_code == 404
    assert (
        client.patch(
            f"{API}{theirs.pk}/",
            {"title": "x", "version": 1},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert client.post(f"{API}{theirs.pk}/submit/").status_code == 404
    manager = client_for(deal_org.manager).get(API).json()
    assert {row["number"] for row in manager["results"]} == {mine.number, theirs.number}


def test_reading_needs_the_view_permission(make_draft, deal_org, client_for):
    from crm.org.tests.factories import UserFactory

    nobody = UserFactory(department=deal_org.east)
    assert client_for(nobody).get(API).status_code == 403


def test_create_update_with_version(deal_org, customer, client_for):
    client = client_for(deal_org.rep_a)
    created = client.post(
        API,
        {"title": "API合同", "customer": customer.pk},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["version"]) == ("draft", 1)
    url = f"{API}{body['id']}/"
    missing = client.patch(url, {"title": "x"}, content_type="application/json")
    assert missing.status_code == 400
    ok = client.patch(
        url, {"title": "API合同2", "version": 1}, content_type="application/json"
    )
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = client.patch(
        url, {"title": "API合同3", "version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409


def test_a_customer_outside_the_scope_is_refused(deal_org, client_for):
    from crm.customers.tests.factories import CustomerFactory

    other = CustomerFactory(owner=deal_org.rep_c)
    response = client_for(deal_org.rep_a).post(
        API, {"title": "x", "customer": other.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "customer" in response.json()["fields"]


def test_lines_plan_and_the_approval_flow(
    make_draft, deal_org, deal_product, client_for, english
):
    contract = make_draft(lines=[])
    client = client_for(deal_org.rep_a)
    base = f"{API}{contract.pk}/"
    line = client.post(
        f"{base}lines/",
        {"product": deal_product.pk, "quantity": "10", "unit_price": "100"},
        content_type="application/json",
    )
    assert line.status_code == 201
    line_id = line.json()["id"]
    changed = client.patch(
        f"{base}lines/{line_id}/",
        {"discount_percent": "10"},
        content_type="application/json",
    )
    assert changed.json()["total"] == "1017.000000"
    assert (
        client.patch(
            f"{base}lines/99999/", {"quantity": "1"}, content_type="application/json"
        ).status_code
        == 404
    )
    instalment = client.post(
        f"{base}instalments/",
        {"due_on": "2026-05-01", "amount": "1017.01"},
        content_type="application/json",
    )
    assert instalment.status_code == 201
    refused = client.post(f"{base}submit/")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "The instalments add up to 1,017.01 but the contract total is 1,017.00: "
        "0.01 too much is planned."
    )
    split = client.post(
        f"{base}instalments/split/",
        {"count": 3, "first_due_on": "2026-05-01"},
        content_type="application/json",
    )
    assert [row["amount"] for row in split.json()] == [
        "339.000000",
        "339.000000",
        "339.000000",
    ]
    first = split.json()[0]["id"]
    assert (
        client.patch(
            f"{base}instalments/{first}/",
            {"note": "预付款"},
            content_type="application/json",
        ).json()["note"]
        == "预付款"
    )
    submitted = client.post(f"{base}submit/")
    assert submitted.json()["status"] == "pending_approval"
    assert client.post(f"{base}approve/").status_code == 403
    assert client.delete(f"{base}lines/{line_id}/").status_code == 409
    manager = client_for(deal_org.manager)
    assert (
        manager.post(f"{base}reject/", {}, content_type="application/json").status_code
        == 400
    )
    rejected = manager.post(
        f"{base}reject/", {"note": "请核对价格"}, content_type="application/json"
    )
    assert rejected.json()["status"] == "draft"
    client.post(f"{base}submit/")
    approved = manager.post(f"{base}approve/", {}, content_type="application/json")
    body = approved.json()
    assert body["status"] == "active"
    assert all(row["is_open"] for row in body["instalments"])
    terminated = manager.post(
        f"{base}terminate/", {"reason": "客户破产"}, content_type="application/json"
    )
    assert terminated.json()["status"] == "terminated"
    assert not any(row["is_open"] for row in terminated.json()["instalments"])


def test_delete_a_draft(make_draft, deal_org, client_for):
    contract = make_draft()
    assert client_for(deal_org.rep_a).delete(f"{API}{contract.pk}/").status_code == 403
    assert (
        client_for(deal_org.manager).delete(f"{API}{contract.pk}/").status_code == 204
    )
    assert not Contract.objects.filter(pk=contract.pk).exists()


def test_from_quote(deal_org, customer, deal_product, client_for):
    quote = Quote.objects.create(
        number="BJ-A1",
        title="报价",
        customer=customer,
        status=Quote.Status.ACCEPTED,
        owner=deal_org.rep_a,
        department=deal_org.east,
    )
    QuoteLine.objects.create(
        quote=quote, product=deal_product, quantity=D("1"), unit_price=D("1000")
    )
    other = client_for(deal_org.rep_b).post(
        f"{API}from-quote/", {"quote": quote.pk}, content_type="application/json"
    )
    assert other.status_code == 400  # not among the quotes they may use
    created = client_for(deal_org.rep_a).post(
        f"{API}from-quote/",
        {"quote": quote.pk, "title": "正式合同"},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["title"], body["quote"], body["total"]) == (
        "正式合同",
        quote.pk,
        "1130.000000",
    )
    again = client_for(deal_org.rep_a).post(
        f"{API}from-quote/", {"quote": quote.pk}, content_type="application/json"
    )
    assert again.status_code == 409
