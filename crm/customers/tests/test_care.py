"""C6 customer care: birthday reminders N days ahead (in the app and by e-mail, once per
birthday, 29 February handled); X5: the calendar feed's birthdays and planned follow-ups,
and vCards of contacts (scope, field rights, Chinese names intact)."""

import datetime

import icalendar
import pytest
import vobject
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from crm.core.calendar import calendar_feed_regenerate
from crm.core.models import Notification, SystemParameter
from crm.core.params import CACHE_KEY
from crm.core.scopes import DataScope
from crm.core.tasks import send_notification_email
from crm.customers import care
from crm.customers.models import Activity, Contact, PoolEntry
from crm.customers.tests import care_fixtures
from crm.customers.tests.care_fixtures import ACTIVITY
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.org.tests.factories import UserFactory, make_role

pytestmark = pytest.mark.usefixtures("english")
team = care_fixtures.team  # the roles of these tests (a fixture)

TODAY = datetime.date(2027, 3, 10)


def reminder_days(n: int) -> None:
    SystemParameter.objects.update_or_create(
        key="birthday_reminder_days", defaults={"value": n}
    )
    cache.delete(CACHE_KEY)


def born(month: int, day: int, year: int = 1985) -> datetime.date:
    return datetime.date(year, month, day)


@pytest.fixture
def mail_in_process(monkeypatch):
    monkeypatch.setattr(
        send_notification_email, "delay", lambda *a: send_notification_email.apply(a)
    )


@pytest.fixture
def acme(team):
    team.rep_a.email = "rep_a@example.com"
    team.rep_a.save()
    return CustomerFactory(owner=team.rep_a, name="北京华为技术有限公司")


# Birthday reminders


