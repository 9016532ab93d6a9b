"""Fixtures and helpers of the quote tests (S3), on top of crm/sales/tests/conftest.py."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from crm.core.models import SystemParameter
from crm.core.params import CACHE_KEY
from crm.core.scopes import DataScope
from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import make_role
from crm.sales.services import quotes as services


@pytest.fixture
def set_param(db):
    """Store a system parameter (Y2) for the test."""

    def store(key: str, value) -> None:
        SystemParameter.objects.update_or_create(key=key, defaults={"value": value})
        cache.delete(CACHE_KEY)

    return store


@pytest.fixture
def quote_org(sales_org):
    """The sales org (reps own scope, manager the east subtree) where everybody sees the
    whole catalogue, and the manager may approve discounts and export."""
    catalogue = make_role(
        "产品目录",
        "products.view_product",
        "products.view_pricelist",
        scope=DataScope.OWN,
        products=DataScope.ALL,
    )
    approver = make_role(
        "折扣审批",
        "core.approve_discount",
        "core.export_data",
        "sales.delete_quote",
        scope=DataScope.OWN,
    )
    for user in (sales_org.rep_a, sales_org.rep_b, sales_org.rep_c):
        user.groups.add(catalogue)
    sales_org.manager.groups.add(catalogue, approver)
    return sales_org


@pytest.fixture
def product(make_product):
    return make_product(code="HX-100", name="液压挖掘机", unit="台")


@pytest.fixture
def make_quote(quote_org, customer):
    """A draft quote of `owner` (rep_a by default) with lines [(product, qty, price,
    discount)], for rep_a's customer unless given."""

    def make(owner=None, lines=(), customer=customer, **fields):
        owner = owner or quote_org.rep_a
        if customer.owner_id != owner.pk and fields.pop("own_customer", True):
            customer = CustomerFactory(owner=owner, name=f"{owner.name}的客户")
        quote = services.quote_create(
            actor=owner,
            data={
                "title": fields.pop("title", "挖掘机报价"),
                "customer": customer,
                **fields,
            },
        )
        for product, quantity, price, discount in lines:
            services.quote_line_add(
                actor=owner,
                quote=quote,
                data={
                    "product": product,
                    "quantity": Decimal(quantity),
                    "unit_price": None if price is None else Decimal(price),
                    "discount_percent": Decimal(discount),
                },
            )
        quote.refresh_from_db()
        return quote

    return make
