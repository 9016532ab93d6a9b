"""Demo sales history (issue 4): a year of documents that obey every rule the services
enforce — money from crm.sales.pricing, plans adding up, receipts and `received` in step,
receivables open only for live documents, dates in order, approvals and credit overrides
by people allowed to give them; loaded fast, and only once.

The organisation, catalogue and ~2,000 customers take a while to load, so the module
loads them (and the sales demo, twice) once, inside a transaction rolled back at the
end; each test runs in a savepoint inside it.
"""

import datetime
import itertools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from crm.core.params import get_param
from crm.customers import demo as customers_demo
from crm.org import demo as org_demo
from crm.org import models as org_models
from crm.org.models import User
from crm.products import demo as products_demo
from crm.sales import demo
from crm.sales.models import (
    CommissionLine,
    CommissionPeriod,
    CommissionRule,
    Competitor,
    Contract,
    ContractLine,
    Instalment,
    Lead,
    LeadFollowUp,
    Opportunity,
    OpportunityProduct,
    Payment,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
    SalesTarget,
    StageChange,
)
from crm.sales.pricing import line_amounts

pytestmark = pytest.mark.django_db

COUNTED = (
    Lead,
    LeadFollowUp,
    Opportunity,
    OpportunityProduct,
    StageChange,
    Competitor,
    Quote,
    QuoteLine,
    Contract,
    ContractLine,
    Instalment,
    SalesOrder,
    SalesOrderLine,
    Payment,
    CommissionRule,
    CommissionPeriod,
    CommissionLine,
    SalesTarget,
)


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in COUNTED}


@dataclass
class Loaded:
    first: dict
    second: dict
    summary: str


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        org_demo.load()
        products_demo.load()
        customers_demo.load()
        summary = demo.load()
        first = counts()
        demo.load()
        yield Loaded(first, counts(), summary)
        transaction.set_rollback(True)


def test_a_second_load_adds_nothing(loaded):
    assert loaded.second == loaded.first
    n = loaded.first
    assert 280 <= n["Lead"] <= 320
    assert 360 <= n["Opportunity"] <= 420
    assert 220 <= n["Quote"] <= 340
    assert 120 <= n["Contract"] <= 190
    assert 360 <= n["SalesOrder"] <= 480
    assert n["Payment"] > 300
    assert n["Competitor"] == 6
    assert "leads" in loaded.summary


def test_every_status_and_source_is_there(loaded):
    def present(model, field):
        return set(model.objects.values_list(field, flat=True).distinct())

    assert present(Lead, "status") == set(Lead.Status.values)
    assert present(Lead, "source") == set(Lead.Source.values)
    assert present(Opportunity, "status") == set(Opportunity.Status.values)
    assert present(Quote, "status") == set(Quote.Status.values)
    assert present(Contract, "status") == set(Contract.Status.values)
    assert present(SalesOrder, "status") == set(SalesOrder.Status.values)
    assert present(SalesOrder, "delivery_status") == set(SalesOrder.Delivery.values)
    assert present(Payment, "status") == set(Payment.Status.values)
    assert present(CommissionPeriod, "status") == set(CommissionPeriod.Status.values)
    stages = set(Opportunity.objects.values_list("stage__name", flat=True))
    assert {"初步接洽", "需求确认", "方案报价", "商务谈判", "赢单", "输单"} <= stages


def test_converted_leads_point_at_their_customer_contact_and_opportunity(loaded):
    converted = Lead.objects.filter(status=Lead.Status.CONVERTED).select_related(
        "opportunity", "contact"
    )
    assert converted.count() >= 80
    for lead in converted:
        assert lead.customer_id
        assert lead.opportunity_id
        assert lead.converted_at
        assert lead.opportunity.customer_id == lead.customer_id
        assert lead.contact is None or lead.contact.customer_id == lead.customer_id
        assert lead.created_at < lead.converted_at
        assert lead.opportunity.source == lead.source
    other = Lead.objects.exclude(status=Lead.Status.CONVERTED)
    assert not other.filter(customer__isnull=False).exists()
    assert not other.filter(opportunity__isnull=False).exists()
    disqualified = Lead.objects.filter(status=Lead.Status.DISQUALIFIED)
    assert not disqualified.filter(disqualify_reason="").exists()
    assert Lead.objects.filter(owner__isnull=True, status=Lead.Status.NEW).exists()


