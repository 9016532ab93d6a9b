"""Helpers for the opportunity tests: stages by kind, deals of several reps."""

from decimal import Decimal

import pytest

from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import make_role
from crm.sales.models import Competitor, Stage
from crm.sales.services import opportunities as services


def stages() -> dict[str, list[Stage]]:
    """The active stages by kind, in board order (from migration 0002)."""
    found: dict[str, list[Stage]] = {"open": [], "won": [], "lost": []}
    for stage in Stage.objects.filter(is_active=True).order_by("sort_order", "pk"):
        found[stage.kind].append(stage)
    return found


def make_deal(owner, *, stage=None, amount="0", customer=None, **data):
    """An opportunity of `owner` created through the service, as the owner."""
    customer = customer or CustomerFactory(owner=owner)
    return services.opportunity_create(
        actor=owner,
        data={
            "name": data.pop("name", f"{owner.username} 商机"),
            "customer": customer,
            "stage": stage,
            "amount": Decimal(amount),
            **data,
        },
    )


@pytest.fixture
def competitor(db):
    return Competitor.objects.create(
        name="三一重工", strengths="价格低", weaknesses="售后网点少"
    )


@pytest.fixture
def stage_admin(sales_org):
    """A sales operations user who configures the pipeline stages."""
    role = make_role("销售运营", "sales.change_stage", "sales.view_opportunity")
    sales_org.manager.groups.add(role)
    return sales_org.manager