def test_a_birthday_n_days_ahead_is_announced_once(
    team, acme, mail_in_process, django_capture_on_commit_callbacks
):
    """C6: 3 days ahead, to the responsible employee, in the app and by e-mail; the job
    running again (the same day or the next ones) does not repeat it."""
    reminder_days(3)
    contact = ContactFactory(
        customer=acme,
        name="张三",
        birthday=born(3, 13),
        responsible=team.rep_a,
        hobbies="羽毛球",
    )
    ContactFactory(
        customer=acme, name="李四", birthday=born(3, 14), responsible=team.rep_a
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert care.birthday_reminders_send(today=TODAY) == 1
    notice = Notification.objects.get(recipient=team.rep_a)
    assert "张三" in notice.title
    assert "北京华为技术有限公司" in notice.title
    assert "羽毛球" in notice.body
    assert notice.url == reverse("customers:contact-detail", args=[contact.pk])
    assert notice.dedupe_key == f"customers.birthday:{contact.pk}:2027-03-13"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rep_a@example.com"]
    assert "张三" in mail.outbox[0].subject
    assert care.birthday_reminders_send(today=TODAY) == 0
    # Next day: 李四 (14 March) is now 3 days ahead; 张三 is not told again.
    assert care.birthday_reminders_send(today=TODAY + datetime.timedelta(days=1)) == 1
    assert Notification.objects.filter(recipient=team.rep_a).count() == 2


def test_a_missed_day_is_caught_up(team, acme):
    reminder_days(3)
    ContactFactory(customer=acme, birthday=born(3, 11), responsible=team.rep_a)
    ContactFactory(customer=acme, birthday=born(3, 10), responsible=team.rep_a)
    ContactFactory(customer=acme, birthday=born(3, 9), responsible=team.rep_a)  # past
    assert care.birthday_reminders_send(today=TODAY) == 2


def test_zero_days_means_on_the_day(team, acme):
    reminder_days(0)
    ContactFactory(customer=acme, birthday=born(3, 10), responsible=team.rep_a)
    ContactFactory(customer=acme, birthday=born(3, 11), responsible=team.rep_a)
    assert care.birthday_reminders_send(today=TODAY) == 1


def test_without_a_responsible_employee_the_owner_hears(team, acme):
    reminder_days(3)
    ContactFactory(customer=acme, birthday=born(3, 12), responsible=None)
    care.birthday_reminders_send(today=TODAY)
    assert Notification.objects.filter(recipient=team.rep_a).count() == 1


def test_the_responsible_employee_rather_than_the_owner(team, acme):
    reminder_days(3)
    ContactFactory(customer=acme, birthday=born(3, 12), responsible=team.rep_b)
    care.birthday_reminders_send(today=TODAY)
    assert Notification.objects.filter(recipient=team.rep_b).count() == 1
    assert not Notification.objects.filter(recipient=team.rep_a).exists()


def test_29_february_in_a_year_without_it(team, acme):
    """Celebrated on 28 February: told 3 days before that, once."""
    reminder_days(3)
    ContactFactory(customer=acme, birthday=born(2, 29, 1988), responsible=team.rep_a)
    assert care.birthday_reminders_send(today=datetime.date(2027, 2, 24)) == 0
    assert care.birthday_reminders_send(today=datetime.date(2027, 2, 25)) == 1
    assert care.birthday_reminders_send(today=datetime.date(2027, 2, 26)) == 0
    assert Notification.objects.get().dedupe_key.endswith(":2027-02-28")


def test_29_february_in_a_leap_year(team, acme):
    reminder_days(3)
    leap = ContactFactory(
        customer=acme, birthday=born(2, 29, 1988), responsible=team.rep_a
    )
    eve = ContactFactory(
        customer=acme, birthday=born(2, 28, 1990), responsible=team.rep_a
    )
    assert (
        care.birthday_reminders_send(today=datetime.date(2028, 2, 25)) == 1
    )  # the 28th
    assert (
        care.birthday_reminders_send(today=datetime.date(2028, 2, 26)) == 1
    )  # the 29th
    keys = set(Notification.objects.values_list("dedupe_key", flat=True))
    assert keys == {
        f"customers.birthday:{eve.pk}:2028-02-28",
        f"customers.birthday:{leap.pk}:2028-02-29",
    }


def test_across_the_new_year(team, acme):
    reminder_days(5)
    contact = ContactFactory(customer=acme, birthday=born(1, 2), responsible=team.rep_a)
    assert care.birthday_reminders_send(today=datetime.date(2027, 12, 29)) == 1
    assert (
        Notification.objects.get().dedupe_key
        == f"customers.birthday:{contact.pk}:2028-01-02"
    )


def test_customers_nobody_looks_after_are_left_out(team, acme):
    """In the public pool, the recycle bin, or merged away."""
    reminder_days(3)
    pooled = CustomerFactory(owner=None, department=team.east)
    PoolEntry.objects.create(customer=pooled, reason="idle", former_owner=team.rep_a)
    deleted = CustomerFactory(owner=team.rep_a, deleted_at=timezone.now())
    merged = CustomerFactory(owner=team.rep_a, merged_into=acme)
    for customer in (pooled, deleted, merged):
        ContactFactory(customer=customer, birthday=born(3, 12), responsible=team.rep_a)
    assert care.birthday_reminders_send(today=TODAY) == 0


def test_an_inactive_employee_is_not_told(team, acme):
    reminder_days(3)
    team.rep_a.is_active = False
    team.rep_a.save()
    ContactFactory(customer=acme, birthday=born(3, 12), responsible=team.rep_a)
    assert care.birthday_reminders_send(today=TODAY) == 0


def test_the_daily_jobs_are_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "crm.customers.tasks.send_birthday_reminders" in tasks
    assert "crm.customers.tasks.recycle_idle_customers" in tasks


# Calendar feed


def feed_events(client, user) -> dict[str, icalendar.Event]:
    token = calendar_feed_regenerate(actor=user).token
    response = client.get(reverse("core:calendar-ics", args=[token]))
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_has_my_contacts_birthdays(team, acme, client):
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=20)
    mine = ContactFactory(
        customer=acme,
        name="王五",
        birthday=soon.replace(year=1980),
        responsible=team.rep_a,
    )
    ContactFactory(
        customer=acme,
        name="赵六",
        birthday=soon.replace(year=1981),
        responsible=team.rep_b,
    )
    events = feed_events(client, team.rep_a)
    birthday = events[f"customers-birthday-{mine.pk}-{soon.year}@crm"]
    assert "王五" in str(birthday["SUMMARY"])
    assert "北京华为技术有限公司" in str(birthday["SUMMARY"])
    assert birthday.decoded("DTSTART") == soon
    assert not any("赵六" in str(e["SUMMARY"]) for e in events.values())


