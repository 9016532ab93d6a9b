"""S5 sales order services: direct orders and their receivable, orders called off a
contract, the credit check at confirmation (below, at, over the limit, override with
and without permission and reason, audit, the customer row lock), deliveries,
cancellation and scope."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.customers.tests.factories import CustomerFactory
from crm.sales.models import Instalment, SalesOrder
from crm.sales.selectors.orders import open_receivables, order_get
from crm.sales.services import contracts as contract_services
from crm.sales.services import orders as services
from crm.sales.services.payments import payment_record

pytest_plugins = ["crm.sales.tests.contracts_fixtures"]
pytestmark = pytest.mark.django_db
S = SalesOrder.Status
D = Decimal
TODAY = datetime.date(2026, 3, 2)


def _events(obj, action=None):
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
    )
    return events.filter(action=action) if action else events


def _limit(customer, amount):
    customer.credit_limit = D(amount)
    customer.save(update_fields=["credit_limit"])


# Direct orders


def test_direct_order_confirmed_becomes_one_receivable(make_order, deal_org, customer):
    order = make_order()
    assert order.number.startswith("DD")
    assert order.total == D("1130.00")
    confirmed = services.order_confirm(actor=deal_org.rep_a, order=order)
    assert confirmed.status == S.CONFIRMED
    assert confirmed.confirmed_at is not None
    instalment = Instalment.objects.get(order=order)
    assert instalment.amount == D("1130.00")
    assert instalment.due_on == TODAY + datetime.timedelta(days=30)
    assert instalment.is_open
    assert (instalment.customer, instalment.owner, instalment.department) == (
        customer,
        deal_org.rep_a,
        deal_org.east,
    )
    assert _events(confirmed, "confirm").get().actor == deal_org.rep_a
    with pytest.raises(Conflict):
        services.order_confirm(actor=deal_org.rep_a, order=order)


def test_the_payment_due_date_wins(make_order, deal_org):
    order = make_order(payment_due_on=TODAY + datetime.timedelta(days=10))
    services.order_confirm(actor=deal_org.rep_a, order=order)
    assert Instalment.objects.get(order=order).due_on == TODAY + datetime.timedelta(
        days=10
    )


def test_lines_follow_the_order_decimal_places(make_order, store_param):
    store_param("decimals_order", 0)
    order = make_order(lines=[(3, "33.335")])
    assert (order.amount, order.tax_amount, order.total) == (
        D("100"),
        D("13"),
        D("113"),
    )


def test_confirm_needs_lines(make_order, deal_org):
    with pytest.raises(Invalid):
        services.order_confirm(actor=deal_org.rep_a, order=make_order(lines=[]))


def test_only_drafts_are_editable(make_order, deal_org, deal_product):
    order = make_order()
    services.order_confirm(actor=deal_org.rep_a, order=order)
    order.refresh_from_db()
    line = order.lines.get()
    with pytest.raises(Conflict):
        services.order_update(
            actor=deal_org.rep_a, obj=order, data={"notes": "x"}, version=order.version
        )
    with pytest.raises(Conflict):
        services.order_line_add(
            actor=deal_org.rep_a, order=order, data={"product": deal_product}
        )
    with pytest.raises(Conflict):
        services.order_line_update(
            actor=deal_org.rep_a, line=line, data={"quantity": D("1")}
        )
    with pytest.raises(Conflict):
        services.order_delete(actor=deal_org.manager, order=order)


def test_delivery_date_before_the_order_date_is_refused(make_order, deal_org):
    with pytest.raises(Invalid) as refused:
        make_order(delivery_due_on=TODAY - datetime.timedelta(days=1))
    assert "delivery_due_on" in refused.value.fields


# Orders from a contract


def test_from_contract_takes_what_is_left(make_active, deal_org, store_param):
    contract = make_active(lines=[(10, "100.00"), (4, "50.00")])
    a, b = contract.lines.order_by("pk")
    first = services.order_create_from_contract(
        actor=deal_org.rep_a, contract=contract, quantities={a.pk: D("3"), b.pk: 0}
    )
    assert [(line.contract_line_id, line.quantity) for line in first.lines.all()] == [
        (a.pk, D("3"))
    ]
    assert (first.customer_id, first.contract) == (contract.customer_id, contract)
    assert first.total == D("339.00")
    services.order_confirm(actor=deal_org.rep_a, order=first)
    assert not Instalment.objects.filter(order=first).exists()  # the plan is
    second = services.order_create_from_contract(
        actor=deal_org.rep_a, contract=contract
    )
    assert sorted(
        (line.contract_line_id, line.quantity) for line in second.lines.all()
    ) == [(a.pk, D("7")), (b.pk, D("4"))]
    with pytest.raises(Invalid) as refused:
        services.order_create_from_contract(
            actor=deal_org.rep_a, contract=contract, quantities={a.pk: D("7.0001")}
        )
    assert f"quantity_{a.pk}" in refused.value.fields
    services.order_confirm(actor=deal_org.rep_a, order=second)
    with pytest.raises(Conflict):
        services.order_create_from_contract(actor=deal_org.rep_a, contract=contract)


def test_confirm_checks_the_contract_quantities_again(make_active, deal_org):
    contract = make_active()
    one = services.order_create_from_contract(actor=deal_org.rep_a, contract=contract)
    two = services.order_create_from_contract(actor=deal_org.rep_a, contract=contract)
    services.order_confirm(actor=deal_org.rep_a, order=one)
    with pytest.raises(Conflict):
        services.order_confirm(actor=deal_org.rep_a, order=two)


def test_contract_lines_keep_their_price_and_customer(
    make_active, deal_org, deal_product
):
    contract = make_active()
    order = services.order_create_from_contract(actor=deal_org.rep_a, contract=contract)
    line = order.lines.get()
    with pytest.raises(Invalid) as refused:
        services.order_line_update(
            actor=deal_org.rep_a, line=line, data={"unit_price": D("1")}
        )
    assert "unit_price" in refused.value.fields
    with pytest.raises(Invalid):
        services.order_line_update(
            actor=deal_org.rep_a, line=line, data={"quantity": D("11")}
        )
    changed = services.order_line_update(
        actor=deal_org.rep_a, line=line, data={"quantity": D("4")}
    )
    assert changed.total == D("452.00")
    with pytest.raises(Conflict):
        services.order_line_add(
            actor=deal_org.rep_a, order=order, data={"product": deal_product}
        )
    with pytest.raises(Invalid) as refused:
        services.order_update(
            actor=deal_org.rep_a,
            obj=order,
            data={"customer": CustomerFactory(owner=deal_org.rep_a)},
            version=SalesOrder.objects.get(pk=order.pk).version,
        )
    assert "customer" in refused.value.fields


def test_orders_come_from_active_contracts_only(make_draft, make_active, deal_org):
    with pytest.raises(Conflict):
        services.order_create_from_contract(actor=deal_org.rep_a, contract=make_draft())
    contract = make_active()
    order = services.order_create_from_contract(actor=deal_org.rep_a, contract=contract)
    contract_services.contract_terminate(
        actor=deal_org.manager, contract=contract, reason="终止"
    )
    with pytest.raises(Conflict):
        services.order_confirm(actor=deal_org.rep_a, order=order)


def test_another_reps_contract_is_not_found(make_active, deal_org):
    contract = make_active()
    with pytest.raises(NotFound):
        services.order_create_from_contract(actor=deal_org.rep_b, contract=contract)


# Credit check


def test_a_zero_credit_limit_means_no_limit(make_order, deal_org, customer):
    _limit(customer, "0")
    order = make_order(lines=[(1000, "100000")])
    assert (
        services.order_confirm(actor=deal_org.rep_a, order=order).status == S.CONFIRMED
    )


@pytest.mark.parametrize(
    ("price", "passes"),
    [("700.00", True), ("769.91", True), ("769.92", False)],
)
def test_credit_limit_below_at_over(
    make_active, make_order, deal_org, customer, price, passes, english
):
    _limit(customer, "2000")
    make_active()  # 1,130.00 open receivables of the customer
    order = make_order(lines=[(1, price)])  # 769.91 × 1.13 = 870.00
    if passes:
        services.order_confirm(actor=deal_org.rep_a, order=order)
        return
    with pytest.raises(Conflict) as refused:
        services.order_confirm(actor=deal_org.rep_a, order=order)
    assert refused.value.message == (
        "Credit limit exceeded: open receivables 1,130.00 + this order 870.01 = "
        "2,000.01, above the credit limit of 2,000.00 of 杭州西湖科技有限公司 by 0.01."
    )
    assert "override_reason" in refused.value.fields
    order.refresh_from_db()
    assert order.status == S.DRAFT
    assert not Instalment.objects.filter(order=order).exists()


def test_receivables_count_what_is_outstanding_company_wide(
    make_active, deal_org, customer
):
    contract = make_active()  # 565.00 + 565.00
    first = contract.instalments.order_by("sequence").first()
    payment_record(actor=deal_org.rep_a, instalment=first, amount=D("500"))
    # Another rep's open receivable of the same customer counts too.
    Instalment.objects.create(
        order=SalesOrder.objects.create(
            number="DD-X",
            customer=customer,
            ordered_on=TODAY,
            owner=deal_org.rep_c,
            department=deal_org.south,
        ),
        customer=customer,
        owner=deal_org.rep_c,
        due_on=TODAY,
        amount=D("100"),
        is_open=True,
    )
    Instalment.objects.create(  # closed: not a receivable
        contract=contract,
        customer=customer,
        due_on=TODAY,
        amount=D("999"),
        is_open=False,
    )
    assert open_receivables(customer.pk) == D("730.00")


def test_override_needs_permission_and_reason_and_is_recorded(
    make_order, deal_org, customer
):
    _limit(customer, "1000")
    order = make_order()  # 1,130.00 > 1,000
    with pytest.raises(Forbidden):
        services.order_confirm(
            actor=deal_org.rep_a, order=order, override_reason="老客户"
        )
    with pytest.raises(Conflict):
        services.order_confirm(actor=deal_org.manager, order=order, override_reason=" ")
    confirmed = services.order_confirm(
        actor=deal_org.manager, order=order, override_reason="老客户,月底回款"
    )
    assert confirmed.status == S.CONFIRMED
    assert confirmed.credit_override_by == deal_org.manager
    assert confirmed.credit_override_at is not None
    assert confirmed.credit_override_reason == "老客户,月底回款"
    event = _events(confirmed, "confirm").get()
    assert "老客户,月底回款" in event.note
    assert event.changes["credit_override_reason"] == ["", "老客户,月底回款"]
    assert event.changes["credit_override_by"][1] == deal_org.manager.pk


def test_no_override_is_recorded_under_the_limit(make_order, deal_org, customer):
    _limit(customer, "5000")
    order = services.order_confirm(
        actor=deal_org.manager, order=make_order(), override_reason="不需要"
    )
    assert order.credit_override_by is None
    assert order.credit_override_reason == ""


def test_an_order_from_a_contract_adds_nothing_but_is_held_by_receivables(
    make_active, deal_org, customer
):
    contract = make_active()  # 1,130.00 open
    _limit(customer, "1130")
    order = services.order_create_from_contract(actor=deal_org.rep_a, contract=contract)
    services.order_confirm(actor=deal_org.rep_a, order=order)  # at the limit: passes
    _limit(customer, "1129.99")
    order2 = services.order_create_from_contract(
        actor=deal_org.rep_a,
        contract=make_active(),  # another 1,130.00 open
    )
    with pytest.raises(Conflict):
        services.order_confirm(actor=deal_org.rep_a, order=order2)


@pytest.mark.skipif(
    not connection.features.has_select_for_update,
    reason="the database has no row locks (SQLite serialises writers instead)",
)
def test_the_customer_row_is_locked_during_the_check(make_order, deal_org, customer):
    _limit(customer, "5000")
    order = make_order()
    with CaptureQueriesContext(connection) as queries:
        services.order_confirm(actor=deal_org.rep_a, order=order)
    locks = [
        q["sql"]
        for q in queries.captured_queries
        if "FOR UPDATE" in q["sql"] and "customers_customer" in q["sql"]
    ]
    assert locks


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent connections"
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_confirms_cannot_both_pass(make_order, deal_org, customer):
    """Each order alone fits the limit, both together do not: one confirmation waits
    for the other's lock on the customer, then sees its receivable and is refused."""
    _limit(customer, "2000")
    orders = [make_order(), make_order()]  # 1,130.00 each
    barrier = threading.Barrier(2)
    results = []

    def confirm(order):
        from django.db import connections

        try:
            barrier.wait()
            services.order_confirm(actor=deal_org.rep_a, order=order)
            results.append("confirmed")
        except Conflict:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["confirmed", "refused"]
    assert Instalment.objects.filter(customer=customer, is_open=True).count() == 1


