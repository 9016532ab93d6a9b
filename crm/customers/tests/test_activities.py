"""C6 follow-up activities: recorded on a customer (and optionally a contact), shown as a
timeline tab of the 360° view, listed and created through the API, within the customers
data scope, audited; "last followed up at" is always the newest activity's time."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.tests import pages
from crm.customers import activities
from crm.customers.models import Activity, Customer
from crm.customers.services import customer_merge
from crm.customers.tests import care_fixtures
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.org.tests.factories import UserFactory, make_role

pytestmark = pytest.mark.usefixtures("english")
team = care_fixtures.team  # the roles of these tests (a fixture)


def ago(**kw) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**kw)


def record(actor, customer, **data) -> Activity:
    values = {
        "customer": customer,
        "kind": Activity.Kind.CALL,
        "content": "电话沟通报价",
    }
    values.update(data)
    return activities.activity_create(actor=actor, data=values)


@pytest.fixture
def customers(team):
    """One customer per rep (east, east office, south)."""
    return {
        "a": CustomerFactory(owner=team.rep_a, name="华东甲公司"),
        "b": CustomerFactory(owner=team.rep_b, name="浦东乙公司"),
        "c": CustomerFactory(owner=team.rep_c, name="华南丙公司"),
    }


# Services


def test_record_a_follow_up_with_a_contact(team, customers):
    """C6: kind, time, content, next follow-up; the recorder is the user; audited (Y7)."""
    contact = ContactFactory(customer=customers["a"], name="张三")
    when = ago(hours=2)
    activity = record(
        team.rep_a,
        customers["a"],
        contact=contact,
        kind=Activity.Kind.VISIT,
        occurred_at=when,
        content="拜访客户，介绍新产品",
        next_follow_up_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    activity.refresh_from_db()
    assert activity.recorded_by == team.rep_a
    assert activity.contact == contact
    assert activity.occurred_at == when
    event = AuditEvent.objects.get(object_id=str(activity.pk), action="create")
    assert event.actor == team.rep_a
    assert event.changes["content"] == [None, "拜访客户，介绍新产品"]


def test_the_time_defaults_to_now(team, customers):
    activity = record(team.rep_a, customers["a"])
    assert abs(activity.occurred_at - timezone.now()) < datetime.timedelta(minutes=1)


@pytest.mark.parametrize("kind", [k for k, _label in Activity.Kind.choices])
def test_every_kind_can_be_recorded(team, customers, kind):
    assert record(team.rep_a, customers["a"], kind=kind).kind == kind


def test_a_contact_of_another_customer_is_refused(team, customers):
    other = ContactFactory(customer=customers["b"])
    with pytest.raises(Invalid) as exc:
        record(team.rep_a, customers["a"], contact=other)
    assert "contact" in exc.value.fields


def test_a_follow_up_in_the_future_is_refused(team, customers):
    with pytest.raises(Invalid) as exc:
        record(
            team.rep_a,
            customers["a"],
            occurred_at=timezone.now() + datetime.timedelta(days=1),
        )
    assert "occurred_at" in exc.value.fields


def test_the_next_follow_up_cannot_be_before_this_one(team, customers):
    with pytest.raises(Invalid) as exc:
        record(
            team.rep_a,
            customers["a"],
            occurred_at=ago(days=1),
            next_follow_up_on=timezone.localdate() - datetime.timedelta(days=5),
        )
    assert "next_follow_up_on" in exc.value.fields


def test_recording_needs_the_permission(org, customers):
    role = make_role("只读", "customers.view_customer", "customers.view_activity")
    viewer = UserFactory(department=org.east, roles=[role])
    customers["a"].owner = viewer
    customers["a"].save()
    with pytest.raises(Forbidden):
        record(viewer, customers["a"])


def test_a_customer_outside_the_scope_is_not_found(team, customers):
    with pytest.raises(NotFound):
        record(team.rep_a, customers["c"])
    assert not Activity.objects.exists()


def test_update_with_version_and_audit(team, customers):
    activity = record(team.rep_a, customers["a"], content="初次联系")
    updated = activities.activity_update(
        actor=team.rep_a,
        obj=activity,
        data={"content": "初次联系，已发资料"},
        version=1,
    )
    assert updated.version == 2
    event = AuditEvent.objects.get(object_id=str(activity.pk), action="update")
    assert event.changes["content"] == ["初次联系", "初次联系，已发资料"]
    with pytest.raises(Conflict):
        activities.activity_update(
            actor=team.rep_a, obj=activity, data={"content": "stale"}, version=1
        )


def test_an_activity_stays_with_its_customer(team, customers):
    activity = record(team.rep_a, customers["a"])
    activities.activity_update(
        actor=team.rep_a,
        obj=activity,
        data={"customer": customers["b"], "content": "改了"},
        version=1,
    )
    activity.refresh_from_db()
    assert activity.customer == customers["a"]


def test_delete_is_audited(team, customers):
    activity = record(team.rep_a, customers["a"])
    pk = activity.pk
    activities.activity_delete(actor=team.rep_a, obj=activity)
    assert not Activity.objects.exists()
    assert AuditEvent.objects.filter(object_id=str(pk), action="delete").exists()


# Scope


@pytest.mark.parametrize(
    ("user", "visible"),
    [("rep_a", {"a"}), ("rep_b", {"b"}), ("rep_c", {"c"}), ("manager", {"a", "b"})],
)
def test_activities_follow_the_customers_scope(team, customers, user, visible):
    """Y5: a rep sees the activities of their own customers, the manager those of the
    east branch and below; the list page, the API list and the detail agree."""
    made = {
        key: record(team.admin, c, content=f"跟进{key}") for key, c in customers.items()
    }
    actor = getattr(team, user)
    assert {
        key
        for key, a in made.items()
        if activities.activity_queryset(actor=actor).filter(pk=a.pk).exists()
    } == visible
    from django.test import Client

    client = Client()
    client.force_login(actor)
    listed = {
        r["content"]
        for r in client.get("/api/v1/customers/activities/").json()["results"]
    }
    assert listed == {f"跟进{k}" for k in visible}
    page = pages.text(client.get(reverse("customers:activity-list")))
    for key, activity in made.items():
        assert (f"跟进{key}" in page) is (key in visible)
        status = client.get(f"/api/v1/customers/activities/{activity.pk}/").status_code
        assert status == (200 if key in visible else 404)


def test_deleted_and_merged_customers_activities_leave_the_lists(team, customers):
    record(team.admin, customers["a"], content="仍在")
    merged_away = CustomerFactory(owner=team.rep_a)
    Activity.objects.create(customer=merged_away, content="已合并")
    Customer.objects.filter(pk=merged_away.pk).update(merged_into=customers["a"])
    gone = CustomerFactory(owner=team.rep_a, deleted_at=timezone.now())
    Activity.objects.create(customer=gone, content="回收站")
    with pytest.raises(NotFound):  # nobody records follow-ups there
        record(team.admin, gone)
    names = set(
        activities.activity_queryset(actor=team.rep_a).values_list("content", flat=True)
    )
    assert names == {"仍在"}


# Last followed up


def test_last_follow_up_is_the_newest_activity(team, customers):
    """C8's clock: always the newest activity's time, whatever happens to activities."""

    def last(customer):
        return (
            Customer.objects.annotate(last=activities.last_follow_up())
            .get(pk=customer.pk)
            .last
        )

    a = customers["a"]
    assert last(a) is None
    old = record(team.rep_a, a, occurred_at=ago(days=10))
    new = record(team.rep_a, a, occurred_at=ago(days=2))
    assert last(a) == new.occurred_at
    activities.activity_delete(actor=team.rep_a, obj=new)
    assert last(a) == old.occurred_at


def test_a_merge_moves_activities_and_their_clock(team, boss, customers):
    survivor = CustomerFactory(owner=team.rep_a)
    moved = record(team.admin, customers["a"], occurred_at=ago(days=1))
    customer_merge(actor=boss, survivor=survivor, merged=[customers["a"]])
    moved.refresh_from_db()
    assert moved.customer == survivor
    assert (
        Customer.objects.annotate(last=activities.last_follow_up())
        .get(pk=survivor.pk)
        .last
        == moved.occurred_at
    )


# The timeline tab and pages


def tab(client, customer):
    return client.get(
        reverse("customers:customer-tab", args=[customer.pk, "activities"])
    )


def test_the_timeline_tab_shows_newest_first(team, customers, client_for):
    record(team.rep_a, customers["a"], content="第一次", occurred_at=ago(days=3))
    record(
        team.rep_a,
        customers["a"],
        content="第二次",
        occurred_at=ago(days=1),
        next_follow_up_on=datetime.date(2099, 1, 5),
    )
    response = tab(client_for(team.rep_a), customers["a"])
    assert response.status_code == 200
    text = pages.text(response)
    assert text.index("第二次") < text.index("第一次")
    assert "2099" in text  # the next follow-up
    assert "Record a follow-up" in text


def test_the_tab_needs_the_view_permission(org, customers, client_for):
    role = make_role("no-activities", "customers.view_customer")
    viewer = UserFactory(department=org.east, roles=[role])
    customers["a"].owner = viewer
    customers["a"].save()
    assert tab(client_for(viewer), customers["a"]).status_code == 403


def test_the_360_view_lists_the_activities_tab_with_its_count(
    team, customers, client_for
):
    record(team.rep_a, customers["a"])
    record(team.rep_a, customers["a"])
    html = (
        client_for(team.rep_a)
        .get(reverse("customers:customer-detail", args=[customers["a"].pk]))
        .content.decode()
    )
    assert 'data-bs-target="#tab-activities"' in html
    assert (
        reverse("customers:customer-tab", args=[customers["a"].pk, "activities"])
        in html
    )


def test_record_from_the_customer_page(team, customers, client_for):
    client = client_for(team.rep_a)
    url = reverse("customers:activity-create", args=[customers["a"].pk])
    response = client.post(
        url,
        {
            "kind": "wechat",
            "occurred_at": timezone.localtime(ago(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "content": "微信沟通",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#tab-activities")
    assert Activity.objects.get().content == "微信沟通"


def test_a_bad_form_is_shown_again(team, customers, client_for):
    client = client_for(team.rep_a)
    url = reverse("customers:activity-create", args=[customers["a"].pk])
    future = timezone.localtime(timezone.now() + datetime.timedelta(days=2))
    response = client.post(
        url,
        {
            "kind": "call",
            "occurred_at": future.strftime("%Y-%m-%dT%H:%M"),
            "content": "x",
        },
    )
    assert response.status_code == 400
    assert not Activity.objects.exists()
    assert (
        client.post(
            reverse("customers:activity-create", args=[customers["c"].pk]),
            {"kind": "call", "content": "x"},
        ).status_code
        == 404
    )


def test_edit_and_delete_pages(team, customers, client_for):
    activity = record(team.rep_a, customers["a"], content="旧")
    client = client_for(team.rep_a)
    assert (
        client.get(reverse("customers:activity-detail", args=[activity.pk])).status_code
        == 200
    )
    response = client.post(
        reverse("customers:activity-edit", args=[activity.pk]),
        {
            "kind": "call",
            "occurred_at": timezone.localtime(activity.occurred_at).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "content": "新",
            "version": 1,
        },
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.content == "新"
    response = client.post(reverse("customers:activity-delete", args=[activity.pk]))
    assert response.status_code == 302
    assert not Activity.objects.exists()


def test_the_list_page_costs_the_same_queries_for_more_rows(
    team, customers, client_for, django_assert_max_num_queries
):
    client = client_for(team.manager)
    for _i in range(3):
        record(
            team.admin, customers["a"], contact=ContactFactory(customer=customers["a"])
        )
    client.get(reverse("customers:activity-list"))
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("customers:activity-list"))
    for _i in range(20):
        record(
            team.admin, customers["b"], contact=ContactFactory(customer=customers["b"])
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("customers:activity-list"))


# API


def test_api_create_and_filter(team, customers, client_for):
    client = client_for(team.rep_a)
    contact = ContactFactory(customer=customers["a"])
    response = client.post(
        "/api/v1/customers/activities/",
        {
            "customer": customers["a"].pk,
            "contact": contact.pk,
            "kind": "meeting",
            "content": "会议纪要",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["recorded_by"] == team.rep_a.pk
    assert body["customer_name"] == "华东甲公司"
    record(
        team.rep_a,
        customers["a"],
        kind="call",
        content="电话",
        occurred_at=ago(days=40),
    )
    kinds = client.get("/api/v1/customers/activities/?kind=meeting").json()["results"]
    assert [a["content"] for a in kinds] == ["会议纪要"]
    since = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    recent = client.get(f"/api/v1/customers/activities/?occurred_from={since}").json()
    assert [a["content"] for a in recent["results"]] == ["会议纪要"]
    by_number = client.get(
        f"/api/v1/customers/activities/?customer={customers['a'].number}"
    ).json()
    assert len(by_number["results"]) == 2
    assert (
        client.get("/api/v1/customers/activities/?occurred_from=yesterday").status_code
        == 400
    )


def test_api_refuses_customers_outside_the_scope(team, customers, client_for):
    response = client_for(team.rep_a).post(
        "/api/v1/customers/activities/",
        {"customer": customers["c"].pk, "kind": "call", "content": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "customer" in response.json()["fields"]


def test_api_update_needs_the_current_version(team, customers, client_for):
    activity = record(team.rep_a, customers["a"])
    client = client_for(team.rep_a)
    url = f"/api/v1/customers/activities/{activity.pk}/"
    assert (
        client.patch(url, {"content": "x"}, content_type="application/json").status_code
        == 400
    )
    assert (
        client.patch(
            url, {"content": "x", "version": 1}, content_type="application/json"
        ).status_code
        == 200
    )
    assert (
        client.patch(
            url, {"content": "y", "version": 1}, content_type="application/json"
        ).status_code
        == 409
    )
    assert client.delete(url).status_code == 204
