"""S4 contract services: creation (from scratch, from a quote), lines and totals under
decimals_contract, the payment plan (exact sums, even split), status transitions and
who may do them, activation opening receivables, completion, termination, scope."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent, Notification
from crm.customers.models import Contact
from crm.customers.tests.factories import CustomerFactory
from crm.sales.models import Contract, Instalment, Opportunity, Quote, QuoteLine, Stage
from crm.sales.selectors.contracts import contract_get, plan_summary
from crm.sales.services import contracts as services
from crm.sales.services import orders as order_services
from crm.sales.services.payments import payment_record

pytest_plugins = ["crm.sales.tests.contracts_fixtures"]
pytestmark = pytest.mark.django_db
S = Contract.Status
D = Decimal
TODAY = datetime.date(2026, 3, 2)


def _events(obj, action=None):
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
    )
    return events.filter(action=action) if action else events


def _plan(contract, actor, *amounts):
    for index, amount in enumerate(amounts):
        services.contract_instalment_add(
            actor=actor,
            contract=contract,
            data={
                "due_on": TODAY + datetime.timedelta(days=30 * (index + 1)),
                "amount": D(amount),
            },
        )


# Creation and lines


def test_create_numbers_the_draft_and_records_it(deal_org, customer, english):
    contract = services.contract_create(
        actor=deal_org.rep_a, data={"title": " 年度框架合同 ", "customer": customer}
    )
    assert contract.number.startswith("HT")
    assert contract.title == "年度框架合同"
    assert contract.status == S.DRAFT
    assert (contract.owner, contract.department) == (deal_org.rep_a, deal_org.east)
    assert _events(contract, AuditEvent.Action.CREATE).exists()


def test_create_refuses_a_customer_outside_the_scope_and_a_foreign_contact(
    deal_org, customer, english
):
    other = CustomerFactory(owner=deal_org.rep_c)
    with pytest.raises(Invalid) as refused:
        services.contract_create(
            actor=deal_org.rep_a, data={"title": "合同", "customer": other}
        )
    assert "customer" in refused.value.fields
    stranger = Contact.objects.create(customer=other, name="外人")
    with pytest.raises(Invalid) as refused:
        services.contract_create(
            actor=deal_org.rep_a,
            data={"title": "合同", "customer": customer, "contact": stranger},
        )
    assert "contact" in refused.value.fields


def test_end_before_start_is_a_field_error(deal_org, customer):
    with pytest.raises(Invalid) as refused:
        services.contract_create(
            actor=deal_org.rep_a,
            data={
                "title": "合同",
                "customer": customer,
                "start_on": TODAY,
                "end_on": TODAY - datetime.timedelta(days=1),
            },
        )
    assert "end_on" in refused.value.fields


def test_lines_keep_the_totals_under_the_contract_decimal_places(
    make_draft, store_param, deal_org, deal_product
):
    store_param("decimals_contract", 0)
    contract = make_draft(lines=[(3, "33.335")])
    # 3 × 33.335 = 100.005 → 100; tax 13% = 13.
    assert (contract.amount, contract.tax_amount, contract.total) == (
        D("100"),
        D("13"),
        D("113"),
    )
    line = contract.lines.get()
    services.contract_line_update(
        actor=deal_org.rep_a, line=line, data={"quantity": D("6")}
    )
    contract.refresh_from_db()
    assert contract.total == D("226")  # 200.01 → 200, tax 26
    assert contract.version == 3  # added a line, changed it
    services.contract_line_remove(actor=deal_org.rep_a, line=line)
    contract.refresh_from_db()
    assert contract.total == 0


def test_a_line_without_price_takes_the_list_price(make_draft, deal_org, deal_product):
    contract = make_draft(lines=[])
    line = services.contract_line_add(
        actor=deal_org.rep_a,
        contract=contract,
        data={"product": deal_product, "quantity": D("2")},
    )
    assert line.unit_price == deal_product.list_price
    assert line.total == D("226.00")


def test_bad_line_values_are_field_errors(make_draft, deal_org, deal_product):
    contract = make_draft(lines=[])
    with pytest.raises(Invalid) as refused:
        services.contract_line_add(
            actor=deal_org.rep_a,
            contract=contract,
            data={
                "product": deal_product,
                "quantity": D("0"),
                "discount_percent": D("120"),
            },
        )
    assert set(refused.value.fields) == {"quantity", "discount_percent"}


def test_a_stale_version_is_refused(make_draft, deal_org):
    contract = make_draft()
    with pytest.raises(Conflict):
        services.contract_update(
            actor=deal_org.rep_a,
            obj=contract,
            data={"title": "新标题"},
            version=contract.version - 1,
        )
    updated = services.contract_update(
        actor=deal_org.rep_a,
        obj=contract,
        data={"title": "新标题"},
        version=contract.version,
    )
    assert updated.title == "新标题"


# From a quote


@pytest.fixture
def make_quote(deal_org, customer, deal_product):
    def make(status=Quote.Status.APPROVED, owner=None, **fields):
        owner = owner or deal_org.rep_a
        quote = Quote.objects.create(
            number=f"BJ-T{Quote.objects.count() + 1}",
            title="装载机报价",
            customer=customer,
            contact=customer.contacts.first(),
            status=status,
            terms="货到付款",
            owner=owner,
            department=owner.department,
            **fields,
        )
        for quantity, price, discount in ((3, "33.335", "0"), (1, "500", "10")):
            QuoteLine.objects.create(
                quote=quote,
                product=deal_product,
                quantity=D(quantity),
                unit_price=D(price),
                discount_percent=D(discount),
                tax_rate=D("13"),
                amount=D("1"),  # whatever the quote computed: the contract reprices
                total=D("1"),
            )
        return quote

    return make


@pytest.mark.parametrize(
    "status", [Quote.Status.APPROVED, Quote.Status.SENT, Quote.Status.ACCEPTED]
)
def test_from_quote_copies_and_reprices(
    make_quote, deal_org, customer, store_param, status
):
    store_param("decimals_contract", 0)
    opportunity = Opportunity.objects.create(
        number="SJ-T1",
        name="装载机商机",
        customer=customer,
        stage=Stage.objects.first(),
        owner=deal_org.rep_a,
        department=deal_org.east,
    )
    quote = make_quote(status=status, opportunity=opportunity)
    contract = services.contract_create_from_quote(
        actor=deal_org.rep_a, quote=quote, data={"signed_on": TODAY}
    )
    assert contract.status == S.DRAFT
    assert contract.quote == quote
    assert (contract.customer, contract.contact, contract.opportunity) == (
        customer,
        quote.contact,
        opportunity,
    )
    assert (contract.title, contract.terms, contract.signed_on) == (
        "装载机报价",
        "货到付款",
        TODAY,
    )
    lines = list(contract.lines.order_by("pk"))
    assert [(line.quantity, line.unit_price) for line in lines] == [
        (D("3"), D("33.335")),
        (D("1"), D("500")),
    ]
    # Priced again with 0 decimal places: 100.005 → 100 (+13); 450 (+58.5 → 59).
    assert [line.total for line in lines] == [D("113"), D("509")]
    assert contract.total == D("622")
    assert _events(contract, AuditEvent.Action.CREATE).get().note.endswith(quote.number)


@pytest.mark.parametrize(
    "status",
    [Quote.Status.DRAFT, Quote.Status.PENDING_APPROVAL, Quote.Status.DECLINED],
)
def test_from_quote_refuses_other_statuses(make_quote, deal_org, status):
    with pytest.raises(Conflict):
        services.contract_create_from_quote(
            actor=deal_org.rep_a, quote=make_quote(status=status)
        )


def test_one_live_contract_per_quote(make_quote, deal_org):
    quote = make_quote()
    first = services.contract_create_from_quote(actor=deal_org.rep_a, quote=quote)
    with pytest.raises(Conflict) as refused:
        services.contract_create_from_quote(actor=deal_org.rep_a, quote=quote)
    assert first.number in refused.value.message


def test_from_quote_outside_the_scope_is_not_found(make_quote, deal_org):
    with pytest.raises(NotFound):
        services.contract_create_from_quote(actor=deal_org.rep_b, quote=make_quote())


# Payment plan


def test_submit_needs_the_plan_to_add_up_exactly(make_draft, deal_org, english):
    contract = make_draft()  # 1,130.00
    with pytest.raises(Invalid) as refused:
        services.contract_submit(actor=deal_org.rep_a, contract=contract)
    assert "Add a payment plan" in refused.value.message
    _plan(contract, deal_org.rep_a, "500.00", "629.99")
    with pytest.raises(Invalid) as refused:
        services.contract_submit(actor=deal_org.rep_a, contract=contract)
    assert refused.value.message == (
        "The instalments add up to 1,129.99 but the contract total is 1,130.00: "
        "0.01 is not planned yet."
    )
    assert "instalments" in refused.value.fields
    last = contract.instalments.get(sequence=2)
    services.contract_instalment_update(
        actor=deal_org.rep_a, instalment=last, data={"amount": D("630.01")}
    )
    with pytest.raises(Invalid) as refused:
        services.contract_submit(actor=deal_org.rep_a, contract=contract)
    assert "0.01 too much is planned" in refused.value.message
    services.contract_instalment_update(
        actor=deal_org.rep_a, instalment=last, data={"amount": D("630.00")}
    )
    submitted = services.contract_submit(actor=deal_org.rep_a, contract=contract)
    assert submitted.status == S.PENDING_APPROVAL
    assert submitted.submitted_by == deal_org.rep_a


def test_approval_checks_the_plan_again(make_draft, deal_org):
    contract = make_draft()
    _plan(contract, deal_org.rep_a, "1130.00")
    services.contract_submit(actor=deal_org.rep_a, contract=contract)
    Instalment.objects.filter(contract=contract).update(amount=D("1129.99"))
    with pytest.raises(Invalid):
        services.contract_approve(actor=deal_org.manager, contract=contract)
    contract.refresh_from_db()
    assert contract.status == S.PENDING_APPROVAL


def test_instalment_rules(make_draft, deal_org):
    contract = make_draft()
    _plan(contract, deal_org.rep_a, "100")
    with pytest.raises(Invalid) as refused:
        services.contract_instalment_add(
            actor=deal_org.rep_a,
            contract=contract,
            data={"sequence": 1, "amount": D("-1")},
        )
    assert set(refused.value.fields) == {"sequence", "due_on", "amount"}


def test_split_evenly_last_takes_the_remainder(make_draft, deal_org):
    contract = make_draft()  # 1,130.00
    _plan(contract, deal_org.rep_a, "1")  # replaced by the split
    instalments = services.contract_plan_split(
        actor=deal_org.rep_a,
        contract=contract,
        count=3,
        first_due_on=datetime.date(2026, 1, 31),
    )
    assert [i.amount for i in instalments] == [D("376.66"), D("376.66"), D("376.68")]
    assert [i.sequence for i in instalments] == [1, 2, 3]
    assert [i.due_on for i in instalments] == [
        datetime.date(2026, 1, 31),
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 31),
    ]
    assert contract.instalments.count() == 3
    assert plan_summary(contract=contract)["difference"] == 0
    assert not any(i.is_open for i in contract.instalments.all())


def test_split_under_zero_decimal_places(make_draft, deal_org, store_param):
    store_param("decimals_contract", 0)
    contract = make_draft()  # 1,130
    instalments = services.contract_plan_split(
        actor=deal_org.rep_a, contract=contract, count=3, first_due_on=TODAY
    )
    assert [i.amount for i in instalments] == [D("376"), D("376"), D("378")]


def test_submit_needs_lines(make_draft, deal_org):
    contract = make_draft(lines=[])
    with pytest.raises(Invalid) as refused:
        services.contract_submit(actor=deal_org.rep_a, contract=contract)
    assert "lines" in refused.value.fields


# Status transitions and who may do them


def _submitted(make_draft, deal_org, **kwargs):
    contract = make_draft(**kwargs)
    owner = contract.owner
    services.contract_plan_split(
        actor=owner, contract=contract, count=2, first_due_on=TODAY
    )
    return services.contract_submit(actor=owner, contract=contract)


def test_only_drafts_are_editable(make_draft, deal_org, deal_product):
    contract = _submitted(make_draft, deal_org)
    line = contract.lines.get()
    instalment = contract.instalments.first()
    for call in (
        lambda: services.contract_update(
            actor=deal_org.rep_a,
            obj=contract,
            data={"title": "x"},
            version=contract.version,
        ),
        lambda: services.contract_line_add(
            actor=deal_org.rep_a, contract=contract, data={"product": deal_product}
        ),
        lambda: services.contract_line_update(
            actor=deal_org.rep_a, line=line, data={"quantity": D("1")}
        ),
        lambda: services.contract_line_remove(actor=deal_org.rep_a, line=line),
        lambda: services.contract_instalment_update(
            actor=deal_org.rep_a, instalment=instalment, data={"note": "x"}
        ),
        lambda: services.contract_plan_split(
            actor=deal_org.rep_a, contract=contract, count=1, first_due_on=TODAY
        ),
    ):
        with pytest.raises(Conflict):
            call()


def test_approve_needs_the_permission(make_draft, deal_org):
    contract = _submitted(make_draft, deal_org)
    with pytest.raises(Forbidden):
        services.contract_approve(actor=deal_org.rep_b, contract=contract)


def test_nobody_approves_their_own_contract(make_draft, deal_org):
    contract = _submitted(make_draft, deal_org, owner=deal_org.manager)
    with pytest.raises(Forbidden):
        services.contract_approve(actor=deal_org.manager, contract=contract)
    with pytest.raises(Forbidden):
        services.contract_reject(actor=deal_org.manager, contract=contract, note="x")
    approved = services.contract_approve(actor=deal_org.admin, contract=contract)
    assert approved.status == S.ACTIVE


def test_approval_outside_the_approvers_scope_is_not_found(make_draft, deal_org):
    contract = _submitted(make_draft, deal_org, owner=deal_org.rep_c)  # south
    with pytest.raises(NotFound):
        services.contract_approve(actor=deal_org.manager, contract=contract)


def test_activation_opens_receivables_and_tells_the_owner(make_draft, deal_org):
    contract = _submitted(make_draft, deal_org)
    with pytest.raises(Conflict):
        services.contract_submit(actor=deal_org.rep_a, contract=contract)
    Instalment.objects.filter(contract=contract).update(owner=None, department=None)
    approved = services.contract_approve(
        actor=deal_org.manager, contract=contract, note="同意"
    )
    assert approved.status == S.ACTIVE
    assert (approved.approved_by, approved.decision_note) == (deal_org.manager, "同意")
    assert approved.approved_at is not None
    instalments = list(contract.instalments.all())
    assert len(instalments) == 2
    for instalment in instalments:
        assert instalment.is_open
        assert instalment.customer_id == contract.customer_id
        assert instalment.owner == deal_org.rep_a
        assert instalment.department == deal_org.east
    assert _events(approved, "approve").get().actor == deal_org.manager
    assert _events(instalments[0], AuditEvent.Action.UPDATE).exists()
    notice = Notification.objects.get(recipient=deal_org.rep_a)
    assert contract.number in notice.title
    assert notice.url == f"/sales/contracts/{contract.pk}/"
    with pytest.raises(Conflict):
        services.contract_approve(actor=deal_org.manager, contract=contract)


def test_reject_needs_a_note_and_returns_to_draft(make_draft, deal_org):
    contract = _submitted(make_draft, deal_org)
    with pytest.raises(Invalid):
        services.contract_reject(actor=deal_org.manager, contract=contract, note=" ")
    rejected = services.contract_reject(
        actor=deal_org.manager, contract=contract, note="付款周期太长"
    )
    assert (rejected.status, rejected.decision_note) == (S.DRAFT, "付款周期太长")
    assert not rejected.instalments.filter(is_open=True).exists()
    notice = Notification.objects.get(recipient=deal_org.rep_a)
    assert notice.body == "付款周期太长"
    # Editable again, and can be submitted again.
    services.contract_update(
        actor=deal_org.rep_a,
        obj=rejected,
        data={"notes": "缩短账期"},
        version=rejected.version,
    )
    assert (
        services.contract_submit(actor=deal_org.rep_a, contract=rejected).status
        == S.PENDING_APPROVAL
    )


def test_withdraw_returns_to_draft(make_draft, deal_org):
    contract = _submitted(make_draft, deal_org)
    withdrawn = services.contract_withdraw(actor=deal_org.rep_a, contract=contract)
    assert withdrawn.status == S.DRAFT
    with pytest.raises(Conflict):
        services.contract_withdraw(actor=deal_org.rep_a, contract=contract)


def test_other_reps_contract_is_not_found(make_draft, deal_org):
    contract = make_draft()
    with pytest.raises(NotFound):
        contract_get(actor=deal_org.rep_b, pk=contract.pk)
    with pytest.raises(NotFound):
        services.contract_submit(actor=deal_org.rep_b, contract=contract)
    assert contract_get(actor=deal_org.manager, pk=contract.pk) == contract


def test_delete_only_drafts(make_draft, deal_org):
    contract = make_draft()
    with pytest.raises(Forbidden):
        services.contract_delete(actor=deal_org.rep_a, contract=contract)
    submitted = _submitted(make_draft, deal_org)
    with pytest.raises(Conflict):
        services.contract_delete(actor=deal_org.manager, contract=submitted)
    services.contract_delete(actor=deal_org.manager, contract=contract)
    assert not Contract.objects.filter(pk=contract.pk).exists()


# The end of a contract


def _pay_all(contract, actor):
    for instalment in contract.instalments.all():
        payment_record(
            actor=actor, instalment=instalment, amount=instalment.outstanding
        )


def test_complete_needs_the_plan_received_and_no_open_orders(
    make_active, deal_org, english
):
    contract = make_active()
    with pytest.raises(Conflict) as refused:
        services.contract_complete(actor=deal_org.rep_a, contract=contract)
    assert "1,130.00" in refused.value.message
    _pay_all(contract, deal_org.rep_a)
    order = order_services.order_create_from_contract(
        actor=deal_org.rep_a, contract=contract
    )
    with pytest.raises(Conflict) as refused:
        services.contract_complete(actor=deal_org.rep_a, contract=contract)
    assert order.number in refused.value.message
    order_services.order_cancel(actor=deal_org.rep_a, order=order, reason="不要了")
    completed = services.contract_complete(actor=deal_org.rep_a, contract=contract)
    assert completed.status == S.COMPLETED
    assert completed.ended_at is not None


def test_terminate_closes_the_unpaid_remainder(make_active, deal_org):
    contract = make_active(instalments=3)  # 376.66, 376.66, 376.68
    first, second, third = contract.instalments.order_by("sequence")
    payment_record(actor=deal_org.rep_a, instalment=first, amount=first.amount)
    payment_record(actor=deal_org.rep_a, instalment=second, amount=D("100"))
    with pytest.raises(Forbidden):
        services.contract_terminate(
            actor=deal_org.rep_a, contract=contract, reason="客户违约"
        )
    with pytest.raises(Invalid):
        services.contract_terminate(
            actor=deal_org.manager, contract=contract, reason=""
        )
    terminated = services.contract_terminate(
        actor=deal_org.manager, contract=contract, reason="客户违约"
    )
    assert terminated.status == S.TERMINATED
    assert terminated.termination_reason == "客户违约"
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert first.is_open  # paid in full: nothing to close
    assert not second.is_open
    assert second.received == D("100")
    assert not third.is_open
    event = _events(terminated, "terminate").get()
    assert "客户违约" in event.note
    assert Notification.objects.filter(
        recipient=deal_org.rep_a, kind="sales.contract_terminated"
    ).exists()
    with pytest.raises(Conflict):
        services.contract_terminate(
            actor=deal_org.manager, contract=contract, reason="again"
        )


def test_only_active_contracts_end(make_draft, deal_org):
    contract = make_draft()
    with pytest.raises(Conflict):
        services.contract_complete(actor=deal_org.rep_a, contract=contract)
    with pytest.raises(Conflict):
        services.contract_terminate(
            actor=deal_org.manager, contract=contract, reason="x"
        )
