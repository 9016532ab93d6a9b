"""X4 notification centre: notify() stores an in-app notification and e-mails it after the
commit, once per dedupe key; the bell counts the unread ones; a user sees, reads and marks
only their own notifications (pages and API)."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from crm.core.models import Notification
from crm.core.notifications import (
    notification_email_send,
    notification_mark_all_read,
    notify,
    unread_count,
)
from crm.core.tasks import send_notification_email
from crm.core.tests import pages

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def mail_in_process(monkeypatch):
    """The e-mail task runs in this process even when a real Celery worker is configured
    (CI): its outbox is the one the test reads."""
    monkeypatch.setattr(
        send_notification_email,
        "delay",
        lambda *args: send_notification_email.apply(args),
    )


@pytest.fixture
def rep(org):
    org.rep_a.email = "rep_a@example.com"
    org.rep_a.save(update_fields=["email"])
    return org.rep_a


# notify()


def test_notify_stores_the_notification_and_mails_it_after_commit(
    rep, settings, mail_in_process, django_capture_on_commit_callbacks
):
    """X4: in-app and by e-mail, from DEFAULT_FROM_EMAIL, with a link into the CRM."""
    settings.DEFAULT_FROM_EMAIL = "crm@example.com"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify(
            recipient=rep,
            title="客户张三明天生日",
            body="请准备贺卡。",
            url="/customers/1/",
            kind="test.birthday",
        )
    assert Notification.objects.get(recipient=rep).title == "客户张三明天生日"
    assert mail.outbox == []  # nothing is sent before the commit
    assert len(callbacks) == 1

    callbacks[0]()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rep_a@example.com"]
    assert message.from_email == "crm@example.com"
    assert message.subject == "客户张三明天生日"
    assert "请准备贺卡。" in message.body
    assert "http://127.0.0.1:8000/customers/1/" in message.body
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification.read_at is None


def test_a_rolled_back_notification_sends_nothing(
    rep, django_capture_on_commit_callbacks
):
    def notify_then_fail():
        with transaction.atomic():
            notify(recipient=rep, title="会回滚")
            raise RuntimeError

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        notify_then_fail()
    assert callbacks == []
    assert not Notification.objects.exists()


def test_dedupe_key_notifies_once_per_recipient(
    rep, org, mail_in_process, django_capture_on_commit_callbacks
):
    """A daily job that runs twice notifies once; another employee still gets theirs."""
    org.rep_b.email = "rep_b@example.com"
    org.rep_b.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(recipient=rep, title="生日提醒", dedupe_key="birthday:7:2027")
        again = notify(recipient=rep, title="生日提醒", dedupe_key="birthday:7:2027")
        other = notify(
            recipient=org.rep_b, title="生日提醒", dedupe_key="birthday:7:2027"
        )
    assert first is not None
    assert other is not None
    assert again is None
    assert Notification.objects.filter(recipient=rep).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == [
        "rep_a@example.com",
        "rep_b@example.com",
    ]


def test_the_database_refuses_a_second_row_with_the_same_dedupe_key(rep):
    """Two workers running the same job at once: the unique constraint decides."""
    Notification.objects.create(recipient=rep, title="a", dedupe_key="k")
    Notification.objects.create(recipient=rep, title="no key")
    Notification.objects.create(recipient=rep, title="no key either")  # "" repeats
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=rep, title="b", dedupe_key="k")


def test_a_duplicate_that_slips_past_the_check_leaves_the_callers_transaction_usable(
    rep, monkeypatch
):
    """The race: another worker inserted the row between the check and the insert."""
    real_filter = Notification.objects.filter

    class Racing:
        def exists(self):
            return False

    notify(recipient=rep, title="first", dedupe_key="race")
    monkeypatch.setattr(Notification.objects, "filter", lambda **kw: Racing())
    with transaction.atomic():
        assert notify(recipient=rep, title="second", dedupe_key="race") is None
        monkeypatch.setattr(Notification.objects, "filter", real_filter)
        assert Notification.objects.filter(recipient=rep).count() == 1  # still usable


def test_no_email_when_not_wanted_or_no_address(
    rep, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        notify(recipient=rep, title="only in the app", email=False)
        notify(recipient=org.rep_b, title="rep_b has no e-mail address")
    assert callbacks == []
    assert Notification.objects.count() == 2


def test_inactive_or_missing_recipients_are_not_notified(org):
    org.rep_c.is_active = False
    org.rep_c.save(update_fields=["is_active"])
    assert notify(recipient=org.rep_c, title="x") is None
    assert notify(recipient=None, title="x") is None
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["https://evil.example.com/", "//evil.example.com/x", "javascript:alert(1)", "x/y"],
)
def test_links_outside_the_crm_are_dropped(rep, url):
    assert notify(recipient=rep, title="x", url=url).url == ""


def test_the_email_is_sent_once_even_if_the_task_runs_twice(rep):
    notification = notify(recipient=rep, title="一次", email=False)
    assert notification_email_send(notification.pk) is True
    assert notification_email_send(notification.pk) is False
    assert notification_email_send(10**9) is False  # rolled back or purged meanwhile
    assert len(mail.outbox) == 1


def test_unread_count_is_one_query(rep, org, django_assert_num_queries):
    notify(recipient=rep, title="1", email=False)
    notify(recipient=rep, title="2", email=False)
    notify(recipient=org.rep_b, title="not mine", email=False)
    read = notify(recipient=rep, title="3", email=False)
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    with django_assert_num_queries(1):
        assert unread_count(rep) == 2


# Pages


def test_the_bell_shows_the_unread_count_on_every_page(rep, client_for):
    for i in range(3):
        notify(recipient=rep, title=f"n{i}", email=False)
    response = client_for(rep).get(reverse("home"))
    html = response.content.decode()
    assert 'id="crm-bell"' in html
    assert 'data-unread="3"' in html
    notification_mark_all_read(actor=rep)
    html = client_for(rep).get(reverse("home")).content.decode()
    assert 'id="crm-bell"' in html
    assert "data-unread" not in html


def test_the_bell_alone_refreshes(rep, client_for):
    notify(recipient=rep, title="n", email=False)
    response = client_for(rep).get(reverse("core:notification-bell"))
    assert response.status_code == 200
    assert 'data-unread="1"' in response.content.decode()


def test_the_page_lists_only_my_notifications(rep, org, client_for):
    notify(recipient=rep, title="我的提醒", body="内容", email=False)
    notify(recipient=org.rep_b, title="别人的提醒", email=False)
    response = client_for(rep).get(reverse("core:notifications"))
    text = pages.text(response)
    assert response.status_code == 200
    assert "我的提醒" in text
    assert "内容" in text
    assert "别人的提醒" not in text


def test_unread_filter(rep, client_for):
    notify(recipient=rep, title="未读的", email=False)
    read = notify(recipient=rep, title="已读的", email=False)
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    text = pages.text(client_for(rep).get(reverse("core:notifications") + "?unread=1"))
    assert "未读的" in text
    assert "已读的" not in text


def test_mark_one_read_with_htmx_returns_the_row_and_the_bell(rep, client_for):
    first = notify(recipient=rep, title="第一条", email=False)
    notify(recipient=rep, title="第二条", email=False)
    response = client_for(rep).post(
        reverse("core:notification-read", args=[first.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{first.pk}"' in html
    assert 'data-read="1"' in html
    assert 'hx-swap-oob="true"' in html
    assert 'data-unread="1"' in html
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_one_read_without_htmx_redirects(rep, client_for):
    notification = notify(recipient=rep, title="x", email=False)
    response = client_for(rep).post(
        reverse("core:notification-read", args=[notification.pk])
    )
    assert response.status_code == 302
    assert unread_count(rep) == 0


def test_mark_all_read(rep, org, client_for):
    for i in range(3):
        notify(recipient=rep, title=f"n{i}", email=False)
    notify(recipient=org.rep_b, title="rep_b's", email=False)
    response = client_for(rep).post(
        reverse("core:notifications-read-all"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert unread_count(rep) == 0
    assert unread_count(org.rep_b) == 1  # nobody else's


def test_opening_a_notification_marks_it_read_and_follows_its_link(rep, client_for):
    notification = notify(recipient=rep, title="x", url="/customers/5/", email=False)
    response = client_for(rep).get(
        reverse("core:notification-open", args=[notification.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/5/"
    notification.refresh_from_db()
    assert notification.is_read


def test_somebody_elses_notification_is_not_found(rep, org, client_for):
    theirs = notify(recipient=org.rep_b, title="x", email=False)
    client = client_for(rep)
    assert (
        client.post(reverse("core:notification-read", args=[theirs.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("core:notification-open", args=[theirs.pk])).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_reading_needs_post(rep, client_for):
    notification = notify(recipient=rep, title="x", email=False)
    client = client_for(rep)
    assert (
        client.get(
            reverse("core:notification-read", args=[notification.pk])
        ).status_code
        == 405
    )
    assert client.get(reverse("core:notifications-read-all")).status_code == 405


# API


def test_api_lists_my_notifications_only(rep, org, client_for):
    notify(recipient=rep, title="mine", email=False)
    read = notify(recipient=rep, title="mine, read", email=False)
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    notify(recipient=org.rep_b, title="theirs", email=False)
    client = client_for(rep)
    body = client.get("/api/v1/notifications/").json()
    assert sorted(n["title"] for n in body["results"]) == ["mine", "mine, read"]
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [n["title"] for n in unread["results"]] == ["mine"]
    assert unread["results"][0]["is_read"] is False


def test_api_refuses_a_bad_filter_value(rep, client_for):
    response = client_for(rep).get("/api/v1/notifications/?unread=maybe")
    assert response.status_code == 400
    assert "unread" in response.json()["fields"]


def test_api_marks_read(rep, org, client_for):
    mine = notify(recipient=rep, title="mine", email=False)
    theirs = notify(recipient=org.rep_b, title="theirs", email=False)
    client = client_for(rep)
    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200
    assert response.json()["is_read"] is True
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/notifications/abc/").status_code == 404
    notify(recipient=rep, title="another", email=False)
    response = client.post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 1, "unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_needs_a_login(client, rep):
    assert client.get("/api/v1/notifications/").status_code == 401
