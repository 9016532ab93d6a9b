"""S1 lead assignment: by hand (sales.assign_lead, active employees only, the assignee
notified) and by rule (round robin among a department's active employees in id order,
going on after the last one; a source's rule before the rule for every source), the
rule pages, and the rule row lock under concurrency."""

import threading

import pytest
from django.db import connection, transaction

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent, Notification
from crm.org.tests.factories import DepartmentFactory, UserFactory
from crm.sales.models import AssignmentRule, Lead
from crm.sales.services.leads import (
    assignment_rule_create,
    lead_assign,
    lead_assign_by_rule,
    lead_create,
    lead_submit_web_form,
)
from crm.sales.tests.leads_fixtures import *  # noqa: F403
from crm.sales.tests.leads_fixtures import east_team

pytestmark = pytest.mark.usefixtures("english")


def web_lead(name="访客"):
    return lead_submit_web_form(
        data={"name": name, "mobile": "13912345678"}, ip="203.0.113.7"
    )


# Round robin


def test_round_robin_in_id_order_skipping_inactive_and_wrapping(sales_org, make_rule):
    team = east_team(sales_org)  # ids after manager and rep_a, both in east
    team[1].is_active = False
    team[1].save()
    make_rule(source="")
    owners = [web_lead(f"访客{i}").owner for i in range(5)]
    cycle = [sales_org.manager, sales_org.rep_a, team[0], team[2]]
    assert owners == [*cycle, cycle[0]]
    assert AssignmentRule.objects.get().last_assigned == cycle[0]


def test_the_turn_goes_on_after_the_last_assigned(sales_org, make_rule):
    east_team(sales_org)
    make_rule(source="", last_assigned=sales_org.rep_a)
    lead = web_lead()
    assert lead.owner.username == "east0"
    # The last one left meanwhile: the next in id order after them.
    sales_org.rep_a.is_active = False
    sales_org.rep_a.save()
    rule = AssignmentRule.objects.get()
    rule.last_assigned = sales_org.manager
    rule.save()
    assert web_lead().owner.username == "east0"


def test_sub_departments_only_when_the_rule_says_so(sales_org, make_rule):
    rule = make_rule(source="", last_assigned=sales_org.rep_a)
    assert web_lead().owner == sales_org.manager  # rep_b's office is not in it
    rule.include_subdepartments = True
    rule.save()
    rule.last_assigned = sales_org.rep_a
    rule.save()
    assert web_lead().owner == sales_org.rep_b


def test_a_sources_rule_comes_before_the_rule_for_every_source(sales_org, make_rule):
    make_rule(source="", department=sales_org.south)
    make_rule(source=Lead.Source.WEB_FORM, department=sales_org.east_office)
    assert web_lead().owner == sales_org.rep_b
    other = lead_create(
        actor=sales_org.rep_a, data={"name": "展会", "source": "campaign"}, route=True
    )
    assert other.owner == sales_org.rep_c
    assert other.department == sales_org.south


def test_without_a_rule_a_web_lead_has_no_owner(sales_org, make_rule):
    make_rule(source="", is_active=False)
    lead = web_lead()
    assert (lead.owner, lead.department, lead.assigned_at) == (None, None, None)
    assert not Notification.objects.exists()


def test_a_rule_over_a_department_without_active_people_assigns_nobody(
    sales_org, make_rule
):
    empty = DepartmentFactory(name="空部门", parent=sales_org.group)
    make_rule(source="", department=empty)
    assert web_lead().owner is None


def test_the_assignee_is_notified(sales_org, make_rule):
    make_rule(source="", department=sales_org.south)
    lead = web_lead("王先生")
    note = Notification.objects.get(recipient=sales_org.rep_c)
    assert lead.number in note.title
    assert note.kind == "sales.lead_assigned"


def test_one_active_rule_per_source(sales_org, lead_manager, make_rule):
    make_rule(source="web_form")
    with pytest.raises(Invalid):
        assignment_rule_create(
            actor=lead_manager,
            data={"name": "第二条", "department": sales_org.east, "source": "web_form"},
        )
    rule = assignment_rule_create(
        actor=lead_manager,
        data={
            "name": "停用",
            "department": sales_org.east,
            "source": "web_form",
            "is_active": False,
        },
    )
    assert not rule.is_active
    with pytest.raises(Forbidden):
        assignment_rule_create(
            actor=sales_org.rep_a, data={"name": "x", "department": sales_org.east}
        )


# By hand


