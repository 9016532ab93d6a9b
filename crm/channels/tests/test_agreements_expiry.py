"""D2 daily job: channel managers are warned of agreements about to expire (once per
agreement, N days ahead by parameter) and agreements past their end become expired."""

import datetime

import pytest
from django.conf import settings
from django.core import mail

from crm.channels.models import Agreement
from crm.channels.services.agreements import agreements_expiry_run
from crm.channels.tasks import warn_expiring_agreements
from crm.channels.tests.agreements_fixtures import make_agreement
from crm.core.models import AuditEvent, Notification
from crm.core.params import params_update

TODAY = datetime.date(2026, 11, 20)
S = Agreement.Status


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def _mail_in_process(monkeypatch):
    """The e-mail task runs in this process even when a real Celery worker is configured
    (CI sets REDIS_URL): its outbox is the one these tests read."""
    from crm.core.tasks import send_notification_email

    monkeypatch.setattr(
        send_notification_email,
        "delay",
        lambda *args: send_notification_email.apply(args),
    )


@pytest.fixture
def expiry(channel_org):
    """Warn 10 days ahead; mgr_a and mgr_c have e-mail addresses."""
    params_update(actor=channel_org.admin, values={"agreement_expiry_warning_days": 10})
    for user, address in (
        (channel_org.mgr_a, "zhou@example.com"),
        (channel_org.mgr_c, "wu@example.com"),
    ):
        user.email = address
        user.save()
    return channel_org


def run(today, capture):
    with capture(execute=True):
        return warn_expiring_agreements.apply(kwargs={"today": today.isoformat()}).get()


def test_the_beat_schedule_runs_the_job_daily():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "crm.channels.tasks.warn_expiring_agreements"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert schedule.hour == {7}
    assert schedule.day_of_week == set(range(7))


def test_channel_managers_are_warned_once_within_the_days(
    expiry, django_capture_on_commit_callbacks
):
    org = expiry
    soon = make_agreement(
        org.partner_a, number="XY000101", starts_on=days(-300), ends_on=days(10)
    )
    today = make_agreement(org.partner_c, starts_on=days(-300), ends_on=days(0))
    later = make_agreement(org.partner_a2, starts_on=days(-300), ends_on=days(11))
    make_agreement(  # a draft is not in force: no warning
        org.partner_a, status=S.DRAFT, starts_on=days(-10), ends_on=days(5)
    )

    assert run(TODAY, django_capture_on_commit_callbacks) == {
        "expired": 0,
        "warned": 2,
    }

    warned = Notification.objects.order_by("recipient__username")
    assert [(n.recipient, n.url) for n in warned] == [
        (org.mgr_a, f"/channels/agreements/{soon.pk}/"),
        (org.mgr_c, f"/channels/agreements/{today.pk}/"),
    ]
    assert set(warned.values_list("dedupe_key", flat=True)) == {
        f"channels.agreement.expiry:{soon.pk}:{days(10)}",
        f"channels.agreement.expiry:{today.pk}:{days(0)}",
    }
    assert "XY000101" in warned[0].title
    assert sorted(m.to[0] for m in mail.outbox) == [
        "wu@example.com",
        "zhou@example.com",
    ]
    soon.refresh_from_db()
    assert soon.expiry_notified_on == TODAY

    # Twice a day, or the next days: nobody is told twice; `later` comes in range.
    assert run(TODAY, django_capture_on_commit_callbacks)["warned"] == 0
    assert run(days(1), django_capture_on_commit_callbacks)["warned"] == 1
    assert run(days(2), django_capture_on_commit_callbacks)["warned"] == 0
    assert Notification.objects.count() == 3
    assert len(mail.outbox) == 3
    later.refresh_from_db()
    assert later.expiry_notified_on == days(1)


def test_the_days_come_from_the_parameter(expiry, django_capture_on_commit_callbacks):
    org = expiry
    agreement = make_agreement(org.partner_a, starts_on=days(-300), ends_on=days(30))
    assert run(TODAY, django_capture_on_commit_callbacks)["warned"] == 0
    params_update(actor=org.admin, values={"agreement_expiry_warning_days": 30})
    assert run(TODAY, django_capture_on_commit_callbacks)["warned"] == 1
    agreement.refresh_from_db()
    assert agreement.expiry_notified_on == TODAY


def test_agreements_past_their_end_expire(expiry, django_capture_on_commit_callbacks):
    org = expiry
    ended = make_agreement(org.partner_a, starts_on=days(-365), ends_on=days(-1))
    last_day = make_agreement(org.partner_a2, starts_on=days(-365), ends_on=days(0))
    terminated = make_agreement(
        org.partner_c, status=S.TERMINATED, starts_on=days(-365), ends_on=days(-30)
    )

    result = run(TODAY, django_capture_on_commit_callbacks)

    assert result["expired"] == 1
    ended.refresh_from_db()
    last_day.refresh_from_db()
    terminated.refresh_from_db()
    assert ended.status == S.EXPIRED
    assert ended.version == 2
    assert last_day.status == S.ACTIVE  # its last day is still in force
    assert terminated.status == S.TERMINATED
    event = AuditEvent.objects.filter(object_id=str(ended.pk), action="expire").get()
    assert event.changes["status"] == ["active", "expired"]
    assert event.actor is None
    # An expired agreement is not warned of; the next day the other one expires too.
    assert not Notification.objects.filter(url__endswith=f"/{ended.pk}/").exists()
    assert run(days(1), django_capture_on_commit_callbacks)["expired"] == 1
    last_day.refresh_from_db()
    assert last_day.status == S.EXPIRED


def test_the_service_takes_today(expiry, django_capture_on_commit_callbacks):
    make_agreement(expiry.partner_a, starts_on=days(-100), ends_on=days(3))
    with django_capture_on_commit_callbacks(execute=True):
        assert agreements_expiry_run(today=days(-20)) == {"expired": 0, "warned": 0}
        assert agreements_expiry_run(today=days(-7)) == {"expired": 0, "warned": 1}
        assert agreements_expiry_run(today=days(4)) == {"expired": 1, "warned": 0}
