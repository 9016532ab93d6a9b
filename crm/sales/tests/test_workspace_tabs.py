"""S10 / C5: the customer 360° view's sales tabs — leads, opportunities, quotes,
contracts, orders, payments — list only the records in the viewer's sales scope."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.core.scopes import DataScope
from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import UserFactory, make_role
from crm.sales.selectors.workspace import TAB_ROWS
from crm.sales.tests.workspace_fixtures import (
    make_contract,
    make_instalment,
    make_lead,
    make_opportunity,
    make_order,
    make_payment,
    make_quote,
)

TABS = ("leads", "opportunities", "quotes", "contracts", "orders", "payments")

pytestmark = pytest.mark.django_db


def _records_of(owner, customer) -> dict:
    """One record of every tab's type for `customer`, owned by `owner`: key -> number."""
    contract = make_contract(owner, customer)
    instalment = make_instalment(contract, due_in_days=-3)
    return {
        "leads": make_lead(owner, customer).number,
        "opportunities": make_opportunity(owner, customer).number,
        "quotes": make_quote(owner, customer).number,
        "contracts": contract.number,
        "orders": make_order(owner, customer).number,
        "payments": make_payment(instalment).number,
    }


def _tab_counts(html: str) -> dict:
    """The number on each tab button of the customer page."""
    counts = {}
    for key in TABS:
        match = re.search(
            rf'id="tab-{key}-button">.*?<span class="badge[^"]*">(\d+)</span>',
            html,
            re.S,
        )
        if match:
            counts[key] = int(match.group(1))
    return counts


def _tab(client, customer, key):
    return client.get(reverse("customers:customer-tab", args=[customer.pk, key]))


def test_tabs_list_only_the_records_in_the_viewers_sales_scope(
    sales_org, customer, client_for
):
    """rep_a owns the customer; rep_b (same branch) sold to it too. rep_a sees the
    customer but only their own documents; the manager (department tree) sees both."""
    mine = _records_of(sales_org.rep_a, customer)
    theirs = _records_of(sales_org.rep_b, customer)
    other_customer = CustomerFactory(owner=sales_org.rep_a)
    elsewhere = _records_of(sales_org.rep_a, other_customer)

    rep = client_for(sales_org.rep_a)
    page = rep.get(reverse("customers:customer-detail", args=[customer.pk]))
    assert page.status_code == 200
    assert _tab_counts(page.content.decode()) == dict.fromkeys(TABS, 1)
    for key in TABS:
        html = _tab(rep, customer, key).content.decode()
        assert mine[key] in html
        assert theirs[key] not in html
        assert elsewhere[key] not in html

    boss = client_for(sales_org.manager)
    page = boss.get(reverse("customers:customer-detail", args=[customer.pk]))
    assert _tab_counts(page.content.decode()) == dict.fromkeys(TABS, 2)
    for key in TABS:
        html = _tab(boss, customer, key).content.decode()
        assert mine[key] in html
        assert theirs[key] in html


def test_a_customer_outside_the_scope_gives_404_on_every_tab(
    sales_org, customer, client_for
):
    _records_of(sales_org.rep_a, customer)
    rep_c = client_for(sales_org.rep_c)  # south: neither the customer nor its sales
    for key in TABS:
        assert _tab(rep_c, customer, key).status_code == 404


def test_without_the_view_permission_the_tab_is_absent_and_refused(
    sales_org, customer, client_for
):
    role = make_role("只看客户", "customers.view_customer", scope=DataScope.ALL)
    viewer = UserFactory(department=sales_org.east, roles=[role])
    _records_of(sales_org.rep_a, customer)
    client = client_for(viewer)
    html = client.get(
        reverse("customers:customer-detail", args=[customer.pk])
    ).content.decode()
    for key in TABS:
        assert f'id="tab-{key}-button"' not in html
        assert _tab(client, customer, key).status_code == 403


@pytest.mark.usefixtures("english")
def test_rows_link_to_their_records_and_new_links_carry_the_customer(
    sales_org, customer, client_for
):
    quote = make_quote(sales_org.rep_a, customer, title="挖掘机报价")
    html = _tab(client_for(sales_org.rep_a), customer, "quotes").content.decode()
    assert f'href="{reverse("sales:quote-detail", args=[quote.pk])}"' in html
    assert "挖掘机报价" in html
    assert "1,130.00" in html  # the total, to the quote's decimal places
    assert f'href="{reverse("sales:quote-create")}?customer={customer.pk}"' in html

    reader = make_role(
        "只读销售",
        "customers.view_customer",
        "sales.view_quote",
        scope=DataScope.ALL,
    )
    viewer = UserFactory(department=sales_org.east, roles=[reader])
    html = _tab(client_for(viewer), customer, "quotes").content.decode()
    assert quote.number in html
    assert "?customer=" not in html  # may not add quotes: no "new" link


def test_leads_tab_lists_the_leads_converted_into_this_customer(
    sales_org, customer, client_for
):
    converted = make_lead(sales_org.rep_a, customer)
    open_lead = make_lead(sales_org.rep_a, company=customer.name)
    into_other = make_lead(sales_org.rep_a, CustomerFactory(owner=sales_org.rep_a))
    html = _tab(client_for(sales_org.rep_a), customer, "leads").content.decode()
    assert converted.number in html
    assert open_lead.number not in html
    assert into_other.number not in html


@pytest.mark.usefixtures("english")
def test_payments_tab_shows_what_the_customer_still_owes(
    sales_org, customer, client_for
):
    contract = make_contract(sales_org.rep_a, customer)
    late = make_instalment(contract, due_in_days=-5, amount="1000", received="400")
    make_instalment(contract, due_in_days=20, amount="2500")
    make_payment(late, amount=400)
    theirs = make_contract(sales_org.rep_b, customer)
    make_instalment(theirs, due_in_days=-5, amount="9999")
    html = _tab(client_for(sales_org.rep_a), customer, "payments").content.decode()
    outstanding = re.search(r'id="customer-receivable">(.*?)</div>', html, re.S)
    assert outstanding is not None
    text = " ".join(outstanding.group(1).split())
    assert "3,100.00" in text  # 600 + 2,500 of mine; rep_b's 9,999 is not counted
    assert "600.00" in text  # overdue


def test_a_tab_costs_the_same_queries_however_many_records(
    sales_org, customer, client_for
):
    client = client_for(sales_org.manager)

    def queries(key):
        client.get(reverse("customers:customer-tab", args=[customer.pk, key]))
        with CaptureQueriesContext(connection) as ctx:
            response = _tab(client, customer, key)
        assert response.status_code == 200
        return len(ctx)

    for owner in (sales_org.rep_a, sales_org.rep_b):
        _records_of(owner, customer)
    few = {key: queries(key) for key in TABS}
    for _ in range(TAB_ROWS):
        _records_of(sales_org.rep_a, customer)
    many = {key: queries(key) for key in TABS}
    assert many == {k: n + 1 for k, n in few.items()}  # + the count past the page


@pytest.mark.usefixtures("english")
def test_a_long_tab_links_to_the_whole_list(sales_org, customer, client_for):
    for _ in range(TAB_ROWS + 2):
        make_quote(sales_org.rep_a, customer)
    html = _tab(client_for(sales_org.rep_a), customer, "quotes").content.decode()
    assert html.count("<tr data-id=") == TAB_ROWS
    assert f"{TAB_ROWS} of {TAB_ROWS + 2} shown" in html
    assert f"{reverse('sales:quote-list')}?q=" in html