def test_no_birthdays_when_they_are_hidden_from_me(org, client):
    role = make_role(
        "看不到生日",
        *ACTIVITY,
        scope=DataScope.OWN,
        field_rights={"customers.contact": {"birthday": "hidden"}},
    )
    rep = UserFactory(department=org.east, roles=[role])
    customer = CustomerFactory(owner=rep)
    ContactFactory(customer=customer, birthday=timezone.localdate(), responsible=rep)
    assert feed_events(client, rep) == {}


def test_the_feed_has_the_planned_follow_ups_of_my_customers(team, acme, client):
    today = timezone.localdate()
    contact = ContactFactory(customer=acme, name="张三")
    Activity.objects.create(
        customer=acme,
        content="旧计划",
        occurred_at=timezone.now() - datetime.timedelta(days=9),
        next_follow_up_on=today + datetime.timedelta(days=1),
    )
    latest = Activity.objects.create(
        customer=acme,
        contact=contact,
        kind="visit",
        content="谈了价格, 下周回复",
        occurred_at=timezone.now() - datetime.timedelta(days=2),
        next_follow_up_on=today + datetime.timedelta(days=5),
    )
    others = CustomerFactory(owner=team.rep_b)
    Activity.objects.create(
        customer=others,
        content="别人的",
        next_follow_up_on=today + datetime.timedelta(days=3),
    )
    events = feed_events(client, team.rep_a)
    follow_ups = [e for uid, e in events.items() if "follow-up" in uid]
    assert [str(e["UID"]) for e in follow_ups] == [
        f"customers-follow-up-{latest.pk}@crm"
    ]
    event = follow_ups[0]
    assert event.decoded("DTSTART") == today + datetime.timedelta(days=5)
    assert "北京华为技术有限公司" in str(event["SUMMARY"])
    assert "张三" in str(event["SUMMARY"])
    assert "谈了价格, 下周回复" in str(event["DESCRIPTION"])
    assert str(event["URL"]).endswith(
        reverse("customers:customer-detail", args=[acme.pk])
    )


def test_no_follow_ups_without_the_activity_permission(org, client):
    role = make_role("无活动权限", "customers.view_customer", scope=DataScope.OWN)
    rep = UserFactory(department=org.east, roles=[role])
    customer = CustomerFactory(owner=rep)
    Activity.objects.create(
        customer=customer, content="x", next_follow_up_on=timezone.localdate()
    )
    assert feed_events(client, rep) == {}


# vCards


def cards(response) -> list:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    return list(vobject.readComponents(response.content.decode("utf-8")))