# Deliveries


def test_deliveries_partial_then_complete(make_order, deal_org, deal_product):
    order = make_order(lines=[(10, "100"), (2, "50")])
    a, b = order.lines.order_by("pk")
    with pytest.raises(Conflict):
        services.order_deliver(actor=deal_org.rep_a, order=order, quantities={a.pk: 1})
    services.order_confirm(actor=deal_org.rep_a, order=order)
    partial = services.order_deliver(
        actor=deal_org.rep_a, order=order, quantities={a.pk: D("4")}
    )
    assert (partial.status, partial.delivery_status) == (S.CONFIRMED, "partial")
    assert partial.delivered_on is None
    with pytest.raises(Invalid) as refused:
        services.order_deliver(
            actor=deal_org.rep_a, order=order, quantities={a.pk: D("6.5")}
        )
    assert f"quantity_{a.pk}" in refused.value.fields
    with pytest.raises(Invalid):
        services.order_deliver(actor=deal_org.rep_a, order=order, quantities={})
    with pytest.raises(Invalid) as refused:
        services.order_deliver(actor=deal_org.rep_a, order=order, quantities={999: 1})
    assert "quantities" in refused.value.fields
    with pytest.raises(Invalid) as refused:
        services.order_deliver(
            actor=deal_org.rep_a,
            order=order,
            quantities={b.pk: 1},
            delivered_on=datetime.date.today() + datetime.timedelta(days=2),
        )
    assert "delivered_on" in refused.value.fields
    day = datetime.date.today()
    done = services.order_deliver(
        actor=deal_org.rep_a,
        order=order,
        quantities={a.pk: D("6"), b.pk: D("2")},
        delivered_on=day,
    )
    assert (done.status, done.delivery_status, done.delivered_on) == (
        S.COMPLETED,
        "delivered",
        day,
    )
    a.refresh_from_db()
    assert a.delivered_quantity == D("10")
    event = _events(done, "deliver").first()
    assert event.changes[f"1. {deal_product.code} {deal_product.name}"] == [
        "4 / 10",
        "10 / 10",
    ]
    assert event.changes[f"2. {deal_product.code} {deal_product.name}"] == [
        "0 / 2",
        "2 / 2",
    ]
    # Delivered but not paid: the receivable stays open.
    assert Instalment.objects.get(order=order).is_open


