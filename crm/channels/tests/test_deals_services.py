"""D10 rules: conflicts by the same customer, by the normalised name, by another
partner's exclusive territory; none after expiry; the decision and who is told."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from crm.channels.models import DealRegistration, Territory
from crm.channels.services.deals import (
    deal_decide,
    deal_register,
    deal_registrations_expire,
)
from crm.channels.tests.marketing_fixtures import D, mkt
from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import Notification
from crm.core.params import params_update
from crm.customers.models import Customer

__all__ = ["mkt"]
TODAY = D(2026, 6, 1)


def register(user, name="杭州华为技术有限公司", *, today=TODAY, **data):
    return deal_register(
        actor=user,
        data={
            "customer_name": name,
            "project": "挖掘机采购",
            "expected_amount": Decimal("500000"),
            **data,
        },
        today=today,
    )


def fresh(deal):
    return DealRegistration.objects.get(pk=deal.pk)


def notified(user, kind):
    return list(
        Notification.objects.filter(recipient=user, kind=kind).values_list(
            "title", flat=True
        )
    )


def test_first_registration_is_pending_with_a_number(mkt):
    deal = register(mkt.pa_user)
    assert deal.status == DealRegistration.Status.PENDING
    assert deal.number == "BB000001"
    assert deal.partner == mkt.partner_a
    assert deal.customer_key == "华为技术"
    assert deal.conflict_reason == ""


def test_hq_users_cannot_register(mkt):
    with pytest.raises(Forbidden):
        register(mkt.mgr_a)


def test_a_name_is_required(mkt):
    with pytest.raises(Invalid) as exc:
        register(mkt.pa_user, name="  ")
    assert "customer_name" in exc.value.fields


def test_same_partner_registering_twice_is_no_conflict(mkt):
    register(mkt.pa_user)
    assert register(mkt.pa_admin).status == DealRegistration.Status.PENDING


def test_same_normalised_name_by_another_partner_conflicts(mkt):
    """广州 and 杭州 prefixes and the legal form go: both are 华为技术."""
    first = register(mkt.pa_user, "杭州华为技术有限公司")
    with translation.override("en"):
        second = register(mkt.pc_admin, "华为技术（广州）有限公司")
    assert second.status == DealRegistration.Status.CONFLICT
    assert "already registered by 杭州恒通机械有限公司 (BB000001)" in (
        second.conflict_reason
    )
    assert list(second.conflicts_with.all()) == [first]
    first = fresh(first)
    assert first.status == DealRegistration.Status.CONFLICT
    assert "广州粤达机械设备有限公司" in first.conflict_reason
    # Both channel managers hear of it.
    assert notified(mkt.mgr_a, "channels.deal_conflict")
    assert notified(mkt.mgr_c, "channels.deal_conflict")


def test_same_linked_customer_conflicts_whatever_the_name(mkt):
    customer = Customer.objects.create(name="浙江三一重工有限公司", owner=mkt.rep_a)
    register(mkt.pa_user, "三一", customer=customer)
    second = register(mkt.pc_admin, "SANY 浙江项目部", customer=customer)
    assert second.status == DealRegistration.Status.CONFLICT


def test_different_customers_do_not_conflict(mkt):
    register(mkt.pa_user, "杭州华为技术有限公司")
    assert register(mkt.pc_admin, "中兴通讯股份有限公司").status == "pending"


def test_no_conflict_after_the_protection_expired(mkt):
    first = register(mkt.pa_user, today=D(2026, 1, 5))
    deal_decide(actor=mkt.mgr_a, deal=first, approve=True, today=D(2026, 1, 5))
    first = fresh(first)
    assert first.valid_until == D(2026, 4, 5)  # 90 days later
    # Still protected on the last day...
    on_last_day = register(mkt.pc_admin, today=D(2026, 4, 5))
    assert on_last_day.status == DealRegistration.Status.CONFLICT
    assert fresh(first).status == DealRegistration.Status.APPROVED
    deal_decide(actor=mkt.mgr_c, deal=on_last_day, approve=False)
    # ...and free the day after.
    after = register(mkt.pc_admin, today=D(2026, 4, 6))
    assert after.status == DealRegistration.Status.PENDING


def test_rejected_registrations_hold_nothing(mkt):
    first = register(mkt.pa_user)
    deal_decide(actor=mkt.mgr_a, deal=first, approve=False)
    assert register(mkt.pc_admin).status == DealRegistration.Status.PENDING


def test_region_inside_another_partners_exclusive_territory_conflicts(mkt):
    Territory.objects.create(
        partner=mkt.partner_c,
        region=mkt.zhejiang,
        exclusive=True,
        starts_on=D(2026, 1, 1),
        ends_on=D(2026, 12, 31),
    )
    with translation.override("en"):
        deal = register(mkt.pa_user, "西湖建设集团", region=mkt.xihu)
    assert deal.status == DealRegistration.Status.CONFLICT
    assert deal.conflict_reason == (
        "西湖区 is in the exclusive territory of 广州粤达机械设备有限公司."
    )
    assert notified(mkt.mgr_c, "channels.deal_conflict")
    # The territory holder itself registers there freely.
    assert register(mkt.pc_admin, "另一家", region=mkt.xihu).status == "pending"


@pytest.mark.parametrize(
    ("exclusive", "starts_on", "ends_on"),
    [
        (False, D(2026, 1, 1), None),  # not exclusive
        (True, D(2026, 7, 1), None),  # starts later
        (True, D(2025, 1, 1), D(2026, 5, 31)),  # ended the day before
    ],
)
def test_territories_not_in_force_or_not_exclusive_do_not_conflict(
    mkt, exclusive, starts_on, ends_on
):
    Territory.objects.create(
        partner=mkt.partner_c,
        region=mkt.hangzhou,
        exclusive=exclusive,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    deal = register(mkt.pa_user, "西湖建设集团", region=mkt.xihu)
    assert deal.status == DealRegistration.Status.PENDING


def test_a_territory_below_the_region_is_no_conflict(mkt):
    """A registration for all of 浙江 is not inside a 西湖区 territory."""
    Territory.objects.create(
        partner=mkt.partner_c, region=mkt.xihu, starts_on=D(2026, 1, 1)
    )
    assert register(mkt.pa_user, region=mkt.zhejiang).status == "pending"


def test_approving_one_rejects_the_competitors_and_tells_them(mkt):
    first = register(mkt.pa_user)
    second = register(mkt.pc_admin, "华为技术有限公司")
    params_update(actor=mkt.admin, values={"deal_protection_days": 30})
    with translation.override("en"):
        deal_decide(
            actor=mkt.manager, deal=second, approve=True, note="粤达先接触", today=TODAY
        )
    second, first = fresh(second), fresh(first)
    assert second.status == DealRegistration.Status.APPROVED
    assert second.valid_until == TODAY + datetime.timedelta(days=30)
    assert second.decided_by == mkt.manager
    assert first.status == DealRegistration.Status.REJECTED
    assert "given to 广州粤达机械设备有限公司 (BB000002)" in first.decision_note
    assert "粤达先接触" in first.decision_note
    # Every user of the losing partner is told, with the reason; the winner's are not.
    for user in (mkt.pa_user, mkt.pa_admin):
        (title,) = Notification.objects.filter(
            recipient=user, kind="channels.deal_decided"
        ).values_list("title", flat=True)
        assert "BB000001" in title
        assert Notification.objects.get(
            recipient=user, kind="channels.deal_decided"
        ).body.startswith("华为技术有限公司 was given to")
    assert not notified(mkt.pc_admin, "channels.deal_decided")


def test_deciding_twice_is_a_conflict(mkt):
    first = register(mkt.pa_user)
    second = register(mkt.pc_admin, "华为技术")
    deal_decide(actor=mkt.admin, deal=first, approve=True)
    with pytest.raises(Conflict):
        deal_decide(actor=mkt.admin, deal=first, approve=True)
    with pytest.raises(Conflict):
        deal_decide(actor=mkt.admin, deal=second, approve=False)


def test_rejecting_tells_the_partner(mkt):
    deal = register(mkt.pa_user)
    deal_decide(actor=mkt.mgr_a, deal=deal, approve=False, note="信息不全")
    deal = fresh(deal)
    assert deal.status == DealRegistration.Status.REJECTED
    assert deal.decision_note == "信息不全"
    assert notified(mkt.pa_user, "channels.deal_decided")


def test_deciding_needs_the_special_permission(mkt):
    deal = register(mkt.pa_user)
    mkt.rep_a.groups.clear()
    with pytest.raises(Forbidden):
        deal_decide(actor=mkt.rep_a, deal=deal, approve=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)
def test_simultaneous_registrations_of_one_customer_both_see_the_conflict(mkt):
    """Two partners register 华为技术 at the same moment: registrations are checked one
    after the other (the number sequence row is locked), so the second sees the first."""
    barrier = threading.Barrier(2)
    done = []

    def run(user):
        try:
            barrier.wait()
            done.append(register(user).pk)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(u,)) for u in (mkt.pa_user, mkt.pc_admin)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(DealRegistration.objects.values_list("status", flat=True))
    assert len(done) == 2
    assert statuses == ["conflict", "conflict"]


def test_expiry_job_marks_ended_protection_expired_once(mkt):
    deal = register(mkt.pa_user, today=D(2026, 1, 5))
    deal_decide(actor=mkt.mgr_a, deal=deal, approve=True, today=D(2026, 1, 5))
    assert deal_registrations_expire(today=D(2026, 4, 5)) == 0  # last protected day
    assert deal_registrations_expire(today=D(2026, 4, 6)) == 1
    assert fresh(deal).status == DealRegistration.Status.EXPIRED
    assert deal_registrations_expire(today=D(2026, 4, 7)) == 0
    # An expired registration holds nothing.
    assert register(mkt.pc_admin, today=D(2026, 4, 7)).status == "pending"


def test_the_expiry_task_runs_the_job_and_is_scheduled(mkt, settings):
    from crm.channels.tasks import expire_deal_registrations

    deal = register(mkt.pa_user, today=D(2026, 1, 5))
    deal_decide(actor=mkt.mgr_a, deal=deal, approve=True, today=D(2026, 1, 5))
    # apply(): the task body in this process, on the test database.
    assert expire_deal_registrations.apply(args=["2026-04-06"]).get() == 1
    assert fresh(deal).status == DealRegistration.Status.EXPIRED
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "crm.channels.tasks.expire_deal_registrations" in tasks
