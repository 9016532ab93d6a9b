"""S7 pages and API: rules, periods, statements in the viewer's scope, export."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from crm.org.tests.factories import make_role
from crm.sales.models import CommissionLine, CommissionPeriod, CommissionRule
from crm.sales.services.commissions import (
    commission_period_compute,
    commission_period_create,
    commission_rule_create,
)
from crm.sales.services.payments import payment_record
from crm.sales.tests.payments_fixtures import receivable

pytestmark = pytest.mark.usefixtures("english")

ON = datetime.date(2026, 1, 15)


@pytest.fixture
def computed(sales_org):
    """January, computed: rep_a collected 1000, rep_b 2000, rep_c 4000 at 5 %."""
    admin = sales_org.admin
    commission_rule_create(actor=admin, data={"name": "全员", "rate": Decimal(5)})
    for rep, amount in (
        (sales_org.rep_a, "1000"),
        (sales_org.rep_b, "2000"),
        (sales_org.rep_c, "4000"),
    ):
        payment_record(
            actor=rep,
            instalment=receivable(rep, "10000"),
            amount=amount,
            received_on=ON,
        )
    period = commission_period_create(
        actor=admin,
        data={
            "name": "2026年1月",
            "start_on": datetime.date(2026, 1, 1),
            "end_on": datetime.date(2026, 1, 31),
        },
    )
    commission_period_compute(actor=admin, period=period)
    return period


@pytest.fixture
def finance(sales_org):
    """A commission administrator: rules, periods, closing, export, all scope."""
    role = make_role(
        "佣金管理",
        "sales.view_commissionrule",
        "sales.add_commissionrule",
        "sales.change_commissionrule",
        "sales.view_commissionperiod",
        "sales.add_commissionperiod",
        "sales.change_commissionperiod",
        "sales.close_commissionperiod",
        "core.export_data",
        scope="all",
    )
    sales_org.manager.groups.add(role)
    return sales_org.manager


def statement_url(period, user):
    return reverse("sales:commission-statement", args=[period.pk, user.pk])


def test_a_rep_sees_their_own_statement_only(computed, sales_org, client_for):
    client = client_for(sales_org.rep_a)
    mine = client.get(statement_url(computed, sales_org.rep_a))
    assert mine.status_code == 200
    assert mine.context["totals"]["commission"] == Decimal("50")
    assert client.get(statement_url(computed, sales_org.rep_b)).status_code == 404
    assert client.get(statement_url(computed, sales_org.rep_c)).status_code == 404

    summary = client.get(reverse("sales:commission-period-detail", args=[computed.pk]))
    assert [row["employee"] for row in summary.context["summary"]] == [
        sales_org.rep_a.pk
    ]


def test_a_manager_sees_the_statements_of_their_scope(computed, sales_org, client_for):
    client = client_for(sales_org.manager)  # east branch and below
    assert client.get(statement_url(computed, sales_org.rep_b)).status_code == 200
    assert client.get(statement_url(computed, sales_org.rep_c)).status_code == 404
    summary = client.get(
        reverse("sales:commission-period-detail", args=[computed.pk])
    ).context["summary"]
    assert {row["employee"] for row in summary} == {
        sales_org.rep_a.pk,
        sales_org.rep_b.pk,
    }


def test_the_statement_lists_payment_customer_base_rate_and_amount(
    computed, sales_org, client_for
):
    page = client_for(sales_org.rep_b).get(statement_url(computed, sales_org.rep_b))
    text = page.content.decode()
    line = CommissionLine.objects.get(employee=sales_org.rep_b)
    assert line.payment.number in text
    assert line.payment.customer.name in text
    assert "2,000.00" in text
    assert "100.00" in text  # 5 % of 2000
    assert 'id="statement-total"' in text


def test_the_statement_export_has_the_lines_and_the_total(
    computed, finance, sales_org, client_for
):
    response = client_for(finance).get(
        reverse(
            "sales:commission-statement-export", args=[computed.pk, sales_org.rep_c.pk]
        )
    )
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    header, line, total = rows
    assert "commission" in [str(h).lower() for h in header]
    commission = [str(h).lower() for h in header].index("commission")
    assert Decimal(str(line[commission])) == Decimal("200")
    assert total[0] == "Total"
    assert Decimal(str(total[commission])) == Decimal("200")


def test_the_export_needs_the_export_permission_and_the_scope(
    computed, sales_org, client_for
):
    url = reverse(
        "sales:commission-statement-export", args=[computed.pk, sales_org.rep_a.pk]
    )
    assert client_for(sales_org.rep_a).get(url).status_code == 403
    sales_org.rep_c.groups.add(make_role("导出", "core.export_data"))
    assert client_for(sales_org.rep_c).get(url).status_code == 404


def test_rules_pages(finance, client_for, sales_org):
    client = client_for(finance)
    assert client.get(reverse("sales:commission-rule-list")).status_code == 200
    assert client.get(reverse("sales:commission-rule-create")).status_code == 200
    response = client.post(
        reverse("sales:commission-rule-create"),
        {
            "name": "华东提成",
            "employee": sales_org.rep_a.pk,
            "rate": "2.5",
            "is_active": "on",
        },
    )
    saved = CommissionRule.objects.get(name="华东提成")
    assert response.status_code == 302
    assert saved.rate == Decimal("2.5")
    detail = client.get(reverse("sales:commission-rule-detail", args=[saved.pk]))
    assert detail.status_code == 200
    both = client.post(
        reverse("sales:commission-rule-create"),
        {
            "name": "错误",
            "employee": sales_org.rep_a.pk,
            "role": sales_org.rep_a.groups.first().pk,
            "rate": "1",
        },
    )
    assert both.status_code == 400
    assert "not both" in both.content.decode()


def test_rules_need_their_permission(sales_org, client_for):
    client = client_for(sales_org.rep_a)
    assert client.get(reverse("sales:commission-rule-list")).status_code == 403
    assert client.get(reverse("sales:commission-rule-create")).status_code == 403


def test_period_pages_compute_and_close(finance, client_for, sales_org):
    client = client_for(finance)
    response = client.post(
        reverse("sales:commission-period-create"),
        {"name": "2026年2月", "start_on": "2026-02-01", "end_on": "2026-02-28"},
    )
    period = CommissionPeriod.objects.get(name="2026年2月")
    assert response.status_code == 302
    overlap = client.post(
        reverse("sales:commission-period-create"),
        {"name": "重叠", "start_on": "2026-02-15", "end_on": "2026-03-15"},
    )
    assert overlap.status_code == 400
    assert "overlaps" in overlap.content.decode()

    detail = reverse("sales:commission-period-detail", args=[period.pk])
    assert 'id="compute-button"' in client.get(detail).content.decode()
    computed = client.post(
        reverse("sales:commission-period-compute", args=[period.pk]), follow=True
    )
    assert "Commissions computed" in computed.content.decode()
    closed = client.post(
        reverse("sales:commission-period-close", args=[period.pk]), follow=True
    )
    assert "Period closed" in closed.content.decode()
    page = client.get(detail).content.decode()
    assert 'id="compute-button"' not in page
    again = client.post(
        reverse("sales:commission-period-compute", args=[period.pk]),
        HTTP_REFERER=detail,
    )
    assert again.status_code == 302  # refused with a message (409 → back)
    assert CommissionPeriod.objects.get(pk=period.pk).is_closed


def test_the_period_list_renders(computed, sales_org, client_for):
    page = client_for(sales_org.rep_a).get(reverse("sales:commission-period-list"))
    assert page.status_code == 200
    assert "2026年1月" in page.content.decode()


# API


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_api_lines_are_in_the_callers_scope(computed, sales_org, api):
    body = api(sales_org.rep_a).get("/api/v1/sales/commission-lines/").json()
    assert [r["employee"] for r in body["results"]] == [sales_org.rep_a.pk]
    body = (
        api(sales_org.manager)
        .get("/api/v1/sales/commission-lines/", {"period": computed.pk})
        .json()
    )
    assert {r["employee"] for r in body["results"]} == {
        sales_org.rep_a.pk,
        sales_org.rep_b.pk,
    }


def test_api_periods_compute_close(finance, api, sales_org):
    client = api(finance)
    created = client.post(
        "/api/v1/sales/commission-periods/",
        {"name": "3月", "start_on": "2026-03-01", "end_on": "2026-03-31"},
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert (
        client.post(f"/api/v1/sales/commission-periods/{pk}/compute/").status_code
        == 200
    )
    closed = client.post(f"/api/v1/sales/commission-periods/{pk}/close/")
    assert closed.json()["status"] == "closed"
    assert (
        client.post(f"/api/v1/sales/commission-periods/{pk}/compute/").status_code
        == 409
    )
    overlap = client.post(
        "/api/v1/sales/commission-periods/",
        {"name": "x", "start_on": "2026-03-31", "end_on": "2026-04-30"},
        format="json",
    )
    assert overlap.status_code == 400
    assert "start_on" in overlap.json()["fields"]


def test_api_rules(finance, api, sales_org):
    client = api(finance)
    created = client.post(
        "/api/v1/sales/commission-rules/",
        {"name": "角色提成", "role": sales_org.rep_a.groups.first().pk, "rate": "1.5"},
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    changed = client.patch(
        f"/api/v1/sales/commission-rules/{pk}/", {"rate": "2"}, format="json"
    )
    assert changed.json()["rate"] == "2.0000"
    assert (
        api(sales_org.rep_a).get("/api/v1/sales/commission-rules/").status_code == 403
    )
