"""Fixtures of the opportunity tests (used through pytest_plugins)."""

import pytest

from crm.org.tests.factories import make_role
from crm.sales.models import Competitor


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
