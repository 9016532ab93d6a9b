"""S6 pages: record a payment from an instalment (double click safe), list, detail,
void, export; another rep's receipts are not found and not listed."""

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.org.tests.factories import make_role
from crm.sales.models import Instalment, Payment
from crm.sales.services.payments import payment_record
from crm.sales.tests.payments_fixtures import receivable

pytestmark = pytest.mark.usefixtures("english")


def _key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


@pytest.fixture
def rep(sales_org):
    return sales_org.rep_a


def test_record_a_payment_from_the_instalment_page(rep, client_for):
    instalment = receivable(rep, "1000.00")
    client = client_for(rep)
    url = reverse("sales:instalment-payment", args=[instalment.pk])

    page = client.get(url)
    assert page.status_code == 200
    key = _key(page.content.decode())
    form = {
        "amount": "400",
        "received_on": "2026-01-10",
        "method": "bank",
        "reference": "ICBC-001",
        "idempotency_key": key,
    }
    first = client.post(url, form)
    # A double click posts the same form (and key) again.
    second = client.post(url, form, follow=True)

    payment = Payment.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("sales:payment-detail", args=[payment.pk])
    assert second.status_code == 200
    assert "already recorded" in second.content.decode()
    assert Instalment.objects.get(pk=instalment.pk).received == Decimal("400")
    assert payment.reference == "ICBC-001"


def test_each_rendered_form_has_its_own_key(rep, client_for):
    url = reverse("sales:instalment-payment", args=[receivable(rep).pk])
    client = client_for(rep)
    assert _key(client.get(url).content.decode()) != _key(
        client.get(url).content.decode()
    )


def test_over_payment_shows_the_outstanding_amount_on_the_form(rep, client_for):
    instalment = receivable(rep, "1000.00")
    payment_record(actor=rep, instalment=instalment, amount="250")
    response = client_for(rep).post(
        reverse("sales:instalment-payment", args=[instalment.pk]),
        {"amount": "800", "received_on": "2026-01-10", "method": "bank"},
    )
    assert response.status_code == 400
    assert "750.00" in response.content.decode()
    assert Payment.objects.count() == 1


def test_the_form_needs_the_add_permission(sales_org, client_for):
    viewer = sales_org.rep_c
    viewer.groups.set([make_role("只读", "sales.view_instalment", scope="all")])
    url = reverse("sales:instalment-payment", args=[receivable(sales_org.rep_a).pk])
    client = client_for(viewer)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="idempotency_key"' not in page.content.decode()
    response = client.post(url, {"amount": "1", "method": "bank"})
    assert response.status_code == 403


def test_another_reps_instalment_and_receipt_are_not_found(sales_org, client_for):
    theirs = receivable(sales_org.rep_c, "500.00")
    payment = payment_record(actor=sales_org.rep_c, instalment=theirs, amount="100")
    client = client_for(sales_org.rep_a)
    assert (
        client.get(reverse("sales:instalment-payment", args=[theirs.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("sales:instalment-payment", args=[theirs.pk]),
            {"amount": "1", "method": "bank"},
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("sales:payment-detail", args=[payment.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("sales:payment-void", args=[payment.pk]), {"reason": "x"}
        ).status_code
        == 404
    )


def test_the_list_shows_only_the_reps_receipts_and_exports_them(sales_org, client_for):
    mine = payment_record(
        actor=sales_org.rep_a, instalment=receivable(sales_org.rep_a), amount="11"
    )
    theirs = payment_record(
        actor=sales_org.rep_c, instalment=receivable(sales_org.rep_c), amount="22"
    )
    sales_org.rep_a.groups.add(make_role("导出", "core.export_data"))
    client = client_for(sales_org.rep_a)

    page = client.get(reverse("sales:payment-list")).content.decode()
    assert mine.number in page
    assert theirs.number not in page
    searched = client.get(reverse("sales:payment-list"), {"q": theirs.number})
    assert searched.context["rows"] == []

    export = client.get(
        reverse("core:export", args=["sales.payment"]), {"format": "xlsx"}
    )
    numbers = [
        row[0] for row in load_workbook(io.BytesIO(export.content)).active.values
    ]
    assert numbers[1:] == [mine.number]


def test_the_customer_filter_offers_only_customers_in_scope(sales_org, client_for):
    payment_record(
        actor=sales_org.rep_a, instalment=receivable(sales_org.rep_a), amount="11"
    )
    other = receivable(sales_org.rep_c)
    payment_record(actor=sales_org.rep_c, instalment=other, amount="22")
    page = client_for(sales_org.rep_a).get(reverse("sales:payment-list"))
    assert other.customer.name not in page.content.decode()


def test_detail_shows_the_receipt_and_its_history(rep, client_for):
    payment = payment_record(actor=rep, instalment=receivable(rep), amount="123.45")
    page = client_for(rep).get(reverse("sales:payment-detail", args=[payment.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert payment.number in text
    assert "123.45" in text
    assert 'id="history-tab"' in text
    assert 'id="void-form"' not in text  # rep_a may not void


def test_void_from_the_detail_page(sales_org, client_for):
    rep = sales_org.rep_a
    rep.groups.add(make_role("作废", "sales.void_payment"))
    instalment = receivable(rep, "1000.00")
    payment = payment_record(actor=rep, instalment=instalment, amount="300")
    client = client_for(rep)
    url = reverse("sales:payment-void", args=[payment.pk])
    detail = reverse("sales:payment-detail", args=[payment.pk])
    assert 'id="void-form"' in client.get(detail).content.decode()

    no_reason = client.post(url, {"reason": ""}, follow=True)
    assert "Give the reason" in no_reason.content.decode()
    assert Payment.objects.get().status == Payment.Status.POSTED

    voided = client.post(url, {"reason": "客户退票"}, follow=True)
    assert 'id="voided-note"' in voided.content.decode()
    assert "客户退票" in voided.content.decode()
    assert Instalment.objects.get(pk=instalment.pk).received == 0
    # Still listed, as voided.
    listed = client.get(reverse("sales:payment-list"), {"status": "voided"})
    assert payment.number in listed.content.decode()


def test_list_pages_cost_the_same_queries_for_more_rows(
    sales_org, client_for, django_assert_max_num_queries
):
    """No query per row (STYLE 7): 2 or 12 receipts, one page, the same cost."""
    rep = sales_org.rep_a
    client = client_for(rep)

    def pay(n):
        for _ in range(n):
            payment_record(actor=rep, instalment=receivable(rep), amount="1")

    pay(2)
    client.get(reverse("sales:payment-list"))  # warm caches (parameters, menu)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("sales:payment-list"))
        client.get(reverse("sales:receivables"))
    pay(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("sales:payment-list"))
        client.get(reverse("sales:receivables"))
