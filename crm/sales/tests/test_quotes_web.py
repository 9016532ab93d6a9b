"""S3 quote pages: list (scope, search, filters, export), record page with lines and
totals, header form, htmx line editing, actions, revision chain, 404 outside the scope."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.core.tests.pages import section, text
from crm.sales.models import Quote
from crm.sales.services import quotes as services

pytest_plugins = ["crm.sales.tests.quotes_support"]
pytestmark = pytest.mark.django_db
S = Quote.Status


@pytest.fixture
def quotes(quote_org, make_quote, product):
    """rep_a's quote (east) and rep_c's quote (south)."""
    mine = make_quote(title="东区报价", lines=[(product, "2", "100", "5")])
    theirs = make_quote(
        owner=quote_org.rep_c, title="南区报价", lines=[(product, "1", "50", "0")]
    )
    return mine, theirs


def test_list_shows_only_quotes_in_scope(client_for, quote_org, quotes, english):
    mine, theirs = quotes
    response = client_for(quote_org.rep_a).get(reverse("sales:quote-list"))
    assert response.status_code == 200
    page = text(response)
    assert mine.number in page
    assert theirs.number not in page
    assert "214.70" in page


def test_list_search_and_status_filter(client_for, quote_org, quotes, make_quote):
    mine, _theirs = quotes
    other = make_quote(title="备件报价")
    client = client_for(quote_org.rep_a)
    url = reverse("sales:quote-list")
    found = client.get(url, {"q": "备件"})
    assert [r["obj"].pk for r in found.context["rows"]] == [other.pk]
    by_customer = client.get(url, {"q": mine.customer.name[:4]})
    assert mine.pk in [r["obj"].pk for r in by_customer.context["rows"]]
    services.quote_submit(actor=quote_org.rep_a, quote=mine)
    approved = client.get(url, {"status": S.APPROVED})
    assert [r["obj"].pk for r in approved.context["rows"]] == [mine.pk]


def test_export_leaves_out_other_reps_quotes(client_for, quote_org, quotes):
    mine, theirs = quotes
    manager = client_for(quote_org.manager)  # east subtree, may export
    response = manager.get(
        reverse("core:export", args=["sales.quote"]), {"format": "csv"}
    )
    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    assert mine.number in body
    assert theirs.number not in body


def test_detail_page_shows_lines_totals_capitals_and_history(
    client_for, quote_org, quotes, english
):
    mine, _theirs = quotes
    response = client_for(quote_org.rep_a).get(
        reverse("sales:quote-detail", args=[mine.pk])
    )
    assert response.status_code == 200
    lines = section(response, 'id="quote-lines"')
    assert "HX-100 液压挖掘机" in lines
    assert "214.70" in lines
    assert "人民币贰佰壹拾肆元柒角" in lines
    assert "line added" in section(response, 'id="tab-history"')
    assert reverse("sales:quote-pdf", args=[mine.pk]) in response.text


@pytest.mark.parametrize(
    "url_name", ["sales:quote-detail", "sales:quote-edit", "sales:quote-pdf"]
)
def test_another_reps_quote_is_not_found(client_for, quote_org, quotes, url_name):
    _mine, theirs = quotes
    response = client_for(quote_org.rep_a).get(reverse(url_name, args=[theirs.pk]))
    assert response.status_code == 404


def test_posts_on_another_reps_quote_are_not_found(client_for, quote_org, quotes):
    _mine, theirs = quotes
    client = client_for(quote_org.rep_a)
    line = theirs.lines.get()
    for url in (
        reverse("sales:quote-submit", args=[theirs.pk]),
        reverse("sales:quote-revise", args=[theirs.pk]),
        reverse("sales:quote-line-add", args=[theirs.pk]),
        reverse("sales:quote-line-remove", args=[theirs.pk, line.pk]),
    ):
        assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.DRAFT
    assert theirs.lines.count() == 1


def test_create_and_edit_the_header(client_for, quote_org, customer):
    client = client_for(quote_org.rep_a)
    response = client.get(reverse("sales:quote-create"), {"customer": customer.pk})
    assert response.status_code == 200
    assert response.context["form"].initial["customer"] == customer.number
    contact = customer.contacts.get()
    response = client.post(
        reverse("sales:quote-create"),
        {
            "title": "年度框架报价",
            "customer": customer.number,
            "contact": contact.pk,
            "currency": "CNY",
            "quoted_on": "2026-03-01",
            "valid_until": "2026-03-31",
        },
    )
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sales:quote-detail", args=[quote.pk])
    assert (quote.title, quote.customer, quote.contact) == (
        "年度框架报价",
        customer,
        contact,
    )
    response = client.post(
        reverse("sales:quote-edit", args=[quote.pk]),
        {
            "title": "年度框架报价（修订）",
            "customer": customer.number,
            "currency": "CNY",
            "quoted_on": "2026-03-01",
            "version": quote.version,
        },
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.title == "年度框架报价（修订）"
    assert quote.contact is None


def test_create_refuses_a_customer_of_another_rep(client_for, quote_org):
    from crm.customers.tests.factories import CustomerFactory

    other = CustomerFactory(owner=quote_org.rep_c)
    response = client_for(quote_org.rep_a).post(
        reverse("sales:quote-create"),
        {"title": "报价", "customer": other.number, "currency": "CNY"},
    )
    assert response.status_code == 400
    assert "customer" in response.context["form"].errors
    assert not Quote.objects.exists()


def test_edit_form_of_a_sent_quote_goes_back_to_the_page(client_for, quote_org, quotes):
    mine, _theirs = quotes
    Quote.objects.filter(pk=mine.pk).update(status=S.SENT)
    response = client_for(quote_org.rep_a).get(
        reverse("sales:quote-edit", args=[mine.pk])
    )
    assert response.status_code == 302
    assert response.url == reverse("sales:quote-detail", args=[mine.pk])


def test_htmx_line_add_edit_remove(client_for, quote_org, quotes, make_product):
    mine, _theirs = quotes
    client = client_for(quote_org.rep_a)
    htmx = {"HX-Request": "true"}
    extra = make_product(name="破碎锤", list_price=Decimal("1000"))
    response = client.post(
        reverse("sales:quote-line-add", args=[mine.pk]),
        {
            "product": extra.pk,
            "quantity": "1",
            "discount_percent": "0",
            "tax_rate": "13",
        },
        headers=htmx,
    )
    assert response.status_code == 200
    assert "sales/quotes/_lines.html" in [t.name for t in response.templates]
    mine.refresh_from_db()
    assert mine.total == Decimal("1344.70")  # 214.70 + 1130.00
    assert "1344.70" in text(response)
    line = mine.lines.get(product=extra)
    assert line.unit_price == Decimal("1000")  # the list price, none was typed
    form = client.get(
        reverse("sales:quote-line-edit", args=[mine.pk, line.pk]), headers=htmx
    )
    assert (
        'id="edit-line-id_quantity"' in form.text or "edit-line-quantity" in form.text
    )
    response = client.post(
        reverse("sales:quote-line-edit", args=[mine.pk, line.pk]),
        {
            "product": extra.pk,
            "quantity": "2",
            "unit_price": "900",
            "discount_percent": "0",
            "tax_rate": "13",
        },
        headers=htmx,
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.total == Decimal("2248.70")  # 214.70 + 2034.00
    response = client.post(
        reverse("sales:quote-line-remove", args=[mine.pk, line.pk]), headers=htmx
    )
    mine.refresh_from_db()
    assert mine.total == Decimal("214.70")


def test_htmx_line_errors_are_shown_in_place(client_for, quote_org, quotes, english):
    mine, _theirs = quotes
    product = mine.lines.get().product
    response = client_for(quote_org.rep_a).post(
        reverse("sales:quote-line-add", args=[mine.pk]),
        {
            "product": product.pk,
            "quantity": "0",
            "discount_percent": "0",
            "tax_rate": "13",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "The quantity must be above zero." in text(response)
    assert mine.lines.count() == 1


def test_line_add_without_javascript_goes_back_to_the_page(
    client_for, quote_org, quotes
):
    mine, _theirs = quotes
    product = mine.lines.get().product
    response = client_for(quote_org.rep_a).post(
        reverse("sales:quote-line-add", args=[mine.pk]),
        {
            "product": product.pk,
            "quantity": "3",
            "discount_percent": "0",
            "tax_rate": "13",
        },
    )
    assert response.status_code == 302
    assert mine.lines.count() == 2


def test_line_change_on_a_sent_quote_is_refused(client_for, quote_org, quotes, english):
    mine, _theirs = quotes
    Quote.objects.filter(pk=mine.pk).update(status=S.SENT)
    line = mine.lines.get()
    response = client_for(quote_org.rep_a).post(
        reverse("sales:quote-line-remove", args=[mine.pk, line.pk]),
        headers={"HX-Request": "true"},
    )
    assert "Only draft or rejected quotes can be changed" in text(response)
    assert mine.lines.count() == 1


def test_approval_on_the_page(client_for, quote_org, make_quote, product, english):
    quote = make_quote(lines=[(product, "1", "100", "25")])
    rep = client_for(quote_org.rep_a)
    rep.post(reverse("sales:quote-submit", args=[quote.pk]))
    quote.refresh_from_db()
    assert quote.status == S.PENDING_APPROVAL
    page = rep.get(reverse("sales:quote-detail", args=[quote.pk]))
    assert "Pending approval" in text(page)
    assert reverse("sales:quote-approve", args=[quote.pk]) not in page.text
    manager = client_for(quote_org.manager)
    page = manager.get(reverse("sales:quote-detail", args=[quote.pk]))
    assert reverse("sales:quote-approve", args=[quote.pk]) in page.text
    response = manager.post(
        reverse("sales:quote-reject", args=[quote.pk]), {"note": "折扣超出授权"}
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == S.REJECTED
    page = rep.get(reverse("sales:quote-detail", args=[quote.pk]))
    assert "折扣超出授权" in section(page, 'id="quote-approval"')


def test_rep_cannot_approve_on_the_page(client_for, quote_org, make_quote, product):
    quote = make_quote(lines=[(product, "1", "100", "25")])
    services.quote_submit(actor=quote_org.rep_a, quote=quote)
    response = client_for(quote_org.rep_b).post(
        reverse("sales:quote-approve", args=[quote.pk])
    )
    assert response.status_code == 404  # not in rep_b's scope at all
    response = client_for(quote_org.rep_a).post(
        reverse("sales:quote-approve", args=[quote.pk])
    )
    assert response.status_code == 403  # in scope, no approve_discount
    quote.refresh_from_db()
    assert quote.status == S.PENDING_APPROVAL


def test_revise_on_the_page_shows_the_chain(client_for, quote_org, quotes, english):
    mine, _theirs = quotes
    client = client_for(quote_org.rep_a)
    client.post(reverse("sales:quote-submit", args=[mine.pk]))
    client.post(reverse("sales:quote-send", args=[mine.pk]))
    response = client.post(reverse("sales:quote-revise", args=[mine.pk]))
    new = Quote.objects.get(previous=mine)
    assert response.url == reverse("sales:quote-detail", args=[new.pk])
    page = client.get(response.url)
    chain = section(page, 'id="quote-revisions"')
    assert mine.number in chain
    assert f"{mine.number}-2" in chain
    assert chain.index(mine.number) < chain.index(f"{mine.number}-2")
    assert "Superseded" in chain


def test_conflict_on_the_page_is_a_message(client_for, quote_org, quotes, english):
    mine, _theirs = quotes
    client = client_for(quote_org.rep_a)
    detail = reverse("sales:quote-detail", args=[mine.pk])
    response = client.post(
        reverse("sales:quote-send", args=[mine.pk]), headers={"referer": detail}
    )
    assert response.status_code == 302
    page = client.get(detail)
    assert "Only approved quotes can be sent." in text(page)


def test_list_page_and_api_cost_constant_queries(
    client_for, quote_org, make_quote, product
):
    """A page of quotes costs the same number of queries for 2 rows as for 8 (no N+1)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(quote_org.rep_a)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for _ in range(2):
        make_quote(lines=[(product, "1", "10", "0")])
    few = [count(reverse("sales:quote-list")), count("/api/v1/sales/quotes/")]
    for _ in range(6):
        make_quote(lines=[(product, "1", "10", "0"), (product, "2", "5", "0")])
    many = [count(reverse("sales:quote-list")), count("/api/v1/sales/quotes/")]
    assert many == few