def test_closed_opportunities_have_reasons_stages_and_competitors(loaded):
    closed = Opportunity.objects.exclude(status=Opportunity.Status.OPEN)
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not closed.filter(close_reason="").exists()
    assert not closed.filter(closed_at__lte=F("created_at")).exists()
    assert not Opportunity.objects.filter(
        status=Opportunity.Status.OPEN, closed_at__isnull=False
    ).exists()
    for status, kind in (("won", "won"), ("lost", "lost"), ("open", "open")):
        assert not (
            Opportunity.objects.filter(status=status).exclude(stage__kind=kind).exists()
        )
    lost_to = Opportunity.objects.filter(lost_to__isnull=False)
    assert lost_to.count() > 20
    assert not lost_to.exclude(status=Opportunity.Status.LOST).exists()
    for opportunity in lost_to.prefetch_related("competitors")[:50]:
        assert opportunity.lost_to in opportunity.competitors.all()
    assert all(c.strengths and c.weaknesses for c in Competitor.objects.all())
    # The stage history runs from the first stage to the current one, in time order.
    changes = defaultdict(list)
    for change in StageChange.objects.order_by("changed_at", "pk"):
        changes[change.opportunity_id].append(change)
    for opportunity in Opportunity.objects.all():
        history = changes[opportunity.pk]
        assert history[0].from_stage_id is None
        assert history[0].changed_at == opportunity.created_at
        assert history[-1].to_stage_id == opportunity.stage_id
        assert history[-1].changed_at == opportunity.stage_changed_at
        for before, after in itertools.pairwise(history):
            assert after.from_stage_id == before.to_stage_id


def _check_totals(document, lines, kind):
    for line in lines:
        expected = line_amounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
            kind=kind,
        )
        assert (line.amount, line.tax_amount, line.total) == (
            expected.amount,
            expected.tax_amount,
            expected.total,
        )
    assert lines, document
    assert document.amount == sum(line.amount for line in lines)
    assert document.tax_amount == sum(line.tax_amount for line in lines)
    assert document.total == sum(line.total for line in lines)
    assert document.total == document.amount + document.tax_amount


def test_document_totals_are_the_sums_of_their_priced_lines(loaded):
    for quote in Quote.objects.prefetch_related("lines"):
        _check_totals(quote, list(quote.lines.all()), "quote")
    for contract in Contract.objects.prefetch_related("lines"):
        _check_totals(contract, list(contract.lines.all()), "contract")
    for order in SalesOrder.objects.prefetch_related("lines"):
        _check_totals(order, list(order.lines.all()), "order")


