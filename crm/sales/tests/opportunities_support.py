"""Helpers for the opportunity tests: stages by kind, deals of several reps."""

from decimal import Decimal

from crm.customers.tests.factories import CustomerFactory
from crm.sales.models import Stage
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
