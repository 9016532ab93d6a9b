"""S6 / X3 daily job: due-soon and overdue reminders, in the app and by e-mail, once."""

import datetime

import pytest
from django.core import mail

from crm.core.models import Notification
from crm.core.params import params_update
from crm.sales.services.payments import receivable_reminders_send
from crm.sales.tasks import send_receivable_reminders
from crm.sales.tests.payments_fixtures import receivable

TODAY = datetime.date(2026, 3, 10)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def reminders(sales_org):
    """Seven days ahead; rep_a has an e-mail address."""
    params_update(actor=sales_org.admin, values={"receivable_reminder_days": 7})
    sales_org.rep_a.email = "liu@example.com"
    sales_org.rep_a.save()
    return sales_org


def send(today, capture):
    with capture(execute=True):
        return receivable_reminders_send(today=today)


def keys() -> set[str]:
    return set(Notification.objects.values_list("dedupe_key", flat=True))


def test_due_within_the_reminder_days_is_reminded_once(
    reminders, django_capture_on_commit_callbacks
):
    rep = reminders.rep_a
    soon = receivable(rep, "5000.00", due_on=days(7))
    today = receivable(rep, due_on=days(0))
    later = receivable(rep, due_on=days(8))  # not yet

    assert send(TODAY, django_capture_on_commit_callbacks) == 2

    assert keys() == {
        f"sales.receivable.due:{soon.pk}:{days(7)}",
        f"sales.receivable.due:{today.pk}:{days(0)}",
    }
    notification = Notification.objects.get(dedupe_key__contains=f":{soon.pk}:")
    assert notification.recipient == rep
    assert notification.url == f"/sales/receivables/{soon.pk}/"
    assert "5,000.00" in notification.title
    assert len(mail.outbox) == 2
    assert mail.outbox[0].to == ["liu@example.com"]

    # Twice a day: nobody is told again.
    assert send(TODAY, django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 2
    # The next day: `later` comes within 7 days, `today` is overdue; `soon` is quiet.
    assert send(days(1), django_capture_on_commit_callbacks) == 2
    assert keys() - {
        f"sales.receivable.due:{soon.pk}:{days(7)}",
        f"sales.receivable.due:{today.pk}:{days(0)}",
    } == {
        f"sales.receivable.due:{later.pk}:{days(8)}",
        f"sales.receivable.overdue:{today.pk}:{days(0)}:0",
    }


def test_overdue_on_the_first_day_then_weekly(
    reminders, django_capture_on_commit_callbacks
):
    instalment = receivable(reminders.rep_a, due_on=TODAY)
    sent = {n: send(days(n), django_capture_on_commit_callbacks) for n in range(0, 17)}
    # Due-soon on days 0 (its due day, reminded once); overdue on days 1, 8 and 15.
    assert [n for n, count in sent.items() if count] == [0, 1, 8, 15]
    assert {k for k in keys() if "overdue" in k} == {
        f"sales.receivable.overdue:{instalment.pk}:{TODAY}:0",
        f"sales.receivable.overdue:{instalment.pk}:{TODAY}:1",
        f"sales.receivable.overdue:{instalment.pk}:{TODAY}:2",
    }
    assert len(mail.outbox) == 4


def test_a_day_the_job_did_not_run_is_caught_up(
    reminders, django_capture_on_commit_callbacks
):
    receivable(reminders.rep_a, due_on=days(-12))  # overdue week 1 (days 8–14)
    assert send(TODAY, django_capture_on_commit_callbacks) == 1
    assert send(days(1), django_capture_on_commit_callbacks) == 0
    assert send(days(3), django_capture_on_commit_callbacks) == 1  # day 15: week 2


def test_paid_closed_and_ownerless_instalments_are_left_out(
    reminders, django_capture_on_commit_callbacks
):
    rep = reminders.rep_a
    receivable(rep, "100.00", received="100.00", due_on=days(-1))  # paid
    receivable(rep, due_on=days(-1), is_open=False)  # not a receivable yet
    orphan = receivable(rep, due_on=days(-1))
    orphan.owner = None
    orphan.save()
    partly = receivable(rep, "100.00", received="40.00", due_on=days(-1))

    assert send(TODAY, django_capture_on_commit_callbacks) == 1
    assert keys() == {f"sales.receivable.overdue:{partly.pk}:{days(-1)}:0"}
    assert "60.00" in Notification.objects.get().title


def test_the_reminder_days_parameter_is_read(
    reminders, django_capture_on_commit_callbacks
):
    params_update(actor=reminders.admin, values={"receivable_reminder_days": 30})
    receivable(reminders.rep_a, due_on=days(30))
    assert send(TODAY, django_capture_on_commit_callbacks) == 1


def test_the_task_runs_the_job_for_a_given_day(
    reminders, django_capture_on_commit_callbacks
):
    receivable(reminders.rep_a, due_on=days(3))
    # apply(): the task body in this process, on the test database (a real worker
    # under CI would read the development database instead).
    with django_capture_on_commit_callbacks(execute=True):
        assert send_receivable_reminders.apply(args=[TODAY.isoformat()]).get() == 1
    assert len(mail.outbox) == 1


def test_the_daily_job_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "crm.sales.tasks.send_receivable_reminders" in tasks


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
