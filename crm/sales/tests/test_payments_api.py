"""S6 payments API: idempotent create (header or field), 409 on key reuse, void, scope."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.org.tests.factories import make_role
from crm.sales.models import Instalment, Payment
from crm.sales.services.payments import payment_record
from crm.sales.tests.payments_fixtures import receivable

URL = "/api/v1/sales/payments/"


@pytest.fixture
def api(sales_org):
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_create_with_an_idempotency_key_header_records_once(sales_org, api):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")
    client = api(rep)
    body = {"instalment": instalment.pk, "amount": "250.50", "method": "cash"}

    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == first.json()["number"]
    assert Payment.objects.count() == 1
    assert Instalment.objects.get(pk=instalment.pk).received == Decimal("250.50")


def test_the_key_may_come_as_a_field(sales_org, api):
    rep = sales_org.rep_a
    instalment = receivable(rep)
    body = {"instalment": instalment.pk, "amount": "10", "idempotency_key": "f-1"}
    client = api(rep)
    assert client.post(URL, body, format="json").status_code == 201
    assert client.post(URL, body, format="json").status_code == 200
    assert Payment.objects.count() == 1


def test_reusing_a_key_for_another_amount_is_409(sales_org, api):
    rep = sales_org.rep_a
    instalment = receivable(rep)
    client = api(rep)
    client.post(
        URL,
        {"instalment": instalment.pk, "amount": "10"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    response = client.post(
        URL,
        {"instalment": instalment.pk, "amount": "11"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Payment.objects.count() == 1


def test_header_and_field_must_agree(sales_org, api):
    rep = sales_org.rep_a
    response = api(rep).post(
        URL,
        {"instalment": receivable(rep).pk, "amount": "1", "idempotency_key": "a"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="b",
    )
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["fields"]


def test_over_payment_is_a_400_naming_the_amount(sales_org, api, english):
    rep = sales_org.rep_a
    response = api(rep).post(
        URL,
        {"instalment": receivable(rep, "99.00").pk, "amount": "100"},
        format="json",
    )
    assert response.status_code == 400
    assert "99.00" in response.json()["fields"]["amount"][0]


def test_another_reps_instalment_cannot_be_paid_and_their_receipts_are_hidden(
    sales_org, api
):
    theirs = receivable(sales_org.rep_c)
    payment = payment_record(actor=sales_org.rep_c, instalment=theirs, amount="5")
    client = api(sales_org.rep_a)

    created = client.post(URL, {"instalment": theirs.pk, "amount": "1"}, format="json")
    assert created.status_code == 400
    assert "instalment" in created.json()["fields"]
    assert client.get(f"{URL}{payment.pk}/").status_code == 404
    assert client.post(f"{URL}{payment.pk}/void/", {"reason": "x"}).status_code == 404
    assert client.get(URL).json()["results"] == []


def test_list_and_detail(sales_org, api):
    rep = sales_org.rep_a
    payment = payment_record(actor=rep, instalment=receivable(rep), amount="42")
    client = api(rep)
    listed = client.get(URL).json()["results"]
    assert [p["number"] for p in listed] == [payment.number]
    detail = client.get(f"{URL}{payment.pk}/").json()
    assert detail["amount"] == "42.000000"
    assert detail["status"] == "posted"


def test_void_needs_the_permission_and_a_reason(sales_org, api):
    rep = sales_org.rep_a
    instalment = receivable(rep, "100.00")
    payment = payment_record(actor=rep, instalment=instalment, amount="60")
    client = api(rep)
    assert client.post(f"{URL}{payment.pk}/void/", {"reason": "x"}).status_code == 403

    rep.groups.add(make_role("作废", "sales.void_payment"))
    client = api(type(rep).objects.get(pk=rep.pk))  # permissions are cached per object
    assert client.post(f"{URL}{payment.pk}/void/", {}).status_code == 400
    voided = client.post(f"{URL}{payment.pk}/void/", {"reason": "退票"})
    assert voided.status_code == 200
    assert voided.json()["status"] == "voided"
    assert (
        client.post(f"{URL}{payment.pk}/void/", {"reason": "again"}).status_code == 409
    )
    assert Instalment.objects.get(pk=instalment.pk).received == 0


@pytest.mark.parametrize("instalment", [10**20, -1, "abc", True, None])
def test_an_instalment_that_is_no_id_is_a_400(sales_org, api, instalment):
    response = api(sales_org.rep_a).post(
        URL, {"instalment": instalment, "amount": "1"}, format="json"
    )
    assert response.status_code == 400
    assert "instalment" in response.json()["fields"]
