"""Demo customers (issue 3 point 11): ~2,000 customers with contacts and a hierarchy,
over real regions and the org demo's sales staff; fast; idempotent; role permissions."""

import pytest
from django.db.models import Count, Q

from crm.core.validators import is_valid_uscc, validate_cn_phone
from crm.customers import demo
from crm.customers.models import Contact, Customer
from crm.org import demo as org_demo
from crm.org.models import Role, User

pytestmark = pytest.mark.django_db


def counts():
    return Customer.objects.count(), Contact.objects.count()


def test_demo_customers_load_fast_and_twice_without_duplicates():
    org_demo.load()
    demo.load()
    first = counts()
    demo.load()
    assert counts() == first
    customers, contacts = first
    assert 1900 <= customers <= 2100
    assert customers <= contacts <= 3 * customers
    assert (
        Customer.objects.values("name").annotate(n=Count("pk")).filter(n__gt=1).count()
        == 0
    )
    numbers = Customer.objects.values_list("number", flat=True)
    assert len(set(numbers)) == customers


def test_demo_customers_look_real():
    org_demo.load()
    demo.load()
    sample = list(
        Customer.objects.select_related("region__parent__parent", "owner").order_by(
            "pk"
        )[:200]
    )
    assert all(c.region and c.region.level == 3 for c in sample)
    # Customers in the public pool (C8) have no owner; every other one is its owner's.
    owned = [c for c in sample if c.owner_id]
    assert len(owned) >= 150
    assert all(c.department_id == c.owner.department_id for c in owned)
    assert len({c.region.parent.parent_id for c in sample}) > 10  # many provinces
    assert all(is_valid_uscc(c.credit_code) for c in sample if c.credit_code)
    for c in sample:
        validate_cn_phone(c.main_phone)
    assert Customer.objects.filter(parent__isnull=False).count() > 100
    owners = set(Customer.objects.values_list("owner__username", flat=True))
    assert len(owners) > 10
    roles = set(
        User.objects.filter(username__in=owners).values_list("groups__name", flat=True)
    )
    assert roles <= {"销售代表", "销售经理"}
    per_customer = Contact.objects.values("customer").annotate(
        n=Count("pk"), primary=Count("pk", filter=Q(is_primary=True))
    )
    assert all(1 <= row["n"] <= 3 and row["primary"] == 1 for row in per_customer)
    assert Customer.objects.values("created_at__date").distinct().count() > 100


def test_demo_roles_get_customer_permissions():
    org_demo.load()
    demo.load()
    rep = Role.objects.get(name="销售代表")
    codes = set(rep.permissions.values_list("codename", flat=True))
    assert {"view_customer", "add_customer", "change_customer", "view_contact"} <= codes
    assert "delete_customer" not in codes
    assert "merge_records" not in codes
    for name in ("销售经理", "销售总监"):
        codes = set(
            Role.objects.get(name=name).permissions.values_list("codename", flat=True)
        )
        assert {"merge_records", "export_data", "change_customer"} <= codes
    admin_codes = set(
        Role.objects.get(name="系统管理员").permissions.values_list(
            "codename", flat=True
        )
    )
    assert {"delete_customer", "restore_customer", "delete_contact"} <= admin_codes
    user = User.objects.get(username="rep")
    assert user.has_perm("customers.add_customer")