def test_payment_plans_add_up_to_the_contract_totals(loaded):
    planned = dict(
        Instalment.objects.filter(contract__isnull=False)
        .values_list("contract")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    for contract in Contract.objects.all():
        if contract.status == Contract.Status.DRAFT and contract.pk not in planned:
            continue  # a draft may not have its plan yet
        assert planned[contract.pk] == contract.total, contract.number
    direct = Instalment.objects.filter(order__isnull=False).select_related("order")
    assert direct.exists()
    for instalment in direct:
        assert instalment.amount == instalment.order.total
        assert instalment.due_on == instalment.order.payment_due_on
        assert instalment.order.contract_id is None


def test_received_is_the_sum_of_posted_receipts(loaded):
    posted = dict(
        Payment.objects.filter(status=Payment.Status.POSTED)
        .values_list("instalment")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    for instalment in Instalment.objects.all():
        assert instalment.received == posted.get(instalment.pk, Decimal(0))
        assert 0 <= instalment.received <= instalment.amount
    voided = Payment.objects.filter(status=Payment.Status.VOIDED)
    assert not voided.filter(voided_at__isnull=True).exists()
    assert not voided.filter(void_reason="").exists()
    for payment in Payment.objects.select_related("instalment"):
        instalment = payment.instalment
        assert payment.customer_id == instalment.customer_id
        assert payment.owner_id == instalment.owner_id
        assert payment.department_id == instalment.department_id
    numbers = Payment.objects.values_list("number", flat=True)
    assert len(set(numbers)) == len(numbers)


def test_instalments_are_receivables_only_of_live_documents(loaded):
    live_contracts = (Contract.Status.ACTIVE, Contract.Status.COMPLETED)
    live_orders = (SalesOrder.Status.CONFIRMED, SalesOrder.Status.COMPLETED)
    for instalment in Instalment.objects.select_related("contract", "order"):
        if instalment.contract_id:
            live = instalment.contract.status in live_contracts
            document = instalment.contract
        else:
            live = instalment.order.status in live_orders
            document = instalment.order
        assert instalment.is_open == live, instalment
        assert instalment.customer_id == document.customer_id
        assert instalment.owner_id == document.owner_id
        if not instalment.is_open:
            assert not instalment.payments.exclude(
                instalment__contract__status=Contract.Status.TERMINATED
            ).exists()
    # Something for the receivables, aging and reminder pages.
    today = timezone.localdate()
    owed = Instalment.objects.filter(is_open=True, received__lt=F("amount"))
    assert owed.filter(due_on__lt=today - datetime.timedelta(days=60)).count() >= 5
    assert owed.filter(due_on__lt=today, received__gt=0).exists()
    days = int(get_param("receivable_reminder_days"))
    soon = owed.filter(due_on__gte=today, due_on__lte=today + datetime.timedelta(days))
    assert soon.exists()


def test_completed_and_terminated_contracts(loaded):
    for contract in Contract.objects.filter(status=Contract.Status.COMPLETED):
        assert contract.ended_at
        assert contract.approved_at < contract.ended_at
        assert not contract.instalments.filter(received__lt=F("amount")).exists()
        assert not contract.orders.filter(status__in=("draft", "confirmed")).exists()
    for contract in Contract.objects.filter(status=Contract.Status.TERMINATED):
        assert contract.termination_reason
        assert contract.ended_at
        assert not contract.instalments.filter(is_open=True).exists()
    for contract in Contract.objects.filter(status__in=("active", "completed")):
        assert contract.approved_by_id not in (None, contract.owner_id)
        assert contract.approved_by.has_perm("sales.approve_contract")
        assert (
            Contract.objects.visible_to(contract.approved_by)
            .filter(pk=contract.pk)
            .exists()
        )
        assert contract.signed_on
        assert contract.quote.status == Quote.Status.ACCEPTED
    pending = Contract.objects.filter(status=Contract.Status.PENDING_APPROVAL)
    assert not pending.filter(submitted_at__isnull=True).exists()


def test_orders_deliveries_and_call_offs_are_consistent(loaded):
    for order in SalesOrder.objects.prefetch_related("lines"):
        lines = list(order.lines.all())
        delivered = [line.delivered_quantity for line in lines]
        if order.status == SalesOrder.Status.COMPLETED:
            assert order.delivery_status == SalesOrder.Delivery.DELIVERED
            assert all(line.delivered_quantity == line.quantity for line in lines)
            assert order.ordered_on <= order.delivered_on <= timezone.localdate()
        elif order.status == SalesOrder.Status.CONFIRMED:
            assert order.delivery_status != SalesOrder.Delivery.DELIVERED
            partial = order.delivery_status == SalesOrder.Delivery.PARTIAL
            assert any(delivered) == partial
        else:
            assert order.delivery_status == SalesOrder.Delivery.PENDING
            assert not any(delivered)
        if order.status == SalesOrder.Status.CANCELLED:
            assert order.cancel_reason
        if order.contract_id:
            assert all(line.contract_line_id for line in lines)
            assert order.customer_id == order.contract.customer_id
    binding = (
        SalesOrderLine.objects.filter(
            order__status__in=("confirmed", "completed"), contract_line__isnull=False
        )
        .values("contract_line")
        .annotate(ordered=Sum("quantity"), quantity=F("contract_line__quantity"))
    )
    assert binding
    assert all(row["ordered"] <= row["quantity"] for row in binding)
    for line in SalesOrderLine.objects.filter(
        contract_line__isnull=False
    ).select_related("contract_line")[:300]:
        source = line.contract_line
        assert (line.product_id, line.unit_price, line.discount_percent) == (
            source.product_id,
            source.unit_price,
            source.discount_percent,
        )


def test_dates_run_in_order_and_never_ahead(loaded):
    now, today = timezone.now(), timezone.localdate()
    for model in (Lead, Opportunity, Quote, Contract, SalesOrder, Payment, Instalment):
        assert not model.objects.filter(created_at__gt=now).exists()
        assert not model.objects.filter(updated_at__lt=F("created_at")).exists()
    # Spread over the year, not all made today.
    assert Opportunity.objects.values("created_at__date").distinct().count() > 200
    assert Payment.objects.filter(received_on__gt=today).count() == 0
    for quote in Quote.objects.select_related("opportunity", "previous"):
        assert quote.created_at > quote.opportunity.created_at
        assert quote.quoted_on <= quote.valid_until
        if quote.submitted_at:
            assert quote.created_at <= quote.submitted_at
        if quote.decided_at:
            assert quote.submitted_at <= quote.decided_at
        if quote.previous:
            assert quote.previous.status == Quote.Status.SUPERSEDED
            assert quote.previous.updated_at <= quote.created_at
            base = quote.previous.number.split("-")[0]
            assert quote.number == f"{base}-{quote.revision}"
    for contract in Contract.objects.select_related("quote"):
        assert contract.quote.updated_at <= contract.created_at
        if contract.approved_at:
            assert contract.created_at <= contract.submitted_at <= contract.approved_at
            assert contract.signed_on == timezone.localdate(contract.approved_at)
    for order in SalesOrder.objects.select_related("contract"):
        if order.confirmed_at:
            assert order.created_at <= order.confirmed_at
        if order.contract_id:
            assert order.contract.approved_at < order.created_at
            assert order.ordered_on >= order.contract.signed_on
    for payment in Payment.objects.select_related(
        "instalment__contract", "instalment__order"
    ):
        instalment = payment.instalment
        opened = (
            instalment.contract.approved_at
            if instalment.contract_id
            else instalment.order.confirmed_at
        )
        assert opened < payment.created_at
        assert timezone.localdate(opened) <= payment.received_on
    won = Opportunity.objects.filter(status=Opportunity.Status.WON)
    for opportunity in won.prefetch_related("contracts"):
        for contract in opportunity.contracts.all():
            assert contract.approved_at <= opportunity.closed_at


def test_documents_belong_to_their_customers_owner(loaded):
    for model in (Opportunity, Quote, Contract, SalesOrder):
        mismatched = model.objects.exclude(owner_id=F("customer__owner_id"))
        assert not mismatched.exists(), model
        assert not model.objects.exclude(
            department_id=F("owner__department_id")
        ).exists()
    assert (
        not Lead.objects.exclude(owner__isnull=True)
        .exclude(department_id=F("owner__department_id"))
        .exists()
    )


def test_discounts_above_the_threshold_were_approved_by_someone_else(loaded):
    threshold = Decimal(get_param("quote_discount_approval_percent"))
    above = set(
        QuoteLine.objects.filter(discount_percent__gt=threshold).values_list(
            "quote", flat=True
        )
    )
    pending = Quote.objects.filter(status=Quote.Status.PENDING_APPROVAL)
    assert pending.exists()
    assert set(pending.values_list("pk", flat=True)) <= above
    rejected = Quote.objects.filter(status=Quote.Status.REJECTED)
    assert all(q.decided_by_id and q.decision_note for q in rejected)
    decided = Quote.objects.filter(decided_at__isnull=False).select_related(
        "decided_by"
    )
    for quote in decided:
        if quote.pk in above:
            approver = quote.decided_by
            assert approver is not None
            assert approver.pk != quote.owner_id
            assert approver.has_perm("core.approve_discount")
            assert Quote.objects.visible_to(approver).filter(pk=quote.pk).exists()
        else:
            assert quote.decided_by_id is None
            assert quote.decided_at == quote.submitted_at


def _exposure(order) -> Decimal:
    """Open receivables of the order's customer when it was confirmed (plus the
    order itself when direct), from the stored documents alone."""
    moment = order.confirmed_at
    total = Decimal(0) if order.contract_id else order.total
    instalments = Instalment.objects.filter(
        customer_id=order.customer_id
    ).select_related("contract", "order")
    for instalment in instalments:
        if instalment.contract_id:
            contract = instalment.contract
            opened, closed = contract.approved_at, None
            if contract.status == Contract.Status.TERMINATED:
                closed = contract.ended_at
        else:
            source = instalment.order
            opened, closed = source.confirmed_at, None
            if source.status == SalesOrder.Status.CANCELLED:
                closed = source.updated_at
        if opened is None or opened >= moment or (closed and closed <= moment):
            continue
        paid = sum(
            (
                p.amount
                for p in instalment.payments.all()
                if p.created_at < moment
                and (p.status == Payment.Status.POSTED or p.voided_at > moment)
            ),
            Decimal(0),
        )
        total += instalment.amount - paid
    return total


def test_orders_over_the_credit_limit_carry_an_override(loaded):
    overridden = SalesOrder.objects.filter(credit_override_by__isnull=False)
    assert overridden.exists()
    for order in overridden:
        assert order.credit_override_reason
        assert order.credit_override_at == order.confirmed_at
        assert order.credit_override_by.has_perm("sales.override_credit")
    confirmed = SalesOrder.objects.filter(
        confirmed_at__isnull=False,
        credit_override_by__isnull=True,
        customer__credit_limit__gt=0,
    ).select_related("customer")
    for order in confirmed:
        assert _exposure(order) <= order.customer.credit_limit, order.number


def test_commission_periods_are_computed_from_the_receipts(loaded):
    today = timezone.localdate()
    periods = list(CommissionPeriod.objects.order_by("start_on"))
    assert len(periods) >= 11
    assert periods[-1].start_on <= today <= periods[-1].end_on
    assert periods[-1].status == CommissionPeriod.Status.OPEN
    assert all(p.status == CommissionPeriod.Status.CLOSED for p in periods[:-1])
    assert all(p.closed_at and p.closed_by_id for p in periods[:-1])
    assert CommissionRule.objects.count() >= 2
    for period in periods:
        collected = Payment.objects.filter(
            status=Payment.Status.POSTED,
            received_on__range=(period.start_on, period.end_on),
        ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        lines = CommissionLine.objects.filter(period=period)
        assert (lines.aggregate(s=Sum("base_amount"))["s"] or 0) == collected
        assert collected > 0
        assert not lines.filter(payment__status=Payment.Status.VOIDED).exists()
    assert CommissionLine.objects.filter(amount__gt=0).count() > 100


def test_monthly_targets_for_2026_per_employee_and_department(loaded):
    staff = User.objects.filter(groups__name__in=demo.SALES_ROLES).distinct()
    per_person = (
        SalesTarget.objects.filter(year=2026, period_type="month", owner__in=staff)
        .values("owner")
        .annotate(n=Count("pk"))
    )
    assert len(per_person) == staff.count()
    assert all(row["n"] == 12 for row in per_person)
    departments = SalesTarget.objects.filter(year=2026, owner__isnull=True)
    assert departments.values("department").distinct().count() >= 10
    shanghai = departments.get(department__name="上海分公司", period=11)
    below = SalesTarget.objects.filter(
        year=2026,
        period=11,
        owner__isnull=False,
        department__path__startswith=shanghai.department.path,
    ).aggregate(s=Sum("order_target"))["s"]
    assert shanghai.order_target == below


def test_demo_roles_hold_the_sales_permissions(loaded):
    rep = User.objects.get(username="rep")
    assert rep.has_perm("sales.add_quote")
    assert rep.has_perm("sales.view_payment")
    assert not rep.has_perm("sales.approve_contract")
    manager = User.objects.get(username="manager")
    for perm in (
        "core.approve_discount",
        "sales.approve_contract",
        "sales.override_credit",
        "sales.close_commissionperiod",
    ):
        assert manager.has_perm(perm), perm
    finance = User.objects.get(username="finance")
    assert finance.has_perm("sales.add_payment")
    assert finance.has_perm("sales.void_payment")
    # A rep sees their own documents only; the director sees every one.
    mine = Contract.objects.visible_to(rep)
    assert mine.exists()
    assert not mine.exclude(owner=rep).exists()
    director = User.objects.get(username="sales_director")
    assert Contract.objects.visible_to(director).count() == Contract.objects.count()


def test_announcements_when_the_organisation_has_them(loaded):
    model = getattr(org_models, "Announcement", None)
    if model is None:
        pytest.skip("no announcements in this version of crm.org")
    titles = set(model.objects.values_list("title", flat=True))
    assert {a[0] for a in demo.ANNOUNCEMENTS} <= titles
    assert model.objects.filter(is_pinned=True, is_published=True).exists()
