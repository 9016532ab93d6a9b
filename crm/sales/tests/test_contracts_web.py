"""S4 contract pages: list and export within the scope, detail tabs, create from
scratch and from a quote, lines and payment plan on the page, status actions, and 404
for another rep's contract on every page."""

import datetime
from decimal import Decimal

import pytest

from crm.sales.models import Contract, Quote, QuoteLine
from crm.sales.services import contracts as services

pytest_plugins = ["crm.sales.tests.contracts_fixtures"]
pytestmark = pytest.mark.django_db
S = Contract.Status
D = Decimal
TODAY = datetime.date(2026, 3, 2)


@pytest.fixture
def contracts(make_draft, deal_org):
    """Drafts of rep_a, rep_b (east) and rep_c (south)."""
    return {
        "a": make_draft(),
        "b": make_draft(owner=deal_org.rep_b),
        "c": make_draft(owner=deal_org.rep_c),
    }


def test_list_shows_only_the_scope(contracts, deal_org, client_for):
    page = client_for(deal_org.rep_a).get("/sales/contracts/")
    assert page.status_code == 200
    text = page.content.decode()
    assert contracts["a"].number in text
    assert contracts["b"].number not in text
    assert contracts["c"].number not in text
    text = client_for(deal_org.manager).get("/sales/contracts/?q=HT").content.decode()
    assert contracts["a"].number in text
    assert contracts["b"].number in text
    assert contracts["c"].number not in text


def test_list_filters_and_search(contracts, deal_org, client_for, make_active):
    active = make_active()
    client = client_for(deal_org.rep_a)
    text = client.get("/sales/contracts/?status=active").content.decode()
    assert active.number in text
    assert contracts["a"].number not in text
    text = client.get(f"/sales/contracts/?q={contracts['a'].number}").content.decode()
    assert contracts["a"].number in text
    assert active.number not in text


