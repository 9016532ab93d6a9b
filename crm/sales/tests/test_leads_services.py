"""S1 lead services: create, edit (version, status rules, read-only once converted) and
follow-ups (the lead's next follow-up date and its new → contacted step)."""

import datetime

import pytest
from django.utils import timezone

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent, Notification
from crm.org.tests.factories import UserFactory
from crm.sales.models import Lead, LeadFollowUp
from crm.sales.services.leads import (
    lead_create,
    lead_follow_up_create,
    lead_update,
)
from crm.sales.tests.leads_fixtures import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("english")


def test_a_new_lead_gets_a_number_its_creator_as_owner_and_an_audit_row(sales_org):
    rep = sales_org.rep_a
    lead = lead_create(
        actor=rep,
        data={"name": " 李雷 ", "company": "上海某某贸易", "mobile": "13800138000"},
    )
    lead.refresh_from_db()
    assert lead.number.startswith("XS")
    assert (lead.name, lead.status, lead.source) == ("李雷", "new", "other")
    assert (lead.owner, lead.department) == (rep, rep.department)
    assert AuditEvent.objects.filter(object_id=str(lead.pk), action="create").exists()
    second = lead_create(actor=rep, data={"name": "韩梅梅", "email": "h@example.com"})
    assert second.number != lead.number


def test_creating_a_lead_for_someone_else_needs_the_assign_permission(
    sales_org, lead_manager
):
    with pytest.raises(Forbidden):
        lead_create(
            actor=sales_org.rep_a, data={"name": "甲", "owner": sales_org.rep_b}
        )
    lead = lead_create(
        actor=lead_manager, data={"name": "甲", "owner": sales_org.rep_b}
    )
    assert (lead.owner, lead.department) == (sales_org.rep_b, sales_org.east_office)
    note = Notification.objects.get(recipient=sales_org.rep_b)
    assert lead.number in note.title
    assert note.url == f"/sales/leads/{lead.pk}/"


def test_a_lead_cannot_go_to_an_employee_who_left(sales_org, lead_manager):
    sales_org.rep_b.is_active = False
    sales_org.rep_b.save()
    with pytest.raises(Invalid) as exc:
        lead_create(actor=lead_manager, data={"name": "甲", "owner": sales_org.rep_b})
    assert "owner" in exc.value.fields
    assert not Lead.objects.exists()


def test_bad_phone_and_email_are_field_errors(sales_org):
    with pytest.raises(Invalid) as exc:
        lead_create(
            actor=sales_org.rep_a,
            data={"name": "甲", "mobile": "12345", "email": "not-mail"},
        )
    assert {"mobile", "email"} <= set(exc.value.fields)
    assert not Lead.objects.exists()


def test_creating_needs_the_add_permission(org):
    with pytest.raises(Forbidden):
        lead_create(actor=UserFactory(department=org.east), data={"name": "甲"})


def test_an_edit_needs_the_current_version(sales_org, make_lead):
    lead = make_lead(sales_org.rep_a)
    lead = lead_update(
        actor=sales_org.rep_a, obj=lead, data={"company": "新公司"}, version=1
    )
    assert (lead.company, lead.version) == ("新公司", 2)
    with pytest.raises(Conflict):
        lead_update(actor=sales_org.rep_a, obj=lead, data={"company": "旧"}, version=1)


def test_disqualifying_needs_a_reason_and_converted_is_not_typed_in(
    sales_org, make_lead
):
    lead = make_lead(sales_org.rep_a)
    with pytest.raises(Invalid) as exc:
        lead_update(
            actor=sales_org.rep_a, obj=lead, data={"status": "disqualified"}, version=1
        )
    assert "disqualify_reason" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        lead_update(
            actor=sales_org.rep_a, obj=lead, data={"status": "converted"}, version=1
        )
    assert "status" in exc.value.fields
    lead = lead_update(
        actor=sales_org.rep_a,
        obj=lead,
        data={"status": "disqualified", "disqualify_reason": "无预算"},
        version=1,
    )
    assert lead.status == "disqualified"
    lead = lead_update(
        actor=sales_org.rep_a, obj=lead, data={"status": "qualified"}, version=2
    )
    assert (lead.status, lead.disqualify_reason) == ("qualified", "")


