"""Fixtures of the contract and sales order tests (S4, S5), on top of
crm/sales/tests/conftest.py: an org where everybody sees the catalogue and the manager
approves contracts and may override the credit check; drafts and active contracts made
through the services, as users make them."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from crm.core.models import SystemParameter
from crm.core.params import CACHE_KEY
from crm.core.scopes import DataScope
from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import make_role
from crm.sales.services import contracts as contract_services
from crm.sales.services import orders as order_services

TODAY = datetime.date(2026, 3, 2)


@pytest.fixture
def store_param(db):
    """Store a system parameter (Y2) for the test."""

    def store(key: str, value) -> None:
        SystemParameter.objects.update_or_create(key=key, defaults={"value": value})
        cache.delete(CACHE_KEY)

    return store


@pytest.fixture
def deal_org(sales_org):
    """Reps see the whole catalogue; the manager (east subtree) approves contracts,
    overrides credit checks, deletes drafts and exports."""
    catalogue = make_role(
        "产品目录",
        "products.view_product",
        scope=DataScope.OWN,
        products=DataScope.ALL,
    )
    approver = make_role(
        "合同审批",
        "sales.approve_contract",
        "sales.override_credit",
        "sales.delete_contract",
        "sales.delete_salesorder",
        "core.export_data",
        scope=DataScope.OWN,
    )
    for user in (sales_org.rep_a, sales_org.rep_b, sales_org.rep_c):
        user.groups.add(catalogue)
    sales_org.manager.groups.add(catalogue, approver)
    return sales_org


@pytest.fixture
def deal_product(make_product):
    return make_product(code="ZZ-50", name="轮式装载机", unit="台")


@pytest.fixture
def make_draft(deal_org, customer, deal_product):
    """A draft contract of `owner` (rep_a) for rep_a's customer unless given, with
    lines [(quantity, unit price)] at 13% tax: 10 × 100.00 → 1,130.00 by default."""

    def make(owner=None, customer_=None, lines=((10, "100.00"),), **data):
        owner = owner or deal_org.rep_a
        if customer_ is None:
            customer_ = (
                customer
                if owner.pk == deal_org.rep_a.pk
                else CustomerFactory(owner=owner)
            )
        contract = contract_services.contract_create(
            actor=owner,
            data={"title": "装载机采购合同", "customer": customer_, **data},
        )
        for quantity, price in lines:
            contract_services.contract_line_add(
                actor=owner,
                contract=contract,
                data={
                    "product": deal_product,
                    "quantity": Decimal(quantity),
                    "unit_price": Decimal(price),
                },
            )
        contract.refresh_from_db()
        return contract

    return make


@pytest.fixture
def make_active(make_draft, deal_org):
    """An active contract: a draft planned in `instalments` equal parts, submitted by
    its owner and approved by the manager (the administrator for other branches)."""

    def make(owner=None, instalments=2, **kwargs):
        contract = make_draft(owner=owner, **kwargs)
        owner = owner or deal_org.rep_a
        contract_services.contract_plan_split(
            actor=owner,
            contract=contract,
            count=instalments,
            first_due_on=TODAY + datetime.timedelta(days=30),
        )
        contract_services.contract_submit(actor=owner, contract=contract)
        approver = (
            deal_org.manager
            if owner.department_id in (deal_org.east.pk, deal_org.east_office.pk)
            else deal_org.admin
        )
        contract_services.contract_approve(actor=approver, contract=contract)
        contract.refresh_from_db()
        return contract

    return make


@pytest.fixture
def make_order(deal_org, customer, deal_product):
    """A direct draft order of `owner` (rep_a) with lines [(quantity, unit price)] at
    13% tax: 10 × 100.00 → 1,130.00 by default."""

    def make(owner=None, customer_=None, lines=((10, "100.00"),), **data):
        owner = owner or deal_org.rep_a
        if customer_ is None:
            customer_ = (
                customer
                if owner.pk == deal_org.rep_a.pk
                else CustomerFactory(owner=owner)
            )
        order = order_services.order_create(
            actor=owner,
            data={"customer": customer_, "ordered_on": TODAY, **data},
        )
        for quantity, price in lines:
            order_services.order_line_add(
                actor=owner,
                order=order,
                data={
                    "product": deal_product,
                    "quantity": Decimal(quantity),
                    "unit_price": Decimal(price),
                },
            )
        order.refresh_from_db()
        return order

    return make