# Cancellation


def test_cancel_closes_the_receivable(make_order, deal_org):
    order = make_order()
    services.order_confirm(actor=deal_org.rep_a, order=order)
    with pytest.raises(Invalid):
        services.order_cancel(actor=deal_org.rep_a, order=order, reason="")
    cancelled = services.order_cancel(
        actor=deal_org.rep_a, order=order, reason="客户取消"
    )
    assert (cancelled.status, cancelled.cancel_reason) == (S.CANCELLED, "客户取消")
    assert not Instalment.objects.get(order=order).is_open
    with pytest.raises(Conflict):
        services.order_cancel(actor=deal_org.rep_a, order=order, reason="again")


def test_no_cancel_once_delivered_or_paid(make_order, deal_org):
    delivered = make_order()
    services.order_confirm(actor=deal_org.rep_a, order=delivered)
    services.order_deliver(
        actor=deal_org.rep_a,
        order=delivered,
        quantities={delivered.lines.get().pk: 1},
    )
    with pytest.raises(Conflict):
        services.order_cancel(actor=deal_org.rep_a, order=delivered, reason="x")
    paid = make_order()
    services.order_confirm(actor=deal_org.rep_a, order=paid)
    payment_record(
        actor=deal_org.rep_a,
        instalment=Instalment.objects.get(order=paid),
        amount=D("1"),
    )
    with pytest.raises(Conflict):
        services.order_cancel(actor=deal_org.rep_a, order=paid, reason="x")


def test_a_draft_is_cancelled_or_deleted(make_order, deal_org):
    order = make_order()
    assert (
        services.order_cancel(actor=deal_org.rep_a, order=order, reason="x").status
        == S.CANCELLED
    )
    draft = make_order()
    with pytest.raises(Forbidden):
        services.order_delete(actor=deal_org.rep_a, order=draft)
    services.order_delete(actor=deal_org.manager, order=draft)
    assert not SalesOrder.objects.filter(pk=draft.pk).exists()


# Scope


def test_another_reps_order_is_not_found(make_order, deal_org):
    order = make_order()
    with pytest.raises(NotFound):
        order_get(actor=deal_org.rep_b, pk=order.pk)
    for call in (
        lambda: services.order_confirm(actor=deal_org.rep_b, order=order),
        lambda: services.order_cancel(actor=deal_org.rep_b, order=order, reason="x"),
        lambda: services.order_update(
            actor=deal_org.rep_b, obj=order, data={}, version=order.version
        ),
    ):
        with pytest.raises(NotFound):
            call()
    assert order_get(actor=deal_org.manager, pk=order.pk) == order
