"""Opportunity pages: list, export, detail, forms, products, moves, closing, reopening,
stage settings and competitor pages — wiring, scope and what a user reads."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import make_role
from crm.sales.models import Opportunity, Stage
from crm.sales.services import opportunities as services
from crm.sales.tests.opportunities_support import make_deal, stages

pytest_plugins = ["crm.sales.tests.opportunities_fixtures"]
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def export_role(sales_org):
    role = make_role("导出", "core.export_data")
    sales_org.rep_a.groups.add(role)
    return role


def test_list_shows_own_deals_only_and_filters_by_stage(sales_org, client_for):
    first, second = stages()["open"][:2]
    mine = make_deal(sales_org.rep_a, name="我的商机A", stage=first)
    make_deal(sales_org.rep_a, name="我的商机B", stage=second)
    make_deal(sales_org.rep_c, name="别人的商机")
    client = client_for(sales_org.rep_a)
    page = client.get(reverse("sales:opportunity-list")).content.decode()
    assert "我的商机A" in page
    assert "我的商机B" in page
    assert "别人的商机" not in page
    filtered = client.get(reverse("sales:opportunity-list"), {"stage": first.pk})
    assert "我的商机A" in filtered.content.decode()
    assert "我的商机B" not in filtered.content.decode()
    assert mine.number in filtered.content.decode()


def test_export_contains_only_the_scope(sales_org, client_for, export_role):
    make_deal(sales_org.rep_a, name="导出的商机", amount="1234.50")
    make_deal(sales_org.rep_c, name="看不见的商机")
    response = client_for(sales_org.rep_a).get(
        reverse("core:export", args=["sales.opportunity"]), {"format": "csv"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row[1] for row in rows[1:]]
    assert names == ["导出的商机"]


def test_detail_of_another_reps_deal_is_404(sales_org, client_for):
    other = make_deal(sales_org.rep_c)
    client = client_for(sales_org.rep_a)
    assert (
        client.get(reverse("sales:opportunity-detail", args=[other.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("sales:opportunity-edit", args=[other.pk])).status_code
        == 404
    )


def test_the_manager_sees_the_reps_deal(sales_org, client_for):
    deal = make_deal(sales_org.rep_b, name="浦东项目")
    response = client_for(sales_org.manager).get(
        reverse("sales:opportunity-detail", args=[deal.pk])
    )
    assert response.status_code == 200
    assert "浦东项目" in response.content.decode()


def test_create_through_the_form(sales_org, client_for, customer, competitor):
    client = client_for(sales_org.rep_a)
    assert client.get(reverse("sales:opportunity-create")).status_code == 200
    second = stages()["open"][1]
    response = client.post(
        reverse("sales:opportunity-create"),
        {
            "name": "智慧工厂",
            "customer": customer.number,
            "stage": second.pk,
            "amount": "80000",
            "expected_close_on": "2026-09-30",
            "source": "referral",
            "competitors": [competitor.pk],
        },
    )
    deal = Opportunity.objects.get(name="智慧工厂")
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:opportunity-detail", args=[deal.pk])
    assert deal.stage == second
    assert deal.amount == Decimal("80000")
    assert list(deal.competitors.all()) == [competitor]
    page = client.get(response["Location"]).content.decode()
    assert "Referral" in page
    assert competitor.name in page


def test_create_for_a_customer_outside_the_scope_is_a_field_error(
    sales_org, client_for
):
    other = CustomerFactory(owner=sales_org.rep_c)
    response = client_for(sales_org.rep_a).post(
        reverse("sales:opportunity-create"),
        {"name": "x", "customer": other.number, "amount": "1"},
    )
    assert response.status_code == 400
    assert not Opportunity.objects.exists()


def test_edit_with_a_stale_version_is_409(sales_org, client_for):
    deal = make_deal(sales_org.rep_a)
    client = client_for(sales_org.rep_a)
    url = reverse("sales:opportunity-edit", args=[deal.pk])
    data = {"name": "改名", "customer": deal.customer.number, "amount": "5"}
    assert client.post(url, {**data, "version": deal.version}).status_code == 302
    response = client.post(url, {**data, "name": "再改", "version": deal.version})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    deal.refresh_from_db()
    assert deal.name == "改名"


def test_products_added_and_removed_on_the_page(sales_org, client_for, make_product):
    deal = make_deal(sales_org.rep_a)
    product = make_product(sales_org.rep_a, list_price=Decimal("300.00"))
    client = client_for(sales_org.rep_a)
    url = reverse("sales:opportunity-product-add", args=[deal.pk])
    response = client.post(
        url, {"product": product.pk, "quantity": "2", "version": deal.version}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.amount == Decimal("600.00")
    page = client.get(reverse("sales:opportunity-detail", args=[deal.pk]))
    assert product.name in page.content.decode()
    line = deal.products.get()
    client.post(
        reverse("sales:opportunity-product-remove", args=[deal.pk, line.pk]),
        {"version": deal.version},
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("0")
    assert not deal.products.exists()


def test_close_from_the_page_needs_a_reason_and_then_reads_only(sales_org, client_for):
    deal = make_deal(sales_org.rep_a, amount="100")
    won = stages()["won"][0]
    client = client_for(sales_org.rep_a)
    url = reverse("sales:opportunity-move", args=[deal.pk])
    response = client.post(
        url, {"stage": won.pk, "version": deal.version, "reason": ""}, follow=True
    )
    assert "Say why the opportunity was won or lost." in response.content.decode()
    deal.refresh_from_db()
    assert deal.is_open
    client.post(url, {"stage": won.pk, "version": deal.version, "reason": "价格合适"})
    deal.refresh_from_db()
    assert deal.status == Opportunity.Status.WON
    page = client.get(reverse("sales:opportunity-detail", args=[deal.pk]))
    text = page.content.decode()
    assert "价格合适" in text
    assert reverse("sales:opportunity-edit", args=[deal.pk]) not in text
    edit = client.get(reverse("sales:opportunity-edit", args=[deal.pk]))
    assert edit.status_code == 302
    reopen = client.post(
        reverse("sales:opportunity-reopen", args=[deal.pk]),
        {"version": deal.version},
    )
    assert reopen.status_code == 302
    deal.refresh_from_db()
    assert deal.is_open
    assert deal.close_reason == ""


def test_stage_settings_need_the_permission(sales_org, client_for, stage_admin):
    assert (
        client_for(sales_org.rep_a).get(reverse("sales:stage-settings")).status_code
        == 403
    )
    page = client_for(stage_admin).get(reverse("sales:stage-settings"))
    assert page.status_code == 200
    for stage in Stage.objects.all():
        assert stage.name in page.content.decode()


def test_stage_settings_add_edit_reorder(sales_org, client_for, stage_admin):
    client = client_for(stage_admin)
    response = client.post(
        reverse("sales:stage-settings"),
        {"name": "技术验证", "probability": "40", "kind": "open", "is_active": "on"},
    )
    assert response.status_code == 302
    added = Stage.objects.get(name="技术验证")
    assert added.sort_order == max(Stage.objects.values_list("sort_order", flat=True))
    client.post(reverse("sales:stage-action", args=[added.pk, "up"]))
    order = list(Stage.objects.order_by("sort_order").values_list("name", flat=True))
    assert order.index("技术验证") == len(order) - 2
    response = client.post(
        reverse("sales:stage-edit", args=[added.pk]),
        {
            "edit-name": "技术验证",
            "edit-probability": "45",
            "edit-kind": "open",
            "edit-is_active": "on",
        },
    )
    assert response.status_code == 302
    added.refresh_from_db()
    assert added.probability == 45


def test_stage_settings_refuse_with_a_clear_message(sales_org, client_for, stage_admin):
    won = stages()["won"][0]
    client = client_for(stage_admin)
    response = client.post(
        reverse("sales:stage-action", args=[won.pk, "deactivate"]), follow=True
    )
    assert "one open, one won and one lost stage must stay active" in (
        response.content.decode()
    )
    won.refresh_from_db()
    assert won.is_active
    response = client.post(
        reverse("sales:stage-settings"),
        {"name": "签约", "probability": "90", "kind": "won", "is_active": "on"},
    )
    assert response.status_code == 400
    assert "A won stage has a probability of 100%." in response.content.decode()


def test_competitor_pages(sales_org, client_for, competitor):
    mine = make_deal(sales_org.rep_a, name="我的竞争商机", competitors=[competitor])
    make_deal(sales_org.rep_c, name="别人的竞争商机", competitors=[competitor])
    lost = make_deal(sales_org.rep_a, name="输掉的商机")
    services.opportunity_close(
        actor=sales_org.rep_a,
        opportunity=lost,
        outcome="lost",
        reason="价格太高",
        lost_to=competitor,
        version=lost.version,
    )
    client = client_for(sales_org.rep_a)
    listing = client.get(reverse("sales:competitor-list"))
    assert competitor.name in listing.content.decode()
    page = client.get(reverse("sales:competitor-detail", args=[competitor.pk]))
    text = page.content.decode()
    assert "售后网点少" in text
    assert mine.name in text
    assert "输掉的商机" in text
    assert "价格太高" in text
    assert "别人的竞争商机" not in text
    assert page.context["deals"]["met_stats"]["count"] == 1
    assert page.context["deals"]["lost_stats"]["count"] == 1


def test_competitor_form_needs_the_permission(sales_org, client_for):
    reader = make_role("只读", "sales.view_competitor")
    sales_org.rep_c.groups.set([reader])
    client = client_for(sales_org.rep_c)
    assert client.get(reverse("sales:competitor-list")).status_code == 200
    assert client.get(reverse("sales:competitor-create")).status_code == 403
    response = client_for(sales_org.rep_a).post(
        reverse("sales:competitor-create"),
        {"name": "徐工", "strengths": "品牌", "is_active": "on"},
    )
    assert response.status_code == 302


def test_list_board_and_api_cost_the_same_queries_whatever_the_size(
    sales_org, client_for, competitor
):
    api = APIClient()
    api.force_authenticate(sales_org.rep_a)
    client = client_for(sales_org.rep_a)
    calls = [
        lambda: client.get(reverse("sales:opportunity-list")),
        lambda: client.get(reverse("sales:pipeline")),
        lambda: api.get("/api/v1/sales/opportunities/"),
    ]
    counts = []
    for size in (1, 12):
        while Opportunity.objects.count() < size:
            make_deal(sales_org.rep_a, competitors=[competitor])
        row = []
        for call in calls:
            call()  # warm the parameter cache
            with CaptureQueriesContext(connection) as queries:
                assert call().status_code == 200
            row.append(len(queries))
        counts.append(row)
    assert counts[0] == counts[1]
