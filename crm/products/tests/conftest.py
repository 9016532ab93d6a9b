"""Roles for the catalogue tests, on top of the shared `org` fixture (crm/conftest.py)."""

from itertools import count

import pytest

from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory, make_role

_ROLE_NUMBERS = count(1)
VIEW = ("products.view_product", "products.view_category", "products.view_pricelist")
EDIT = (
    *VIEW,
    "products.add_product",
    "products.change_product",
    "products.add_category",
    "products.change_category",
    "products.add_pricelist",
    "products.change_pricelist",
)


@pytest.fixture
def make_user(org):
    """An employee of the east branch holding one role made of the given permissions."""

    def make(*codes, scope=DataScope.ALL, field_rights=None, department=None):
        role = make_role(
            f"catalogue-role-{next(_ROLE_NUMBERS)}",
            *codes,
            scope=scope,
            field_rights=field_rights,
        )
        return UserFactory(department=department or org.east, roles=[role])

    return make


@pytest.fixture
def manager(make_user):
    """Catalogue manager: every product right, cost included, export, all records."""
    return make_user(*EDIT, "products.view_cost", "core.export_data")


@pytest.fixture
def clerk(make_user):
    """Catalogue clerk: may edit and export, but may not see cost."""
    return make_user(*EDIT, "core.export_data")


@pytest.fixture
def viewer(make_user):
    """May look at the catalogue and nothing else."""
    return make_user(*VIEW)
