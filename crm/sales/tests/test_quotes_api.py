"""S3 quote API: list/detail/create/update with version, lines as a sub-resource, status
changes, and 404 outside the caller's scope."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.sales.models import Quote

pytest_plugins = ["crm.sales.tests.quotes_support"]
pytestmark = pytest.mark.django_db
S = Quote.Status
URL = "/api/v1/sales/quotes/"


@pytest.fixture
def api_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def quotes(quote_org, make_quote, product):
    mine = make_quote(title="东区报价", lines=[(product, "2", "100", "5")])
    theirs = make_quote(owner=quote_org.rep_c, lines=[(product, "1", "50", "0")])
    return mine, theirs


def test_list_and_detail_in_scope(api_for, quote_org, quotes):
    mine, _theirs = quotes
    client = api_for(quote_org.rep_a)
    listed = client.get(URL)
    assert listed.status_code == 200
    assert [q["number"] for q in listed.data["results"]] == [mine.number]
    detail = client.get(f"{URL}{mine.pk}/")
    assert detail.status_code == 200
    assert detail.data["total"] == "214.700000"
    assert detail.data["total_in_words"] == "人民币贰佰壹拾肆元柒角"
    assert detail.data["lines"][0]["product_code"] == "HX-100"
    assert detail.data["lines"][0]["amount"] == "190.000000"


def test_other_reps_quote_is_404_everywhere(api_for, quote_org, quotes):
    _mine, theirs = quotes
    client = api_for(quote_org.rep_a)
    line = theirs.lines.get()
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.get(f"{URL}{theirs.pk}/lines/").status_code == 404
    assert (
        client.patch(
            f"{URL}{theirs.pk}/", {"title": "x", "version": theirs.version}
        ).status_code
        == 404
    )
    assert client.post(f"{URL}{theirs.pk}/submit/").status_code == 404
    assert client.delete(f"{URL}{theirs.pk}/lines/{line.pk}/").status_code == 404
    manager = api_for(quote_org.manager)  # east subtree: not south
    assert manager.post(f"{URL}{theirs.pk}/approve/").status_code == 404


def test_create_update_with_version(api_for, quote_org, customer, product):
    client = api_for(quote_org.rep_a)
    created = client.post(
        URL, {"title": "API 报价", "customer": customer.pk}, format="json"
    )
    assert created.status_code == 201, created.data
    pk, version = created.data["id"], created.data["version"]
    assert created.data["status"] == S.DRAFT
    stale = client.patch(
        f"{URL}{pk}/", {"title": "改", "version": version + 5}, format="json"
    )
    assert stale.status_code == 409
    missing = client.patch(f"{URL}{pk}/", {"title": "改"}, format="json")
    assert missing.status_code == 400
    updated = client.patch(
        f"{URL}{pk}/", {"title": "改", "version": version}, format="json"
    )
    assert updated.status_code == 200
    assert updated.data["title"] == "改"


def test_create_refuses_a_customer_outside_the_scope(api_for, quote_org):
    from crm.customers.tests.factories import CustomerFactory

    other = CustomerFactory(owner=quote_org.rep_c)
    response = api_for(quote_org.rep_a).post(
        URL, {"title": "报价", "customer": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "customer" in response.data["fields"]


def test_lines_sub_resource(api_for, quote_org, quotes, make_product):
    mine, _theirs = quotes
    client = api_for(quote_org.rep_a)
    extra = make_product(list_price=Decimal("1000"))
    added = client.post(
        f"{URL}{mine.pk}/lines/",
        {"product": extra.pk, "quantity": "1", "discount_percent": "10"},
        format="json",
    )
    assert added.status_code == 201, added.data
    assert added.data["total"] == "1231.700000"  # 214.70 + 900 × 1.13
    line_id = added.data["lines"][-1]["id"]
    assert added.data["lines"][-1]["unit_price"] == "1000.000000"
    listed = client.get(f"{URL}{mine.pk}/lines/")
    assert [x["id"] for x in listed.data][-1] == line_id
    patched = client.patch(
        f"{URL}{mine.pk}/lines/{line_id}/", {"quantity": "2"}, format="json"
    )
    assert patched.status_code == 200
    assert patched.data["total"] == "2248.700000"
    bad = client.patch(
        f"{URL}{mine.pk}/lines/{line_id}/", {"discount_percent": "101"}, format="json"
    )
    assert bad.status_code == 400
    assert "discount_percent" in bad.data["fields"]
    removed = client.delete(f"{URL}{mine.pk}/lines/{line_id}/")
    assert removed.status_code == 200
    assert removed.data["total"] == "214.700000"
    assert client.delete(f"{URL}{mine.pk}/lines/abc/").status_code == 404


def test_status_changes_and_revision(api_for, quote_org, quotes, set_param):
    set_param("quote_discount_approval_percent", 3)
    mine, _theirs = quotes  # 5% discount: above 3%
    rep, manager = api_for(quote_org.rep_a), api_for(quote_org.manager)
    submitted = rep.post(f"{URL}{mine.pk}/submit/")
    assert submitted.data["status"] == S.PENDING_APPROVAL
    assert rep.post(f"{URL}{mine.pk}/approve/").status_code == 403
    assert rep.post(f"{URL}{mine.pk}/send/").status_code == 409
    assert manager.post(f"{URL}{mine.pk}/reject/", {}).status_code == 400
    approved = manager.post(f"{URL}{mine.pk}/approve/", {"note": "同意"})
    assert approved.status_code == 200
    assert approved.data["status"] == S.APPROVED
    assert approved.data["decision_note"] == "同意"
    assert rep.post(f"{URL}{mine.pk}/send/").data["status"] == S.SENT
    revised = rep.post(f"{URL}{mine.pk}/revise/")
    assert revised.status_code == 201
    assert revised.data["number"] == f"{mine.number}-2"
    assert revised.data["previous"] == mine.pk
    assert rep.get(f"{URL}{mine.pk}/").data["status"] == S.SUPERSEDED
    product = mine.lines.get().product_id
    late = rep.post(f"{URL}{mine.pk}/lines/", {"product": product}, format="json")
    assert late.status_code == 409


def test_schema_documents_the_quote_endpoints():
    from crm.core.tests.test_api_fuzz import generated_schema

    paths = generated_schema()["paths"]
    assert "409" in paths["/api/v1/sales/quotes/{id}/approve/"]["post"]["responses"]
    line = paths["/api/v1/sales/quotes/{id}/lines/{line_id}/"]
    assert {"404", "409"} <= set(line["patch"]["responses"])
