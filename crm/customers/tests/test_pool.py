"""C8 public pool (公海): the daily job returns idle customers and tells their former
owners; reps claim within limits (also under concurrency); managers assign; owners
release; every move is audited; reps see the pool of their department tree."""

import datetime
import threading
import time

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent, Notification, SystemParameter
from crm.core.params import CACHE_KEY
from crm.core.tests import pages
from crm.customers import pool
from crm.customers.activities import activity_create
from crm.customers.models import Activity, Contact, Customer, PoolEntry
from crm.customers.selectors import customer_queryset
from crm.customers.services import customer_merge
from crm.customers.tests import care_fixtures
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.org.tests.factories import UserFactory, make_role

pytestmark = pytest.mark.usefixtures("english")
team = care_fixtures.team  # the roles of these tests (a fixture)

TODAY = datetime.date(2027, 3, 10)


def set_params(**values):
    for key, value in values.items():
        SystemParameter.objects.update_or_create(key=key, defaults={"value": value})
    cache.delete(CACHE_KEY)


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def days_before(n: int) -> datetime.datetime:
    return at(TODAY - datetime.timedelta(days=n))


def customer(owner, *, created_days_ago=100, **fields) -> Customer:
    made = CustomerFactory(owner=owner, **fields)
    Customer.objects.filter(pk=made.pk).update(created_at=days_before(created_days_ago))
    made.refresh_from_db()
    return made


def followed_up(customer, days_ago):
    return Activity.objects.create(
        customer=customer, content="跟进", occurred_at=days_before(days_ago)
    )


def into_pool(customer, *, former=None, when=None):
    PoolEntry.objects.create(
        customer=customer,
        reason=PoolEntry.Reason.IDLE,
        former_owner=former or customer.owner,
        entered_at=when or timezone.now(),
    )
    Customer.objects.filter(pk=customer.pk).update(owner=None)
    customer.refresh_from_db()
    return customer


@pytest.fixture
def params(db):
    set_params(pool_idle_days=30, pool_max_customers=0, pool_max_claims_per_day=0)


# The daily job


def test_idle_customers_return_to_the_pool(
    team, params, django_capture_on_commit_callbacks
):
    """C8: no follow-up for 30 days → owner cleared, a pool entry, audited, and the
    former owner is told once (in the app and by e-mail)."""
    team.rep_a.email = "rep_a@example.com"
    team.rep_a.save()
    idle = customer(team.rep_a, name="久未跟进公司")
    followed_up(idle, 45)
    fresh = customer(team.rep_a, name="刚跟进公司")
    followed_up(fresh, 5)
    with django_capture_on_commit_callbacks() as callbacks:
        assert pool.pool_recycle(today=TODAY) == 1
    idle.refresh_from_db()
    fresh.refresh_from_db()
    assert idle.owner is None
    assert idle.department == team.east  # whose pool it is
    assert fresh.owner == team.rep_a
    entry = PoolEntry.objects.get(customer=idle)
    assert (entry.reason, entry.former_owner, entry.left_at) == (
        "idle",
        team.rep_a,
        None,
    )
    event = AuditEvent.objects.filter(
        content_type__model="customer", object_id=str(idle.pk)
    ).latest("at")
    assert event.actor is None
    assert event.changes["owner"] == [team.rep_a.pk, None]
    assert "public pool" in event.note
    notice = Notification.objects.get(recipient=team.rep_a)
    assert "1 customer returned to the public pool" in notice.title
    assert "久未跟进公司" in notice.body
    assert notice.url == reverse("customers:pool")
    assert len(callbacks) == 1  # the e-mail, after the commit


def test_running_the_job_twice_changes_nothing_more(team, params):
    customer(team.rep_a)
    assert pool.pool_recycle(today=TODAY) == 1
    assert pool.pool_recycle(today=TODAY) == 0
    assert PoolEntry.objects.count() == 1
    assert Notification.objects.filter(recipient=team.rep_a).count() == 1


