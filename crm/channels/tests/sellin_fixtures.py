"""Sell-in (D4) test data: an agreement for partner_a (10 % off the channel price
list, product scope 整机 and below), approver roles, and a helper that walks a
purchase order to the state a test needs."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.channels.models import Agreement, PurchaseOrder
from crm.channels.services import sellin as services
from crm.org.tests.factories import make_role


@pytest.fixture
def sellin_org(channel_org):
    """channel_org plus: partner_a's agreement in force; mgr_a and mgr_c may approve
    and export; org.credit_manager (department tree) may also override the credit
    limit."""
    org = channel_org
    today = timezone.localdate()
    agreement = Agreement.objects.create(
        number="XY000001",
        partner=org.partner_a,
        title="2026 经销协议",
        status=Agreement.Status.ACTIVE,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=300),
        price_list=org.catalogue.price_list,
        discount_percent=Decimal("10"),
        owner=org.mgr_a,
        department=org.mgr_a.department,
    )
    agreement.categories.set([org.catalogue.root])
    org.agreement = agreement
    approver = make_role(
        "进货审批", "channels.approve_purchaseorder", "core.export_data"
    )
    for user in (org.mgr_a, org.mgr_c):
        user.groups.add(approver)
    org.manager.groups.add(
        make_role(
            "信用超额",
            "channels.approve_purchaseorder",
            "channels.override_credit_purchaseorder",
        )
    )
    return org


def lines(*pairs):
    return [{"product": product, "quantity": Decimal(str(q))} for product, q in pairs]


@pytest.fixture
def make_po():
    """make_po(org, partner_user, [(product, qty)…], to="draft"|"submitted"|"approved")."""

    def make(org, user, pairs, *, to="draft", approver=None, **data):
        partner = user.partner_membership.partner
        order = services.purchase_order_create(
            actor=user, partner=partner, data=data, lines=lines(*pairs)
        )
        if to in ("submitted", "approved", "rejected"):
            order = services.purchase_order_submit(actor=user, order=order)
        if to == "approved":
            order = services.purchase_order_approve(
                actor=approver or partner.owner, order=order
            )
        return PurchaseOrder.objects.get(pk=order.pk)

    return make
