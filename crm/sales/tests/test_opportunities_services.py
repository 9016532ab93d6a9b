"""Opportunity services: create, edit, products, moves, closing, reopening, stage rules."""

from decimal import Decimal

import pytest

from crm.core.errors import Invalid
from crm.core.models import AuditEvent
from crm.customers.tests.factories import CustomerFactory
from crm.sales.models import Opportunity, Stage, StageChange
from crm.sales.services import opportunities as services


def _stages():
    return {s.name: s for s in Stage.objects.all()}


def test_create_numbers_defaults_and_records_the_first_stage(sales_org, customer):
    deal = services.opportunity_create(
        actor=sales_org.rep_a,
        data={"name": " ERP 项目 ", "customer": customer, "amount": "120000.50"},
    )
    assert deal.number.startswith("SJ")
    assert deal.name == "ERP 项目"
    assert deal.amount == Decimal("120000.50")
    assert (deal.owner, deal.department) == (sales_org.rep_a, sales_org.east)
    first = Stage.objects.filter(kind="open", is_active=True).order_by("sort_order")[0]
    assert deal.stage == first
    assert deal.status == Opportunity.Status.OPEN
    assert deal.stage_changed_at is not None
    change = StageChange.objects.get(opportunity=deal)
    assert (change.from_stage, change.to_stage, change.changed_by) == (
        None,
        first,
        sales_org.rep_a,
    )
    assert AuditEvent.objects.filter(
        object_id=str(deal.pk), action=AuditEvent.Action.CREATE
    ).exists()


def test_create_refuses_a_customer_outside_the_scope(sales_org):
    other = CustomerFactory(owner=sales_org.rep_c)
    with pytest.raises(Invalid) as exc:
        services.opportunity_create(
            actor=sales_org.rep_a, data={"name": "x", "customer": other}
        )
    assert "customer" in exc.value.fields
    assert not Opportunity.objects.exists()


def test_create_with_products_derives_the_amount(sales_org, customer, make_product):
    product = make_product(sales_org.rep_a, list_price=Decimal("250.00"))
    deal = services.opportunity_create(
        actor=sales_org.rep_a,
        data={"name": "x", "customer": customer},
        products=[{"product": product, "quantity": "3"}],
    )
    assert deal.amount == Decimal("750.00")
    assert deal.products.get().unit_price == Decimal("250.00")