@pytest.mark.parametrize(
    "case",
    [
        "followed_up",
        "created_recently",
        "claimed_recently",
        "no_owner",
        "in_pool",
        "deleted",
        "merged",
    ],
)
def test_customers_that_stay(team, params, case):
    made = customer(
        team.rep_a, created_days_ago=10 if case == "created_recently" else 100
    )
    if case == "followed_up":
        followed_up(made, 29)
    elif case == "claimed_recently":
        PoolEntry.objects.create(
            customer=made,
            reason="idle",
            entered_at=days_before(60),
            left_at=days_before(3),
            outcome="claimed",
            new_owner=team.rep_a,
        )
    elif case == "no_owner":
        Customer.objects.filter(pk=made.pk).update(owner=None)
    elif case == "in_pool":
        into_pool(made)
    elif case == "deleted":
        Customer.objects.filter(pk=made.pk).update(deleted_at=timezone.now())
    elif case == "merged":
        Customer.objects.filter(pk=made.pk).update(
            merged_into=customer(team.rep_a, created_days_ago=1)
        )
    before = PoolEntry.objects.count()
    assert pool.pool_recycle(today=TODAY) == 0
    assert PoolEntry.objects.count() == before


def test_the_cutoff_is_local_midnight_n_days_ago(team, params):
    """A follow-up on the cutoff day counts; the day before does not."""
    edge = customer(team.rep_a)
    Activity.objects.create(
        customer=edge,
        content="x",
        occurred_at=at(TODAY - datetime.timedelta(days=30), 0),
    )
    older = customer(team.rep_a)
    Activity.objects.create(
        customer=older,
        content="x",
        occurred_at=at(TODAY - datetime.timedelta(days=31), 23),
    )
    pool.pool_recycle(today=TODAY)
    assert set(PoolEntry.objects.values_list("customer", flat=True)) == {older.pk}


def test_zero_days_turns_recycling_off(team):
    set_params(pool_idle_days=0)
    customer(team.rep_a)
    assert pool.pool_recycle(today=TODAY) == 0


def test_each_former_owner_is_told_about_their_own(team, params):
    for _i in range(3):
        customer(team.rep_a)
    customer(team.rep_c)
    assert pool.pool_recycle(today=TODAY) == 4
    assert "3 customers" in Notification.objects.get(recipient=team.rep_a).title
    assert "1 customer" in Notification.objects.get(recipient=team.rep_c).title


# Who sees the pool


@pytest.fixture
def pooled(team):
    """A pool customer in each department, and one without a department."""
    return {
        "east": into_pool(customer(team.rep_a, name="华东池客户")),
        "office": into_pool(customer(team.rep_b, name="浦东池客户")),
        "south": into_pool(customer(team.rep_c, name="华南池客户")),
        "none": into_pool(customer(None, name="无部门池客户")),
    }


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("rep_a", {"east", "office", "none"}),  # east and below
        ("rep_b", {"office", "none"}),
        ("rep_c", {"south", "none"}),
        ("manager", {"east", "office", "none"}),
        ("admin", {"east", "office", "south", "none"}),
    ],
)
def test_reps_see_the_pool_of_their_department_tree(team, pooled, user, visible):
    actor = getattr(team, user)
    ids = set(pool.pool_queryset(actor=actor).values_list("pk", flat=True))
    assert ids == {pooled[k].pk for k in visible}


def test_pool_customers_are_not_in_a_reps_customer_list(team, pooled):
    assert not customer_queryset(actor=team.rep_a).filter(pk=pooled["east"].pk).exists()


# Claim