def test_a_converted_lead_is_read_only(sales_org, make_lead):
    lead = make_lead(sales_org.rep_a, status=Lead.Status.CONVERTED)
    with pytest.raises(Conflict):
        lead_update(actor=sales_org.rep_a, obj=lead, data={"name": "改"}, version=1)
    with pytest.raises(Conflict):
        lead_follow_up_create(actor=sales_org.rep_a, lead=lead, data={"content": "x"})
    lead.refresh_from_db()
    assert lead.version == 1


# Follow-ups


def test_the_first_follow_up_makes_a_new_lead_contacted_and_sets_the_next_date(
    sales_org, make_lead
):
    lead = make_lead(sales_org.rep_a)
    next_week = timezone.localdate() + datetime.timedelta(days=7)
    follow_up = lead_follow_up_create(
        actor=sales_org.rep_a,
        lead=lead,
        data={
            "kind": "call",
            "content": "电话沟通需求",
            "next_follow_up_on": next_week,
        },
    )
    lead.refresh_from_db()
    assert (lead.status, lead.next_follow_up_on, lead.version) == (
        "contacted",
        next_week,
        2,
    )
    assert follow_up.recorded_by == sales_org.rep_a
    assert AuditEvent.objects.filter(object_id=str(lead.pk), note="follow-up").exists()


def test_the_next_date_is_the_newest_follow_ups(sales_org, make_lead):
    """An older follow-up entered late does not move the lead's next date back."""
    lead = make_lead(sales_org.rep_a, status=Lead.Status.QUALIFIED)
    now = timezone.now()
    in_3 = timezone.localdate() + datetime.timedelta(days=3)
    lead_follow_up_create(
        actor=sales_org.rep_a,
        lead=lead,
        data={"content": "拜访", "kind": "visit", "next_follow_up_on": in_3},
    )
    lead_follow_up_create(
        actor=sales_org.rep_a,
        lead=lead,
        data={
            "content": "上周的电话，补记",
            "occurred_at": now - datetime.timedelta(days=7),
            "next_follow_up_on": timezone.localdate(),
        },
    )
    lead.refresh_from_db()
    assert lead.next_follow_up_on == in_3
    assert lead.status == "qualified"  # only a new lead becomes contacted
    lead_follow_up_create(actor=sales_org.rep_a, lead=lead, data={"content": "已签"})
    lead.refresh_from_db()
    assert lead.next_follow_up_on is None
    assert LeadFollowUp.objects.filter(lead=lead).count() == 3


def test_follow_up_rules(sales_org, make_lead):
    lead = make_lead(sales_org.rep_a)
    with pytest.raises(Invalid) as exc:
        lead_follow_up_create(
            actor=sales_org.rep_a,
            lead=lead,
            data={
                "content": "",
                "kind": "smoke signal",
                "occurred_at": timezone.now() + datetime.timedelta(days=1),
                "next_follow_up_on": timezone.localdate(),
            },
        )
    assert {"content", "kind", "occurred_at"} <= set(exc.value.fields)
    with pytest.raises(Invalid) as exc:
        lead_follow_up_create(
            actor=sales_org.rep_a,
            lead=lead,
            data={
                "content": "x",
                "next_follow_up_on": timezone.localdate() - datetime.timedelta(days=1),
            },
        )
    assert "next_follow_up_on" in exc.value.fields
    assert not LeadFollowUp.objects.exists()
    lead.refresh_from_db()
    assert lead.status == "new"


def test_following_up_needs_the_permission(sales_org, make_lead):
    nobody = UserFactory(department=sales_org.east)
    lead = make_lead(nobody)
    with pytest.raises(Forbidden):
        lead_follow_up_create(actor=nobody, lead=lead, data={"content": "x"})
