"""Shared fixtures: a small organisation to test scopes and permissions against.

group (root)
├── east (branch)            manager ──supervises── rep_a, rep_b
│   └── east_office (office)  rep_b works here
└── south (branch)           rep_c
"""

import pytest
from django.test import Client

from crm.org.tests.factories import DepartmentFactory, UserFactory


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
