"""Y4 employees: created under the password policy and audited, no supervisor cycles,
deactivated (never deleted), and listed/shown within the viewer's organisation scope."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from rest_framework.authtoken.models import Token

from crm.core.errors import Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.core.scopes import DataScope
from crm.core.tests import pages
from crm.org.models import User
from crm.org.services import employee_create, employee_deactivate, employee_update
from crm.org.tests.factories import UserFactory, make_role

pytestmark = pytest.mark.usefixtures("english")

HR_PERMS = ("org.view_user", "org.add_user", "org.change_user")


@pytest.fixture
def hr(org):
    user = UserFactory(username="hr", name="人事", department=org.group)
    user.groups.set([make_role("hr", *HR_PERMS, org=DataScope.ALL)])
    return User.objects.get(pk=user.pk)


def _new(org, **data):
    return {
        "username": "zhao",
        "name": "赵四",
        "department": org.east,
        "supervisor": org.manager,
        "position": "销售代表",
        "mobile": "13800000000",
        "password": "Lantern-Harbour-42",
        **data,
    }


def can_sign_in(username: str, password: str) -> bool:
    response = Client().post(
        "/accounts/login/", {"username": username, "password": password}
    )
    return response.status_code == 302


def _user_events(user_pk):
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user_pk)
    )


@pytest.mark.parametrize("password", ["12345678", "password", "zhao", ""])
def test_create_with_a_weak_password_is_refused(org, hr, password):
    count = User.objects.count()
    with pytest.raises(Invalid) as refused:
        employee_create(actor=hr, data=_new(org, password=password))
    assert "password" in refused.value.fields
    assert User.objects.count() == count
    assert not AuditEvent.objects.exists()


def test_create_stores_the_employee_and_an_audit_row(org, hr):
    user = employee_create(actor=hr, data=_new(org))

    user = User.objects.get(pk=user.pk)
    assert (user.name, user.department, user.supervisor) == (
        "赵四",
        org.east,
        org.manager,
    )
    assert user.check_password("Lantern-Harbour-42")
    event = _user_events(user.pk).get()
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == hr
    assert event.changes["username"] == [None, "zhao"]
    assert "password" not in event.changes
    assert can_sign_in("zhao", "Lantern-Harbour-42")


def test_create_refuses_a_taken_username(org, hr):
    with pytest.raises(Invalid) as refused:
        employee_create(actor=hr, data=_new(org, username="REP_A"))
    assert "username" in refused.value.fields


def test_create_needs_permission(org):
    with pytest.raises(Forbidden):
        employee_create(actor=org.rep_a, data=_new(org))
    assert not User.objects.filter(username="zhao").exists()


@pytest.mark.parametrize("new_boss", ["rep_a", "rep_b", "manager", "sub_rep"])
def test_supervisor_cycles_are_refused(org, hr, new_boss):
    """manager supervises rep_a and rep_b; rep_a supervises sub_rep."""
    sub_rep = UserFactory(username="sub_rep", department=org.east, supervisor=org.rep_a)
    boss = sub_rep if new_boss == "sub_rep" else getattr(org, new_boss)

    with pytest.raises(Invalid) as refused:
        employee_update(actor=hr, obj=org.manager, data={"supervisor": boss})

    assert "supervisor" in refused.value.fields
    manager = User.objects.get(pk=org.manager.pk)
    assert manager.supervisor is None


def test_a_valid_supervisor_change_is_saved_and_audited(org, hr):
    employee_update(actor=hr, obj=org.rep_a, data={"supervisor": org.rep_c})
    assert User.objects.get(pk=org.rep_a.pk).supervisor == org.rep_c
    event = _user_events(org.rep_a.pk).get()
    assert event.changes["supervisor"] == [org.manager.pk, org.rep_c.pk]


def test_deactivate_keeps_the_record_and_ends_access(org, hr, client_for):
    token = Token.objects.create(user=org.rep_b)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    org.rep_b.groups.set([make_role("reader", "org.view_user")])
    assert api.get("/api/v1/org/employees/").status_code == 200

    employee_deactivate(actor=hr, user=org.rep_b)

    rep_b = User.objects.get(pk=org.rep_b.pk)  # still there
    assert rep_b.is_active is False
    assert not Token.objects.filter(user=rep_b).exists()
    assert api.get("/api/v1/org/employees/").status_code in (401, 403)
    assert can_sign_in("rep_a", "Pass-word-2026")  # the check itself works
    assert not can_sign_in("rep_b", "Pass-word-2026")
    assert _user_events(rep_b.pk).get().note == "deactivate"


def test_deactivated_user_loses_a_running_session(org, hr, client_for):
    org.rep_b.groups.set([make_role("reader", "org.view_user")])
    client = client_for(org.rep_b)
    assert client.get("/org/employees/").status_code == 200
    employee_deactivate(actor=hr, user=org.rep_b)
    response = client.get("/org/employees/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_nobody_deactivates_themselves(org, hr):
    with pytest.raises(Invalid):
        employee_deactivate(actor=hr, user=hr)
    assert User.objects.get(pk=hr.pk).is_active


def test_deactivate_through_the_page(org, hr, client_for):
    response = client_for(hr).post(f"/org/employees/{org.rep_c.pk}/deactivate/")
    assert response.status_code == 302
    assert User.objects.get(pk=org.rep_c.pk).is_active is False


def test_deactivate_needs_permission(org, client_for):
    org.rep_a.groups.set([make_role("reader", "org.view_user", org=DataScope.ALL)])
    response = client_for(org.rep_a).post(f"/org/employees/{org.rep_c.pk}/deactivate/")
    assert response.status_code == 403
    assert User.objects.get(pk=org.rep_c.pk).is_active


# Pages, within the organisation data scope


def _employee_form(org, **data):
    values = {
        "username": "zhao",
        "name": "赵四",
        "department": org.east.pk,
        "supervisor": org.manager.pk,
        "position": "销售代表",
        "password": "Lantern-Harbour-42",
    }
    values.update(data)
    return values


def test_create_page_refuses_a_weak_password_on_its_field(org, hr, client_for):
    response = client_for(hr).post(
        "/org/employees/new/", _employee_form(org, password="12345678")
    )
    assert response.status_code == 400
    text = pages.text(response)
    assert "This password is entirely numeric." in text
    assert not User.objects.filter(username="zhao").exists()


def test_create_page_saves_an_employee(org, hr, client_for):
    response = client_for(hr).post("/org/employees/new/", _employee_form(org))
    assert response.status_code == 302
    user = User.objects.get(username="zhao")
    assert response["Location"] == f"/org/employees/{user.pk}/"
    assert _user_events(user.pk).filter(action=AuditEvent.Action.CREATE).exists()


def test_edit_page_refuses_a_supervisor_cycle(org, hr, client_for):
    response = client_for(hr).post(
        f"/org/employees/{org.manager.pk}/edit/",
        {
            "username": "manager",
            "name": "张经理",
            "department": org.east.pk,
            "supervisor": org.rep_a.pk,
        },
    )
    assert response.status_code == 400
    assert "Choose someone outside this employee's team." in pages.text(response)
    assert User.objects.get(pk=org.manager.pk).supervisor is None


@pytest.fixture
def colleague_viewer(org, client_for):
    """rep_a (华东) may see the employees of their own department only."""
    role = make_role("colleagues", "org.view_user", org=DataScope.DEPARTMENT)
    org.rep_a.groups.set([role])
    return client_for(org.rep_a)


def test_list_shows_only_the_own_departments_colleagues(org, colleague_viewer):
    response = colleague_viewer.get("/org/employees/")
    assert response.status_code == 200
    text = pages.text(response)
    for inside in ("张经理", "刘一"):  # manager and rep_a work in 华东
        assert inside in text
    for outside in ("陈二", "王三", "管理员"):  # 浦东办事处, 华南, 集团
        assert outside not in text
    assert "2 records" in text


def test_detail_inside_and_outside_the_scope(org, colleague_viewer):
    assert colleague_viewer.get(f"/org/employees/{org.manager.pk}/").status_code == 200
    for outsider in (org.rep_b, org.rep_c, org.admin):
        response = colleague_viewer.get(f"/org/employees/{outsider.pk}/")
        assert response.status_code == 404
        assert outsider.name not in pages.text(response)


def test_api_list_and_detail_follow_the_scope(org, colleague_viewer):
    body = colleague_viewer.get("/api/v1/org/employees/").json()
    assert {row["username"] for row in body["results"]} == {"manager", "rep_a"}
    assert colleague_viewer.get(
        f"/api/v1/org/employees/{org.rep_c.pk}/"
    ).status_code == (404)


def test_search_does_not_reach_outside_the_scope(org, colleague_viewer):
    text = pages.text(colleague_viewer.get("/org/employees/", {"q": "rep_c"}))
    assert "王三" not in text
    assert "0 records" in text


def test_a_hidden_phone_is_not_shown_nor_searchable(org, client_for):
    """Y5 field rights on employees: a hidden mobile number is not shown, and searching
    for it finds nobody (otherwise the search would tell whose number it is)."""
    org.rep_c.mobile = "13912345678"
    org.rep_c.save()
    role = make_role(
        "no phones",
        "org.view_user",
        org=DataScope.ALL,
        field_rights={"org.user": {"mobile": "hidden"}},
    )
    org.rep_a.groups.set([role])
    client = client_for(org.rep_a)

    listing = pages.text(client.get("/org/employees/"))
    detail = pages.text(client.get(f"/org/employees/{org.rep_c.pk}/"))
    api = client.get(f"/api/v1/org/employees/{org.rep_c.pk}/").json()
    found = client.get("/org/employees/", {"q": "13912345678"})

    assert "13912345678" not in listing
    assert "13912345678" not in detail
    assert "mobile" not in api
    assert "王三" not in pages.text(found)
