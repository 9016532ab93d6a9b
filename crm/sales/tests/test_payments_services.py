"""S6 receipts: partial payments, over-payment, rounding, idempotency, void."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.core.params import params_update
from crm.org.tests.factories import make_role
from crm.sales.models import CommissionPeriod, Instalment, Payment
from crm.sales.services import payments as payment_services
from crm.sales.services.payments import payment_record, payment_void
from crm.sales.tests.payments_fixtures import make_instalment, make_order, receivable


def _reload(instalment) -> Instalment:
    return Instalment.objects.get(pk=instalment.pk)


@pytest.fixture
def voider(sales_org):
    """rep_a may also void receipts."""
    sales_org.rep_a.groups.add(make_role("作废收款", "sales.void_payment"))
    return sales_org.rep_a


def test_partial_payments_add_up_and_copy_the_instalment(sales_org):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")

    first = payment_record(actor=rep, instalment=instalment, amount="300")
    second = payment_record(actor=rep, instalment=instalment, amount=Decimal("700"))

    instalment = _reload(instalment)
    assert instalment.received == Decimal("1000")
    assert instalment.outstanding == 0
    assert first.number.startswith("SK")
    assert second.number != first.number
    assert (first.customer_id, first.owner_id, first.department_id) == (
        instalment.customer_id,
        rep.pk,
        rep.department_id,
    )
    assert first.recorded_by == rep
    assert first.status == Payment.Status.POSTED
    assert first.received_on == timezone.localdate()


def test_over_payment_is_refused_naming_the_outstanding_amount(sales_org, english):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")
    payment_record(actor=rep, instalment=instalment, amount="300")

    with pytest.raises(Invalid) as refused:
        payment_record(actor=rep, instalment=instalment, amount="700.01")

    assert "700.00" in refused.value.fields["amount"][0]
    assert _reload(instalment).received == Decimal("300")
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("amount", ["0", "-5", "", "abc"])
def test_amount_must_be_a_positive_number(sales_org, amount):
    rep = sales_org.rep_a
    with pytest.raises(Invalid) as refused:
        payment_record(actor=rep, instalment=receivable(rep), amount=amount)
    assert "amount" in refused.value.fields


def test_amounts_are_rounded_with_the_document_kinds_decimal_places(sales_org):
    params_update(
        actor=sales_org.admin, values={"decimals_contract": 2, "decimals_order": 0}
    )
    rep = sales_org.rep_a
    contract_instalment = receivable(rep, "1000.00")
    order_instalment = make_instalment(make_order(rep), "1000")

    on_contract = payment_record(
        actor=rep, instalment=contract_instalment, amount="100.005"
    )
    on_order = payment_record(actor=rep, instalment=order_instalment, amount="99.5")

    assert on_contract.amount == Decimal("100.01")  # ROUND_HALF_UP
    assert on_order.amount == Decimal("100")
    assert _reload(order_instalment).received == Decimal("100")


def test_rounding_happens_before_the_over_payment_check(sales_org):
    rep = sales_org.rep_a
    instalment = receivable(rep, "100.00")
    # 100.004 rounds to 100.00: exactly the outstanding amount, accepted.
    payment = payment_record(actor=rep, instalment=instalment, amount="100.004")
    assert payment.amount == Decimal("100.00")
    assert _reload(instalment).outstanding == 0


def test_an_instalment_that_is_no_receivable_yet_takes_no_payment(sales_org):
    rep = sales_org.rep_a
    instalment = receivable(rep, is_open=False)
    with pytest.raises(Invalid):
        payment_record(actor=rep, instalment=instalment, amount="10")
    assert not Payment.objects.exists()


def test_a_receipt_cannot_be_dated_in_the_future(sales_org):
    rep = sales_org.rep_a
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(Invalid) as refused:
        payment_record(
            actor=rep, instalment=receivable(rep), amount="10", received_on=tomorrow
        )
    assert "received_on" in refused.value.fields


def test_recording_needs_the_add_permission(sales_org):
    instalment = receivable(sales_org.rep_a)
    outsider = sales_org.rep_a.__class__.objects.create(
        username="nobody", name="无权限", department=sales_org.east
    )
    with pytest.raises(Forbidden):
        payment_record(actor=outsider, instalment=instalment, amount="10")


def test_the_receipt_and_the_instalment_change_are_audited(sales_org):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")
    payment = payment_record(actor=rep, instalment=instalment, amount="250")

    created = AuditEvent.objects.get(
        content_type=ContentType.objects.get_for_model(Payment),
        object_id=str(payment.pk),
    )
    changed = AuditEvent.objects.get(
        content_type=ContentType.objects.get_for_model(Instalment),
        object_id=str(instalment.pk),
    )
    assert created.action == "create"
    assert created.actor == rep
    assert changed.changes["received"] == ["0.000000", "250.000000"]


# Idempotency


def test_the_same_key_twice_records_one_receipt(sales_org):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")

    first = payment_record(
        actor=rep, instalment=instalment, amount="400", idempotency_key="k-1"
    )
    again = payment_record(
        actor=rep, instalment=instalment, amount="400.00", idempotency_key="k-1"
    )

    assert first.replayed is False
    assert again.replayed is True
    assert again.pk == first.pk
    assert again.number == first.number
    assert Payment.objects.count() == 1
    assert _reload(instalment).received == Decimal("400")


def test_a_repeat_is_answered_even_after_the_instalment_was_paid(sales_org):
    """The retry of the receipt that paid the instalment in full is no over-payment."""
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")
    first = payment_record(
        actor=rep, instalment=instalment, amount="1000", idempotency_key="all"
    )
    again = payment_record(
        actor=rep, instalment=instalment, amount="1000", idempotency_key="all"
    )
    assert again.pk == first.pk


@pytest.mark.parametrize("change", ["amount", "instalment", "user"])
def test_the_same_key_for_another_receipt_is_a_conflict(sales_org, change):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")
    payment_record(
        actor=rep, instalment=instalment, amount="400", idempotency_key="k-2"
    )
    call = {"actor": rep, "instalment": instalment, "amount": "400"}
    if change == "amount":
        call["amount"] = "401"
    elif change == "instalment":
        call["instalment"] = receivable(rep, "500.00")
    else:
        call["actor"] = sales_org.manager

    with pytest.raises(Conflict) as refused:
        payment_record(**call, idempotency_key="k-2")

    assert refused.value.status == 409
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("key", ["a" * 65, "has space", "键", "x\x00y"])
def test_a_malformed_key_is_refused(sales_org, key):
    rep = sales_org.rep_a
    with pytest.raises(Invalid) as refused:
        payment_record(
            actor=rep, instalment=receivable(rep), amount="1", idempotency_key=key
        )
    assert "idempotency_key" in refused.value.fields


def test_a_twin_that_won_the_race_is_returned_from_the_savepoint(
    sales_org, monkeypatch
):
    """The lookup misses a twin committed meanwhile: the unique key stops the insert,
    the savepoint keeps the transaction usable, and the twin is returned."""
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")
    twin = payment_record(
        actor=rep, instalment=instalment, amount="100", idempotency_key="race"
    )
    real = payment_services._existing_payment
    calls = []

    def first_lookup_misses(key):
        calls.append(key)
        return None if len(calls) == 1 else real(key)

    monkeypatch.setattr(payment_services, "_existing_payment", first_lookup_misses)

    again = payment_record(
        actor=rep, instalment=instalment, amount="100", idempotency_key="race"
    )

    assert len(calls) == 2
    assert again.pk == twin.pk
    assert again.replayed
    assert Payment.objects.count() == 1
    assert _reload(instalment).received == Decimal("100")


postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent transactions"
)


def _concurrently(calls):
    """Run each call in its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_record_one_receipt(sales_org):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")

    def post():
        return payment_record(
            actor=rep, instalment=instalment, amount="600", idempotency_key="dbl"
        )

    results = _concurrently([post, post])

    assert all(isinstance(r, Payment) for r in results), results
    assert results[0].number == results[1].number
    assert Payment.objects.count() == 1
    assert _reload(instalment).received == Decimal("600")