def test_claim(team, pooled):
    """The claimer becomes owner (department too), the stay ends, contacts the former
    owner looked after are handed over, everything audited."""
    target = pooled["office"]
    mine = ContactFactory(customer=target, responsible=team.rep_b)
    nobody = ContactFactory(customer=target, responsible=None)
    service_engineer = UserFactory(department=team.east)
    kept = ContactFactory(customer=target, responsible=service_engineer)
    claimed = pool.pool_claim(actor=team.rep_a, customer=target)
    assert (claimed.owner, claimed.department) == (team.rep_a, team.east)
    entry = PoolEntry.objects.get(customer=target)
    assert (entry.outcome, entry.left_by, entry.new_owner) == (
        "claimed",
        team.rep_a,
        team.rep_a,
    )
    assert entry.left_at is not None
    assert Contact.objects.get(pk=mine.pk).responsible == team.rep_a
    assert Contact.objects.get(pk=nobody.pk).responsible == team.rep_a
    assert Contact.objects.get(pk=kept.pk).responsible == service_engineer
    event = AuditEvent.objects.get(
        content_type__model="customer",
        object_id=str(target.pk),
        note__contains="claimed",
    )
    assert event.actor == team.rep_a
    assert event.changes["owner"] == [None, team.rep_a.pk]
    assert customer_queryset(actor=team.rep_a).filter(pk=target.pk).exists()


def test_a_claimed_customer_is_gone_from_the_pool(team, pooled):
    pool.pool_claim(actor=team.rep_a, customer=pooled["east"])
    with pytest.raises(Conflict):
        pool.pool_claim(actor=team.manager, customer=pooled["east"])


def test_claiming_outside_the_own_pool_is_not_found(team, pooled):
    with pytest.raises(NotFound):
        pool.pool_claim(actor=team.rep_a, customer=pooled["south"])


def test_claiming_needs_the_permission(org, pooled):
    role = make_role("看池子", "customers.view_pool", "customers.view_customer")
    viewer = UserFactory(department=org.east, roles=[role])
    with pytest.raises(Forbidden):
        pool.pool_claim(actor=viewer, customer=pooled["east"])


def test_most_customers_a_rep_may_own(team, pooled):
    set_params(pool_max_customers=2)
    customer(team.rep_a)
    pool.pool_claim(actor=team.rep_a, customer=pooled["east"])
    with pytest.raises(Conflict, match="2"):
        pool.pool_claim(actor=team.rep_a, customer=pooled["office"])
    assert pool.in_pool(pooled["office"])


def test_most_claims_per_day(team, pooled):
    set_params(pool_max_claims_per_day=1)
    yesterday = customer(None)
    PoolEntry.objects.create(
        customer=yesterday,
        reason="idle",
        entered_at=timezone.now() - datetime.timedelta(days=3),
        left_at=timezone.now() - datetime.timedelta(days=1, hours=1),
        outcome="claimed",
        new_owner=team.rep_a,
    )
    pool.pool_claim(
        actor=team.rep_a, customer=pooled["east"]
    )  # yesterday's is not counted
    with pytest.raises(Conflict, match="today"):
        pool.pool_claim(actor=team.rep_a, customer=pooled["office"])
    pool.pool_claim(actor=team.rep_b, customer=pooled["office"])  # a limit per rep


@pytest.mark.django_db(transaction=True)
def test_limits_hold_when_claims_run_at_once(org):
    """Two claims of one rep at the same moment, with one claim a day allowed: exactly
    one succeeds (the rep's row is locked); two reps on one customer: one gets it."""
    from crm.core.scopes import DataScope
    from crm.customers.tests.care_fixtures import REP

    role = make_role("并发", *REP, scope=DataScope.OWN)
    org.rep_a.groups.add(role)
    org.rep_b.groups.add(role)
    set_params(pool_idle_days=30, pool_max_customers=0, pool_max_claims_per_day=1)
    first = into_pool(CustomerFactory(owner=org.rep_a))
    second = into_pool(CustomerFactory(owner=org.rep_a))
    assert _race([(org.rep_a, first), (org.rep_a, second)]) == 1
    third = into_pool(CustomerFactory(owner=org.rep_b))
    set_params(pool_max_claims_per_day=0)
    assert _race([(org.rep_a, third), (org.rep_b, third)]) == 1
    assert PoolEntry.objects.filter(customer=third, left_at__isnull=True).count() == 0


