"""S2 opportunity API: list/detail/create/update with version, moves, closing,
reopening, products; stages; competitors (read for reps); 404 outside the scope."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import make_role
from crm.sales.models import Opportunity
from crm.sales.tests.opportunities_support import make_deal, stages

pytest_plugins = ["crm.sales.tests.opportunities_fixtures"]
URL = "/api/v1/sales/opportunities/"


@pytest.fixture
def api_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def pair(sales_org):
    mine = make_deal(sales_org.rep_a, name="我的", amount="1000")
    theirs = make_deal(sales_org.rep_c, name="别人的", amount="2000")
    return mine, theirs


def test_list_and_detail_in_scope(api_for, sales_org, pair):
    mine, _theirs = pair
    client = api_for(sales_org.rep_a)
    listed = client.get(URL)
    assert listed.status_code == 200
    assert [o["number"] for o in listed.data["results"]] == [mine.number]
    detail = client.get(f"{URL}{mine.pk}/")
    assert detail.status_code == 200
    assert detail.data["stage_name"] == stages()["open"][0].name
    assert detail.data["probability"] == stages()["open"][0].probability
    assert detail.data["amount"] == "1000.000000"
    assert detail.data["status"] == "open"


def test_other_reps_opportunity_is_404_everywhere(api_for, sales_org, pair):
    _mine, theirs = pair
    client = api_for(sales_org.rep_a)
    second = stages()["open"][1]
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert (
        client.patch(
            f"{URL}{theirs.pk}/", {"name": "x", "version": 1}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{URL}{theirs.pk}/move/",
            {"stage": second.pk, "version": 1},
            format="json",
        ).status_code
        == 404
    )
    assert client.get(f"{URL}{theirs.pk}/products/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "别人的"
    assert theirs.stage == stages()["open"][0]


def test_create_with_products_and_competitors(
    api_for, sales_org, customer, make_product, competitor
):
    product = make_product(sales_org.rep_a, list_price=Decimal("120.00"))
    response = api_for(sales_org.rep_a).post(
        URL,
        {
            "name": "API 商机",
            "customer": customer.pk,
            "expected_close_on": "2026-06-30",
            "competitors": [competitor.pk],
            "products": [{"product": product.pk, "quantity": "5"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["amount"] == "600.000000"
    assert response.data["competitors"] == [competitor.pk]
    assert response.data["products"][0]["amount"] == "600.000000"
    assert response.data["number"].startswith("SJ")
    assert response.data["owner"] == sales_org.rep_a.pk


def test_create_for_a_customer_outside_the_scope_is_400(api_for, sales_org):
    other = CustomerFactory(owner=sales_org.rep_c)
    response = api_for(sales_org.rep_a).post(
        URL, {"name": "x", "customer": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "customer" in response.data["fields"]
    assert not Opportunity.objects.exists()


def test_update_needs_the_current_version(api_for, sales_org, pair):
    mine, _ = pair
    client = api_for(sales_org.rep_a)
    missing = client.patch(f"{URL}{mine.pk}/", {"name": "新"}, format="json")
    assert missing.status_code == 400
    ok = client.patch(
        f"{URL}{mine.pk}/", {"name": "新", "version": mine.version}, format="json"
    )
    assert ok.status_code == 200
    assert ok.data["version"] == mine.version + 1
    stale = client.patch(
        f"{URL}{mine.pk}/", {"name": "再新", "version": mine.version}, format="json"
    )
    assert stale.status_code == 409
    mine.refresh_from_db()
    assert mine.name == "新"


def test_move_close_reopen(api_for, sales_org, pair, competitor):
    mine, _ = pair
    client = api_for(sales_org.rep_a)
    second = stages()["open"][1]
    moved = client.post(
        f"{URL}{mine.pk}/move/",
        {"stage": second.pk, "version": mine.version},
        format="json",
    )
    assert moved.status_code == 200
    assert moved.data["stage"] == second.pk
    stale = client.post(
        f"{URL}{mine.pk}/move/",
        {"stage": stages()["open"][2].pk, "version": mine.version},
        format="json",
    )
    assert stale.status_code == 409
    no_reason = client.post(
        f"{URL}{mine.pk}/close/",
        {"outcome": "lost", "reason": "", "version": moved.data["version"]},
        format="json",
    )
    assert no_reason.status_code == 400
    closed = client.post(
        f"{URL}{mine.pk}/close/",
        {
            "outcome": "lost",
            "reason": "交期太长",
            "lost_to": competitor.pk,
            "version": moved.data["version"],
        },
        format="json",
    )
    assert closed.status_code == 200
    assert (closed.data["status"], closed.data["lost_to"]) == ("lost", competitor.pk)
    read_only = client.patch(
        f"{URL}{mine.pk}/",
        {"name": "x", "version": closed.data["version"]},
        format="json",
    )
    assert read_only.status_code == 409
    reopened = client.post(
        f"{URL}{mine.pk}/reopen/",
        {"version": closed.data["version"]},
        format="json",
    )
    assert reopened.status_code == 200
    assert (reopened.data["status"], reopened.data["stage"]) == ("open", second.pk)


def test_products_add_and_remove(api_for, sales_org, pair, make_product):
    mine, _ = pair
    client = api_for(sales_org.rep_a)
    product = make_product(sales_org.rep_a, list_price=Decimal("10"))
    added = client.post(
        f"{URL}{mine.pk}/products/",
        {"product": product.pk, "quantity": "3", "version": mine.version},
        format="json",
    )
    assert added.status_code == 201
    assert added.data["amount"] == "1000.000000"  # typed: it stays
    line = added.data["products"][0]["id"]
    stale = client.delete(f"{URL}{mine.pk}/products/{line}/?version={mine.version}")
    assert stale.status_code == 409
    removed = client.delete(
        f"{URL}{mine.pk}/products/{line}/?version={added.data['version']}"
    )
    assert removed.status_code == 200
    assert removed.data["products"] == []


def test_stages_are_listed_for_reps(api_for, sales_org):
    response = api_for(sales_org.rep_a).get("/api/v1/sales/stages/")
    assert response.status_code == 200
    kinds = [s["kind"] for s in response.data]
    assert kinds.count("won") == 1
    assert kinds.count("lost") == 1
    assert [s["probability"] for s in response.data][:4] == [10, 25, 50, 75]


def test_competitors_read_for_reps_write_with_permission(
    api_for, sales_org, competitor
):
    reader = make_role("只读竞争", "sales.view_competitor")
    sales_org.rep_c.groups.set([reader])
    client = api_for(sales_org.rep_c)
    listed = client.get("/api/v1/sales/competitors/")
    assert listed.status_code == 200
    assert listed.data["results"][0]["weaknesses"] == "售后网点少"
    refused = client.post("/api/v1/sales/competitors/", {"name": "柳工"}, format="json")
    assert refused.status_code == 403
    writer = api_for(sales_org.rep_a)
    created = writer.post(
        "/api/v1/sales/competitors/",
        {"name": "柳工", "strengths": "渠道"},
        format="json",
    )
    assert created.status_code == 201
    duplicate = writer.post(
        "/api/v1/sales/competitors/", {"name": "柳工"}, format="json"
    )
    assert duplicate.status_code == 400
    assert "name" in duplicate.data["fields"]
