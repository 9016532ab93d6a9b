"""Fixtures the sales tests share (each area keeps its own helpers in its test modules)."""

import pytest

from crm.core.scopes import DataScope
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.org.tests.factories import make_role

SALES_MODELS = (
    "lead",
    "leadfollowup",
    "opportunity",
    "quote",
    "contract",
    "instalment",
    "salesorder",
    "payment",
    "commissionperiod",
    "salestarget",
    "competitor",
)


def sales_perms(*actions: str) -> list[str]:
    """'sales.view_lead', 'sales.add_lead', … for every sales document and the actions."""
    return [f"sales.{a}_{m}" for m in SALES_MODELS for a in actions]


@pytest.fixture
def sales_role(db):
    """A rep's role: read and write every sales document in their own scope, and see
    customers, contacts and products. Call with a scope to widen it."""

    def make(scope=DataScope.OWN, *extra):
        return make_role(
            f"销售-{scope}",
            *sales_perms("view", "add", "change"),
            "customers.view_customer",
            "customers.view_contact",
            "customers.add_customer",
            "customers.add_contact",
            "products.view_product",
            "products.view_pricelist",
            *extra,
            scope=scope,
        )

    return make


@pytest.fixture
def sales_org(org, sales_role):
    """The shared org with roles: reps see their own sales, the manager the east subtree."""
    own = sales_role(DataScope.OWN)
    tree = sales_role(DataScope.DEPARTMENT_TREE)
    for rep in (org.rep_a, org.rep_b, org.rep_c):
        rep.groups.add(own)
    org.manager.groups.add(tree)
    return org


@pytest.fixture
def customer(sales_org):
    """A customer of rep_a (east) with one contact."""
    customer = CustomerFactory(owner=sales_org.rep_a, name="杭州西湖科技有限公司")
    ContactFactory(customer=customer, name="赵敏")
    return customer
