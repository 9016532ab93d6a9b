"""Roles for the customer tests, on top of the shared `org` fixture (crm/conftest.py)."""

from itertools import count

import pytest

from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory, make_role

_ROLE_NUMBERS = count(1)
VIEW = ("customers.view_customer", "customers.view_contact")
EDIT = (
    *VIEW,
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
)
MANAGE = (
    *EDIT,
    "customers.delete_customer",
    "customers.restore_customer",
    "core.delete_records",
    "core.merge_records",
    "customers.assign_customer",
    "core.export_data",
)


@pytest.fixture
def make_user(org):
    """An employee of the east branch holding one role made of the given permissions."""

    def make(*codes, scope=DataScope.ALL, field_rights=None, department=None, **kw):
        role = make_role(
            f"customer-role-{next(_ROLE_NUMBERS)}",
            *codes,
            scope=scope,
            field_rights=field_rights,
        )
        return UserFactory(department=department or org.east, roles=[role], **kw)

    return make


@pytest.fixture
def boss(make_user):
    """Every customer right, every record."""
    return make_user(*MANAGE)


@pytest.fixture
def scoped_org(org):
    """The org fixture's users with customer roles: reps see their own customers, the
    manager the east branch and below."""
    rep = make_role("客户代表", *EDIT, "core.export_data", scope=DataScope.OWN)
    manager = make_role("客户经理", *MANAGE, scope=DataScope.DEPARTMENT_TREE)
    for user in (org.rep_a, org.rep_b, org.rep_c):
        user.groups.add(rep)
    org.manager.groups.add(manager)
    return org