def test_export_holds_only_the_scope(contracts, deal_org, client_for):
    response = client_for(deal_org.manager).get("/export/sales.contract/?format=csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert contracts["a"].number in text
    assert contracts["b"].number in text
    assert contracts["c"].number not in text


def test_detail_of_a_draft(contracts, deal_org, client_for):
    contract = contracts["a"]
    page = client_for(deal_org.rep_a).get(f"/sales/contracts/{contract.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for marker in (
        'id="lines-table"',
        'id="line-add-form"',
        'id="plan-split-form"',
        'id="instalment-add-form"',
        'id="attachment-form"',
        'id="contract-submit"',
        'id="history-tab"',
        "1,130.00",
    ):
        assert marker in text


def test_another_reps_contract_is_404_on_every_page(contracts, deal_org, client_for):
    contract = contracts["a"]
    line = contract.lines.get()
    client = client_for(deal_org.rep_b)
    base = f"/sales/contracts/{contract.pk}"
    assert client.get(f"{base}/").status_code == 404
    assert client.get(f"{base}/edit/").status_code == 404
    for url in (
        "submit/",
        "withdraw/",
        "approve/",
        "reject/",
        "complete/",
        "terminate/",
        "delete/",
        "lines/",
        f"lines/{line.pk}/",
        f"lines/{line.pk}/delete/",
        "instalments/",
        "instalments/split/",
        "attachments/",
    ):
        assert client.post(f"{base}/{url}").status_code == 404, url
    contract.refresh_from_db()
    assert contract.status == S.DRAFT


def test_create_and_edit_on_the_page(deal_org, customer, client_for):
    client = client_for(deal_org.rep_a)
    assert client.get("/sales/contracts/new/").status_code == 200
    response = client.post(
        "/sales/contracts/new/",
        {"title": "配件合同", "customer": customer.pk, "currency": "CNY"},
    )
    assert response.status_code == 302
    contract = Contract.objects.get(title="配件合同")
    assert response["Location"] == f"/sales/contracts/{contract.pk}/"
    response = client.post(
        f"/sales/contracts/{contract.pk}/edit/",
        {
            "title": "配件合同(修订)",
            "customer": customer.pk,
            "currency": "CNY",
            "version": contract.version,
        },
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.title == "配件合同(修订)"


def test_lines_and_plan_on_the_page(
    make_draft, deal_org, deal_product, client_for, english
):
    contract = make_draft(lines=[])
    client = client_for(deal_org.rep_a)
    base = f"/sales/contracts/{contract.pk}"
    client.post(
        f"{base}/lines/",
        {
            "product": deal_product.pk,
            "quantity": "2",
            "unit_price": "",
            "discount_percent": "0",
            "tax_rate": "13",
        },
    )
    line = contract.lines.get()
    assert line.unit_price == deal_product.list_price
    client.post(
        f"{base}/lines/{line.pk}/",
        {
            "product": deal_product.pk,
            "quantity": "10",
            "unit_price": "100",
            "discount_percent": "0",
            "tax_rate": "13",
        },
    )
    contract.refresh_from_db()
    assert contract.total == D("1130.00")
    client.post(f"{base}/instalments/", {"due_on": "2026-04-01", "amount": "1129.99"})
    response = client.post(f"{base}/submit/", follow=True)
    assert (
        "The instalments add up to 1,129.99 but the contract total is 1,130.00: "
        "0.01 is not planned yet." in response.content.decode()
    )
    client.post(
        f"{base}/instalments/split/",
        {"count": "2", "first_due_on": "2026-04-01", "interval_months": "1"},
    )
    assert [i.amount for i in contract.instalments.order_by("sequence")] == [
        D("565.00"),
        D("565.00"),
    ]
    client.post(f"{base}/submit/")
    contract.refresh_from_db()
    assert contract.status == S.PENDING_APPROVAL


def test_approval_on_the_page(make_draft, deal_org, client_for):
    contract = make_draft()
    services.contract_plan_split(
        actor=deal_org.rep_a, contract=contract, count=1, first_due_on=TODAY
    )
    services.contract_submit(actor=deal_org.rep_a, contract=contract)
    assert (
        'id="contract-approve"'
        not in client_for(deal_org.rep_a)
        .get(f"/sales/contracts/{contract.pk}/")
        .content.decode()
    )
    assert (
        client_for(deal_org.rep_a)
        .post(f"/sales/contracts/{contract.pk}/approve/")
        .status_code
        == 403
    )
    manager = client_for(deal_org.manager)
    assert (
        'id="contract-approve"'
        in manager.get(f"/sales/contracts/{contract.pk}/").content.decode()
    )
    manager.post(f"/sales/contracts/{contract.pk}/approve/")
    contract.refresh_from_db()
    assert contract.status == S.ACTIVE
    assert contract.instalments.get().is_open
    page = client_for(deal_org.rep_a).get(f"/sales/contracts/{contract.pk}/")
    assert "/sales/orders/from-contract/" in page.content.decode()


def test_reject_and_terminate_need_a_reason_on_the_page(
    make_active, make_draft, deal_org, client_for, english
):
    contract = make_active()
    manager = client_for(deal_org.manager)
    response = manager.post(
        f"/sales/contracts/{contract.pk}/terminate/", {"text": ""}, follow=True
    )
    assert "Give the reason for terminating the contract." in response.content.decode()
    manager.post(f"/sales/contracts/{contract.pk}/terminate/", {"text": "客户违约"})
    contract.refresh_from_db()
    assert contract.status == S.TERMINATED
    page = client_for(deal_org.rep_a).get(f"/sales/contracts/{contract.pk}/")
    assert 'id="termination-note"' in page.content.decode()


def test_from_quote_page(deal_org, customer, deal_product, client_for):
    quote = Quote.objects.create(
        number="BJ-W1",
        title="报价A",
        customer=customer,
        status=Quote.Status.SENT,
        owner=deal_org.rep_a,
        department=deal_org.east,
    )
    QuoteLine.objects.create(
        quote=quote, product=deal_product, quantity=D("2"), unit_price=D("100")
    )
    draft_quote = Quote.objects.create(
        number="BJ-W2",
        title="报价B",
        customer=customer,
        owner=deal_org.rep_a,
        department=deal_org.east,
    )
    client = client_for(deal_org.rep_a)
    page = client.get(f"/sales/contracts/from-quote/?quote={quote.pk}")
    text = page.content.decode()
    assert "BJ-W1" in text
    assert "BJ-W2" not in text  # a draft quote cannot be chosen
    assert (
        client.post(
            "/sales/contracts/from-quote/", {"quote": draft_quote.pk}
        ).status_code
        == 400
    )
    response = client.post("/sales/contracts/from-quote/", {"quote": quote.pk})
    contract = Contract.objects.get(quote=quote)
    assert response["Location"] == f"/sales/contracts/{contract.pk}/"
    assert contract.total == D("226.00")
    # Another rep cannot make a contract of rep_a's quote.
    assert (
        client_for(deal_org.rep_b)
        .post("/sales/contracts/from-quote/", {"quote": quote.pk})
        .status_code
        == 400
    )


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_and_api_cost_the_same_for_more_rows(
    make_draft, make_order, deal_org, client_for
):
    """No query per row (X6): list page, API list and export of contracts and orders."""
    client = client_for(deal_org.manager)
    urls = (
        "/sales/contracts/",
        "/api/v1/sales/contracts/",
        "/export/sales.contract/?format=csv",
        "/sales/orders/",
        "/api/v1/sales/orders/",
        "/export/sales.order/?format=csv",
    )
    make_draft()
    make_order()
    few = [_queries(client, url) for url in urls]
    for owner in (deal_org.rep_a, deal_org.rep_b, deal_org.manager) * 2:
        make_draft(owner=owner)
        make_order(owner=owner)
    assert [_queries(client, url) for url in urls] == few