def test_assigning_by_hand_needs_the_permission(sales_org, lead_manager, make_lead):
    lead = make_lead(sales_org.rep_a)
    with pytest.raises(Forbidden):
        lead_assign(actor=sales_org.rep_a, lead=lead, owner=sales_org.rep_b)
    lead = lead_assign(actor=lead_manager, lead=lead, owner=sales_org.rep_b)
    lead.refresh_from_db()
    assert (lead.owner, lead.department, lead.version) == (
        sales_org.rep_b,
        sales_org.east_office,
        2,
    )
    assert lead.assigned_at is not None
    assert Notification.objects.filter(recipient=sales_org.rep_b).count() == 1
    event = AuditEvent.objects.get(object_id=str(lead.pk), note="assign")
    assert event.changes["owner"] == [sales_org.rep_a.pk, sales_org.rep_b.pk]


def test_only_to_active_employees(sales_org, lead_manager, make_lead):
    lead = make_lead(sales_org.rep_a)
    gone = UserFactory(department=sales_org.east, is_active=False)
    with pytest.raises(Invalid) as exc:
        lead_assign(actor=lead_manager, lead=lead, owner=gone)
    assert "owner" in exc.value.fields
    lead.refresh_from_db()
    assert lead.owner == sales_org.rep_a


def test_a_converted_lead_is_not_reassigned(sales_org, lead_manager, make_lead):
    lead = make_lead(sales_org.rep_a, status=Lead.Status.CONVERTED)
    with pytest.raises(Conflict):
        lead_assign(actor=lead_manager, lead=lead, owner=sales_org.rep_b)


def test_reassign_by_rule(sales_org, lead_manager, make_lead, make_rule):
    lead = make_lead(sales_org.rep_a, source="campaign")
    with pytest.raises(Invalid):
        lead_assign_by_rule(actor=lead_manager, lead=lead)
    make_rule(source="campaign", department=sales_org.south)
    with pytest.raises(Forbidden):
        lead_assign_by_rule(actor=sales_org.rep_a, lead=lead)
    lead = lead_assign_by_rule(actor=lead_manager, lead=lead)
    assert lead.owner == sales_org.rep_c
    assert AuditEvent.objects.filter(
        object_id=str(lead.pk), note="assign by rule"
    ).exists()


# Pages


def test_assign_pages(sales_org, lead_manager, make_lead, client_for, make_rule):
    lead = make_lead(sales_org.rep_a)
    url = f"/sales/leads/{lead.pk}/assign/"
    assert (
        client_for(sales_org.rep_a).post(url, {"owner": sales_org.rep_b.pk}).status_code
        == 403
    )
    response = client_for(lead_manager).post(url, {"owner": sales_org.rep_b.pk})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == sales_org.rep_b
    make_rule(source="", department=sales_org.south)
    response = client_for(lead_manager).post(f"/sales/leads/{lead.pk}/assign-by-rule/")
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == sales_org.rep_c
    # rep_c is now outside the manager's east subtree: the lead is out of sight.
    assert client_for(lead_manager).get(f"/sales/leads/{lead.pk}/").status_code == 404


def test_rule_pages_need_the_rule_permissions(sales_org, lead_manager, client_for):
    rep = client_for(sales_org.rep_a)
    assert rep.get("/sales/leads/rules/").status_code == 403
    assert rep.get("/sales/leads/rules/new/").status_code == 403
    manager = client_for(lead_manager)
    assert manager.get("/sales/leads/rules/").status_code == 200
    response = manager.post(
        "/sales/leads/rules/new/",
        {
            "name": "官网线索",
            "source": "web_form",
            "department": sales_org.east.pk,
            "include_subdepartments": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert (rule.source, rule.include_subdepartments) == ("web_form", True)
    page = manager.get(f"/sales/leads/rules/{rule.pk}/")
    assert page.status_code == 200
    assert (
        "rep_b" in page.content.decode()
        or sales_org.rep_b.name in page.content.decode()
    )
    # A second active rule for the same source is refused with the reason.
    response = manager.post(
        "/sales/leads/rules/new/",
        {
            "name": "第二条",
            "source": "web_form",
            "department": sales_org.south.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 400
    assert "Another active rule already assigns leads of this source." in (
        response.content.decode()
    )
    assert AssignmentRule.objects.count() == 1


# Concurrency: the rule row is locked until the lead's transaction commits.


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_leads_go_to_different_people(org):
    AssignmentRule.objects.create(name="全部", department=org.east, source="")
    first_holds = threading.Event()
    release = threading.Event()
    owners = {}

    def first():
        try:
            with transaction.atomic():
                owners["first"] = web_lead("一").owner
                first_holds.set()
                release.wait(10)
        finally:
            connection.close()

    def second():
        try:
            first_holds.wait(10)
            owners["second"] = web_lead("二").owner
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_holds.wait(10)
    # The second lead waits on the rule row while the first transaction holds it.
    threads[1].join(0.5)
    assert threads[1].is_alive()
    release.set()
    for t in threads:
        t.join(10)
    assert owners["first"] != owners["second"]
    assert {owners["first"], owners["second"]} == {org.manager, org.rep_a}