@postgresql
@pytest.mark.django_db(transaction=True)
def test_one_key_posted_concurrently_for_two_instalments_records_one(sales_org):
    rep = sales_org.rep_a
    first, second = receivable(rep, "1000.00"), receivable(rep, "1000.00")

    def post(instalment):
        return lambda: payment_record(
            actor=rep, instalment=instalment, amount="10", idempotency_key="twice"
        )

    results = _concurrently([post(first), post(second)])

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Payment"]
    assert Payment.objects.count() == 1
    assert _reload(first).received + _reload(second).received == Decimal("10")


@postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_never_overpay_an_instalment(sales_org):
    rep = sales_org.rep_a
    instalment = receivable(rep, "1000.00")

    def post():
        return payment_record(actor=rep, instalment=instalment, amount="600")

    results = _concurrently([post, post])

    assert sorted(type(r).__name__ for r in results) == ["Invalid", "Payment"]
    assert _reload(instalment).received == Decimal("600")


# Void


def test_void_gives_the_amount_back_and_keeps_the_receipt(voider, english):
    instalment = receivable(voider, "1000.00")
    payment = payment_record(actor=voider, instalment=instalment, amount="400")

    voided = payment_void(actor=voider, payment=payment, reason="银行退票")

    assert voided.status == Payment.Status.VOIDED
    assert voided.voided_by == voider
    assert voided.void_reason == "银行退票"
    assert _reload(instalment).outstanding == Decimal("1000")
    assert Payment.objects.filter(pk=payment.pk).exists()
    # The outstanding money can be collected again.
    payment_record(actor=voider, instalment=instalment, amount="1000")
    assert _reload(instalment).received == Decimal("1000")


