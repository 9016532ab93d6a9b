"""Roles for the activity, care, pool and analysis tests, on top of the shared `org`
fixture (crm/conftest.py): reps own their customers, the manager sees the east branch
and below, the admin everything."""

import itertools

import pytest

from crm.core.scopes import DataScope
from crm.org.tests.factories import make_role

ACTIVITY = (
    "customers.view_customer",
    "customers.view_contact",
    "customers.view_activity",
    "customers.add_activity",
    "customers.change_activity",
    "customers.delete_activity",
)
REP = (
    *ACTIVITY,
    "customers.change_customer",
    "customers.view_pool",
    "customers.claim_customer",
)
MANAGER = (*REP, "customers.assign_customer", "core.export_data")

_numbers = itertools.count(1)


@pytest.fixture
def team(org):
    """rep_a (east), rep_b (east office), rep_c (south): own records; manager (east):
    east and below."""
    rep = make_role(f"care-rep-{next(_numbers)}", *REP, scope=DataScope.OWN)
    manager = make_role(
        f"care-manager-{next(_numbers)}", *MANAGER, scope=DataScope.DEPARTMENT_TREE
    )
    for user in (org.rep_a, org.rep_b, org.rep_c):
        user.groups.add(rep)
    org.manager.groups.add(manager)
    return org
