"""Demo follow-ups and public pool (issue 3 point 11): every page of C6–C8 has something
real to show; loading twice adds nothing; the demo roles get the permissions."""

import datetime

import pytest
from django.utils import timezone

from crm.customers import demo
from crm.customers.models import Activity, Customer, PoolEntry
from crm.customers.pool import idle_customers
from crm.org import demo as org_demo
from crm.org.models import User

pytestmark = pytest.mark.django_db


def test_demo_follow_ups_and_pool():
    org_demo.load()
    demo.load()
    activities, pooled = Activity.objects.count(), PoolEntry.objects.count()
    demo.load()
    assert (Activity.objects.count(), PoolEntry.objects.count()) == (activities, pooled)
    customers = Customer.objects.count()
    assert activities > customers
    assert 30 <= pooled <= 60
    assert Customer.objects.filter(owner__isnull=True).count() == pooled
    recent = timezone.now() - datetime.timedelta(days=30)
    followed = (
        Customer.objects.filter(activities__occurred_at__gte=recent).distinct().count()
    )
    assert followed > customers * 0.7
    assert Activity.objects.filter(next_follow_up_on__gte=timezone.localdate()).exists()
    assert set(Activity.objects.values_list("kind", flat=True)) == {
        k for k, _label in Activity.Kind.choices
    }
    # Some idle ones for the nightly job, not most.
    idle = idle_customers(today=timezone.localdate(), days=30).count()
    assert 0 < idle < customers * 0.3


def test_demo_roles_get_activity_and_pool_permissions():
    org_demo.load()
    demo.load()
    rep = User.objects.get(username="rep")
    assert rep.has_perm("customers.add_activity")
    assert rep.has_perm("customers.claim_customer")
    assert not rep.has_perm("customers.assign_customer")
    manager = User.objects.get(username="manager")
    assert manager.has_perm("customers.assign_customer")