def _race(claims) -> int:
    barrier = threading.Barrier(len(claims))
    results = []

    def claim(user, target):
        from crm.org.models import User

        try:
            actor = User.objects.get(pk=user.pk)
            barrier.wait()
            for _attempt in range(200):
                try:
                    pool.pool_claim(actor=actor, customer=target)
                except OperationalError:
                    # SQLite's in-memory test database answers "table is locked" at
                    # once where a file database (and PostgreSQL) waits: wait here.
                    time.sleep(0.01)
                    continue
                results.append("ok")
                break
        except (Conflict, NotFound) as exc:
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=c) for c in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(claims), results
    return results.count("ok")


# Assign and release


def test_a_manager_assigns_and_the_employee_is_told(team, pooled):
    assigned = pool.pool_assign(
        actor=team.manager, customer=pooled["east"], owner=team.rep_b
    )
    assert (assigned.owner, assigned.department) == (team.rep_b, team.east_office)
    entry = PoolEntry.objects.get(customer=pooled["east"])
    assert (entry.outcome, entry.left_by, entry.new_owner) == (
        "assigned",
        team.manager,
        team.rep_b,
    )
    notice = Notification.objects.get(recipient=team.rep_b)
    assert "华东池客户" in notice.title
    assert AuditEvent.objects.filter(
        content_type__model="customer",
        object_id=str(assigned.pk),
        note__contains="assigned",
        actor=team.manager,
    ).exists()


def test_assigning_needs_the_permission_and_a_visible_employee(team, pooled):
    with pytest.raises(Forbidden):
        pool.pool_assign(actor=team.rep_a, customer=pooled["east"], owner=team.rep_b)
    with pytest.raises(Invalid):  # the south branch is outside the manager's scope
        pool.pool_assign(actor=team.manager, customer=pooled["east"], owner=team.rep_c)


def test_assigning_respects_the_most_customers_one_may_own(team, pooled):
    set_params(pool_max_customers=1)
    customer(team.rep_b)
    with pytest.raises(Conflict):
        pool.pool_assign(actor=team.manager, customer=pooled["east"], owner=team.rep_b)


def test_an_owner_releases_a_customer(team):
    mine = customer(team.rep_a)
    entry = pool.pool_release(actor=team.rep_a, customer=mine)
    mine.refresh_from_db()
    assert mine.owner is None
    assert (entry.reason, entry.former_owner, entry.entered_by) == (
        "released",
        team.rep_a,
        team.rep_a,
    )
    assert pool.pool_queryset(actor=team.rep_a).filter(pk=mine.pk).exists()
    with pytest.raises(NotFound):  # no longer theirs
        pool.pool_release(actor=team.rep_a, customer=mine)
    with pytest.raises(Conflict):
        pool.pool_release(actor=team.admin, customer=mine)


def test_merging_two_pool_customers_keeps_one_in_the_pool(team, boss, pooled):
    """Both stays move to the survivor (no uniqueness rule breaks the merge); one claim
    ends both."""
    customer_merge(actor=boss, survivor=pooled["east"], merged=[pooled["office"]])
    assert (
        PoolEntry.objects.filter(customer=pooled["east"], left_at__isnull=True).count()
        == 2
    )
    assert (
        pool.pool_queryset(actor=team.rep_a).filter(pk=pooled["east"].pk).count() == 1
    )
    pool.pool_claim(actor=team.rep_a, customer=pooled["east"])
    assert not pool.in_pool(pooled["east"])


def test_a_follow_up_while_in_the_pool_does_not_take_it_out(team, pooled):
    activity_create(
        actor=team.manager,
        data={"customer": pooled["east"], "kind": "call", "content": "池中跟进"},
    )
    assert pool.in_pool(pooled["east"])


# Pages


def test_the_pool_page(team, pooled, client_for):
    response = client_for(team.rep_a).get(reverse("customers:pool"))
    assert response.status_code == 200
    text = pages.text(response)
    assert "华东池客户" in text
    assert "浦东池客户" in text
    assert "华南池客户" not in text
    assert "Claim selected" in text
    assert "Assign selected" not in text
    manager = pages.text(client_for(team.manager).get(reverse("customers:pool")))
    assert "Assign selected" in manager