@pytest.fixture
def nana(acme):
    from crm.customers.models import Region

    acme.region = Region.objects.get(code="440305")
    acme.address = "科技园南区1号"
    acme.postcode = "518057"
    acme.save()
    return ContactFactory(
        customer=acme,
        name="欧阳娜娜",
        position="采购经理",
        department_name="采购部",
        mobile="13800138000",
        office_phone="0755-12345678",
        email="nana@example.com",
        birthday=born(2, 29, 1988),
        notes="周末不接电话",
    )


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_one_contact_as_a_vcard(team, nana, client_for, version):
    response = client_for(team.rep_a).get(
        reverse("customers:contact-vcard", args=[nana.pk]) + f"?version={version}"
    )
    assert "filename*=utf-8''" in response["Content-Disposition"]
    (card,) = cards(response)
    assert card.version.value == version
    assert card.fn.value == "欧阳娜娜"
    assert (card.n.value.family, card.n.value.given) == ("欧阳", "娜娜")
    assert card.org.value == ["北京华为技术有限公司", "采购部"]
    assert card.title.value == "采购经理"
    assert {t.value for t in card.contents["tel"]} == {"13800138000", "0755-12345678"}
    assert card.email.value == "nana@example.com"
    assert card.adr.value.region == "广东省"
    assert card.adr.value.city == "深圳市"
    assert card.adr.value.street == "南山区 科技园南区1号"
    assert card.note.value == "周末不接电话"


def test_hidden_fields_stay_out_of_the_vcard(org, nana, client_for):
    role = make_role(
        "隐藏手机",
        *ACTIVITY,
        scope=DataScope.ALL,
        field_rights={"customers.contact": {"mobile": "hidden", "birthday": "hidden"}},
    )
    viewer = UserFactory(department=org.east, roles=[role])
    (card,) = cards(
        client_for(viewer).get(reverse("customers:contact-vcard", args=[nana.pk]))
    )
    assert {t.value for t in card.contents["tel"]} == {"0755-12345678"}
    assert "bday" not in card.contents


def test_a_contact_outside_the_scope_or_without_permission(team, nana, org, client_for):
    assert (
        client_for(team.rep_c)
        .get(reverse("customers:contact-vcard", args=[nana.pk]))
        .status_code
        == 404
    )
    role = make_role("只看客户", "customers.view_customer", scope=DataScope.ALL)
    viewer = UserFactory(department=org.east, roles=[role])
    assert (
        client_for(viewer)
        .get(reverse("customers:contact-vcard", args=[nana.pk]))
        .status_code
        == 403
    )


def test_a_customers_contacts_and_a_selection(team, acme, nana, client_for):
    other = ContactFactory(customer=acme, name="张三")
    foreign = ContactFactory(customer=CustomerFactory(owner=team.rep_c), name="外人")
    client = client_for(team.rep_a)
    url = reverse("customers:contacts-vcard")
    names = [c.fn.value for c in cards(client.get(f"{url}?customer={acme.pk}"))]
    assert sorted(names) == ["张三", "欧阳娜娜"]
    picked = cards(client.get(f"{url}?ids={other.pk}&ids={foreign.pk}&version=4.0"))
    assert [c.fn.value for c in picked] == ["张三"]
    searched = cards(client.get(f"{url}?q=欧阳"))
    assert [c.fn.value for c in searched] == ["欧阳娜娜"]
    assert client.get(f"{url}?customer={foreign.customer_id}").status_code == 404
    assert client.get(f"{url}?version=2.1").status_code == 302  # refused with a message


def test_too_many_contacts_are_refused(team, acme, client_for, settings):
    settings.CRM_EXPORT_SYNC_LIMIT = 2
    for _i in range(3):
        ContactFactory(customer=acme)
    response = client_for(team.rep_a).get(reverse("customers:contacts-vcard"))
    assert response.status_code == 302
    assert Contact.objects.count() == 3


def test_vcard_links_on_the_pages(team, acme, nana, client_for):
    client = client_for(team.rep_a)
    detail = client.get(reverse("customers:contact-detail", args=[nana.pk]))
    assert reverse("customers:contact-vcard", args=[nana.pk]) in detail.content.decode()
    tab = client.get(reverse("customers:customer-tab", args=[acme.pk, "contacts"]))
    assert (
        f"{reverse('customers:contacts-vcard')}?customer={acme.pk}"
        in tab.content.decode()
    )
    listing = client.get(reverse("customers:contact-list") + "?q=欧阳&page=1")
    html = listing.content.decode()
    assert f"{reverse('customers:contacts-vcard')}?q=%E6%AC%A7%E9%98%B3" in html