def test_void_needs_a_reason_the_permission_and_a_posted_receipt(voider, sales_org):
    payment = payment_record(actor=voider, instalment=receivable(voider), amount="100")
    with pytest.raises(Invalid) as no_reason:
        payment_void(actor=voider, payment=payment, reason="  ")
    assert "reason" in no_reason.value.fields
    with pytest.raises(Forbidden):
        payment_void(actor=sales_org.rep_b, payment=payment, reason="错误")
    payment_void(actor=voider, payment=payment, reason="录错")
    with pytest.raises(Conflict):
        payment_void(actor=voider, payment=payment, reason="再次")
    assert Instalment.objects.get(pk=payment.instalment_id).received == 0


def test_void_is_audited_with_the_reason(voider):
    payment = payment_record(actor=voider, instalment=receivable(voider), amount="100")
    payment_void(actor=voider, payment=payment, reason="重复录入")
    event = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Payment),
        object_id=str(payment.pk),
        action="update",
    ).get()
    assert event.changes["status"] == ["posted", "voided"]
    assert "重复录入" in event.note


def _closed_period(start, end):
    return CommissionPeriod.objects.create(
        name="已结", start_on=start, end_on=end, status=CommissionPeriod.Status.CLOSED
    )


def test_a_receipt_in_a_closed_commission_period_cannot_be_voided(voider):
    payment = payment_record(
        actor=voider,
        instalment=receivable(voider),
        amount="100",
        received_on=datetime.date(2026, 1, 15),
    )
    _closed_period(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))

    with pytest.raises(Conflict):
        payment_void(actor=voider, payment=payment, reason="退票")

    assert Instalment.objects.get(pk=payment.instalment_id).received == 100


def test_a_receipt_cannot_be_dated_into_a_closed_commission_period(sales_org):
    rep = sales_org.rep_a
    _closed_period(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))
    with pytest.raises(Invalid) as refused:
        payment_record(
            actor=rep,
            instalment=receivable(rep),
            amount="100",
            received_on=datetime.date(2026, 1, 31),
        )
    assert "received_on" in refused.value.fields
    payment_record(
        actor=rep,
        instalment=receivable(rep),
        amount="100",
        received_on=datetime.date(2026, 2, 1),
    )