def test_the_pool_page_searches_and_exports(team, pooled, client_for):
    client = client_for(team.manager)
    text = pages.text(client.get(reverse("customers:pool") + "?q=浦东"))
    assert "浦东池客户" in text
    assert "华东池客户" not in text
    response = client.get(
        reverse("core:export", args=["customers.pool"]) + "?format=csv"
    )
    assert response.status_code == 200
    exported = response.content.decode("utf-8-sig")
    assert "华东池客户" in exported
    assert "华南池客户" not in exported


def test_claim_and_assign_from_the_page(team, pooled, client_for):
    client = client_for(team.rep_a)
    response = client.post(
        reverse("customers:pool-act"),
        {"action": "claim", "ids": [pooled["east"].pk, pooled["office"].pk]},
    )
    assert response.status_code == 302
    assert (
        Customer.objects.filter(
            owner=team.rep_a, pk__in=[pooled["east"].pk, pooled["office"].pk]
        ).count()
        == 2
    )
    manager = client_for(team.manager)
    response = manager.post(
        reverse("customers:pool-act"),
        {"action": "assign", "owner": team.rep_b.pk, "ids": [pooled["none"].pk]},
    )
    assert response.status_code == 302
    pooled["none"].refresh_from_db()
    assert pooled["none"].owner == team.rep_b


def test_a_refusal_on_the_page_says_how_far_it_got(team, pooled, client_for):
    set_params(pool_max_claims_per_day=1)
    client = client_for(team.rep_a)
    response = client.post(
        reverse("customers:pool-act"),
        {"action": "claim", "ids": [pooled["east"].pk, pooled["office"].pk]},
        follow=True,
    )
    text = pages.text(response)
    assert "1 customer claimed." in text
    assert "the most allowed per day" in text


def test_the_pool_page_needs_the_permission(org, client_for):
    role = make_role("客户只读", "customers.view_customer")
    viewer = UserFactory(department=org.east, roles=[role])
    assert client_for(viewer).get(reverse("customers:pool")).status_code == 403


def test_release_from_the_customer_page(team, client_for):
    mine = customer(team.rep_a)
    tab = client_for(team.rep_a).get(
        reverse("customers:customer-tab", args=[mine.pk, "pool"])
    )
    assert "Back to the pool" in pages.text(tab)
    response = client_for(team.rep_a).post(
        reverse("customers:customer-release", args=[mine.pk])
    )
    assert response.status_code == 302
    assert pool.in_pool(mine)


# API


def test_api_pool(team, pooled, client_for):
    client = client_for(team.rep_a)
    listed = client.get("/api/v1/customers/pool/").json()["results"]
    assert {c["name"] for c in listed} == {"华东池客户", "浦东池客户", "无部门池客户"}
    assert all(c["pooled_at"] for c in listed)
    assert (
        client.post(f"/api/v1/customers/pool/{pooled['south'].pk}/claim/").status_code
        == 404
    )
    response = client.post(f"/api/v1/customers/pool/{pooled['east'].pk}/claim/")
    assert response.status_code == 200
    assert response.json()["owner"] == team.rep_a.pk
    assert (
        client.post(f"/api/v1/customers/pool/{pooled['east'].pk}/claim/").status_code
        == 404
    )
    set_params(pool_max_claims_per_day=1)
    response = client.post(f"/api/v1/customers/pool/{pooled['office'].pk}/claim/")
    assert response.status_code == 409
    manager = client_for(team.manager)
    response = manager.post(
        f"/api/v1/customers/pool/{pooled['office'].pk}/assign/",
        {"owner": team.rep_b.pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (
        client.post(
            "/api/v1/customers/pool/release/",
            {"customer": pooled["east"].pk},
            content_type="application/json",
        ).status_code
        == 204
    )
    assert pool.in_pool(pooled["east"])
