"""Shared fixtures: a small organisation to test scopes and permissions against.

group (root)
├── east (branch)            manager ──supervises── rep_a, rep_b
│   └── east_office (office)  rep_b works here
└── south (branch)           rep_c
"""

import itertools
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from crm.core.params import CACHE_KEY as PARAMS_CACHE_KEY
from crm.core.trees import tree_place
from crm.org.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture(autouse=True)
def _regions_after_flush(request):
    """A transactional test starts from a flushed database, without the rows data
    migrations load; the regions (GB/T 2260) are reference data every module reads, so
    they are put back (the loader skips codes already there)."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    import_module("crm.customers.migrations.0002_load_regions").load_regions(apps, None)


@pytest.fixture
def org(db):
    group = DepartmentFactory(name="集团", kind="group")
    east = DepartmentFactory(name="华东", kind="branch", parent=group)
    east_office = DepartmentFactory(name="浦东办事处", kind="office", parent=east)
    south = DepartmentFactory(name="华南", kind="branch", parent=group)
    manager = UserFactory(username="manager", name="张经理", department=east)
    rep_a = UserFactory(
        username="rep_a", name="刘一", department=east, supervisor=manager
    )
    rep_b = UserFactory(
        username="rep_b", name="陈二", department=east_office, supervisor=manager
    )
    rep_c = UserFactory(username="rep_c", name="王三", department=south)
    admin = UserFactory(
        username="admin", name="管理员", department=group, is_superuser=True
    )
    return type(
        "Org",
        (),
        dict(
            group=group,
            east=east,
            east_office=east_office,
            south=south,
            manager=manager,
            rep_a=rep_a,
            rep_b=rep_b,
            rep_c=rep_c,
            admin=admin,
        ),
    )


@pytest.fixture
def client_for():
    """A test client logged in as the given user."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_params_cache():
    """System parameters are cached; a test must not see values a rolled-back test stored."""
    cache.delete(PARAMS_CACHE_KEY)
    yield
    cache.delete(PARAMS_CACHE_KEY)


@pytest.fixture
def english(settings):
    """Pages in English (the default language is zh-hans), so tests can read messages."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def make_product(db):
    """Create a product owned by `owner` in the owner's department (unless given)."""
    from crm.products.models import Category, Product

    numbers = itertools.count(1)
    category = None

    def make(owner=None, **fields):
        nonlocal category
        if category is None:
            category = Category.objects.create(name="测试类别")
            tree_place(category)
        n = next(numbers)
        values = {
            "code": f"P-{n:04d}",
            "name": f"测试产品{n}",
            "category": category,
            "owner": owner,
            "department": owner.department if owner else None,
            "list_price": Decimal("100.00"),
            "cost": Decimal("60.00"),
        }
        values.update(fields)
        return Product.objects.create(**values)

    return make
