"""Fixtures and helpers the lead tests share (imported by the test_leads_* modules)."""

import itertools

import pytest

from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory
from crm.sales.models import AssignmentRule, Lead
from crm.sales.tests.conftest import sales_perms

_numbers = itertools.count(1)
RULE_PERMS = (
    "sales.view_assignmentrule",
    "sales.add_assignmentrule",
    "sales.change_assignmentrule",
)


@pytest.fixture
def make_lead(sales_org):
    """A lead owned by `owner` (in the owner's department), straight into the table."""

    def make(owner=None, **fields):
        n = next(_numbers)
        values = {
            "number": f"XS-T{n:05d}",
            "name": f"线索{n}",
            "company": f"测试公司{n}",
            "mobile": f"139{n:08d}",
            "owner": owner,
            "department": owner.department if owner else None,
        }
        values.update(fields)
        return Lead.objects.create(**values)

    return make


@pytest.fixture
def lead_manager(sales_org, sales_role):
    """The east manager with every lead right: assignment, rules, export; scope: the
    east branch and below."""
    from crm.org.tests.factories import make_role

    role = make_role(
        "线索管理",
        *sales_perms("view", "add", "change"),
        "sales.assign_lead",
        *RULE_PERMS,
        "core.export_data",
        "customers.view_customer",
        "customers.view_contact",
        "customers.add_customer",
        "customers.add_contact",
        scope=DataScope.DEPARTMENT_TREE,
    )
    sales_org.manager.groups.add(role)
    return sales_org.manager


@pytest.fixture
def make_rule(sales_org):
    def make(department=None, **fields):
        values = {
            "name": f"规则{next(_numbers)}",
            "department": department or sales_org.east,
        }
        values.update(fields)
        return AssignmentRule.objects.create(**values)

    return make


def east_team(org, count=3):
    """Three more active employees in the east branch (ids after the org's users)."""
    return [
        UserFactory(username=f"east{i}", name=f"华东{i}", department=org.east)
        for i in range(count)
    ]


__all__ = ["east_team", "lead_manager", "make_lead", "make_rule"]
