"""X5 iCalendar feed: a secret address per employee, no login, 404 for a bad or revoked
token; modules register event sources; the output is RFC 5545 (CRLF, folded lines,
escaped text, Chinese intact) and parses with the `icalendar` library."""

import datetime

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.calendar import (
    SOURCES,
    CalendarEvent,
    calendar_feed_regenerate,
    register_calendar_source,
    write_calendar,
)
from crm.core.contentlines import escape_text, fold_line
from crm.core.models import CalendarFeed

pytestmark = pytest.mark.usefixtures("english")

TRICKY = '生日：张三, 北京华为技术有限公司; 采购部\\经理 "VIP"'


@pytest.fixture
def source():
    """A source registered for the test only: one all-day and one timed event, named
    after the user the feed belongs to."""
    saved = dict(SOURCES)

    def events(user):
        yield CalendarEvent(
            uid=f"birthday-{user.pk}@crm",
            summary=f"{user.name}的客户生日",
            start=datetime.date(2027, 3, 5),
            description="第一行\n第二行",
            url="/customers/1/",
        )
        yield CalendarEvent(
            uid=f"follow-up-{user.pk}@crm",
            summary=TRICKY,
            start=timezone.make_aware(datetime.datetime(2027, 3, 6, 9, 30)),
        )

    register_calendar_source("test.events", events)
    yield
    SOURCES.clear()
    SOURCES.update(saved)


def parse(data: bytes) -> list:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def feed_url(user) -> str:
    feed = calendar_feed_regenerate(actor=user)
    return reverse("core:calendar-ics", kwargs={"token": feed.token})


# Writing


def test_text_values_are_escaped():
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


@pytest.mark.parametrize(
    "line",
    [
        "DESCRIPTION:" + "很长的中文描述" * 30,
        "SUMMARY:" + "x" * 300,
        "NOTE:" + "a😀" * 60,
    ],
)
def test_lines_fold_at_75_octets_without_splitting_characters(line):
    folded = fold_line(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line  # unfolds back


def test_calendar_parses_with_icalendar_and_keeps_text_intact():
    stamp = timezone.make_aware(datetime.datetime(2027, 1, 1, 8, 0))
    data = write_calendar(
        [
            CalendarEvent(
                uid="e1@crm",
                summary=TRICKY,
                start=datetime.date(2027, 2, 28),
                description="第一行\n第二行" + "很长" * 80,
                location="深圳市南山区",
                url="/customers/9/",
                categories=("生日", "客户"),
            ),
            CalendarEvent(
                uid="e2@crm",
                summary="拜访",
                start=timezone.make_aware(datetime.datetime(2027, 3, 1, 9, 30)),
            ),
        ],
        name="华夏智造 · 刘一",
        base_url="https://crm.example.com/",
        stamp=stamp,
    )
    text = data.decode("utf-8")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line ends with CRLF
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))

    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "华夏智造 · 刘一"
    birthday, visit = parse(data)
    assert str(birthday["SUMMARY"]) == TRICKY
    assert str(birthday["DESCRIPTION"]) == "第一行\n第二行" + "很长" * 80
    assert str(birthday["LOCATION"]) == "深圳市南山区"
    assert str(birthday["URL"]) == "https://crm.example.com/customers/9/"
    assert birthday.decoded("DTSTART") == datetime.date(2027, 2, 28)
    assert birthday.decoded("DTEND") == datetime.date(2027, 3, 1)
    assert birthday.decoded("DTSTAMP") == stamp
    assert [str(c) for c in birthday["CATEGORIES"].cats] == ["生日", "客户"]
    # 09:30 in Shanghai is 01:30 UTC; an hour long by default.
    assert visit.decoded("DTSTART") == datetime.datetime(
        2027, 3, 1, 1, 30, tzinfo=datetime.UTC
    )
    assert visit.decoded("DTEND") - visit.decoded("DTSTART") == datetime.timedelta(
        hours=1
    )


def test_an_empty_calendar_is_valid():
    calendar = icalendar.Calendar.from_ical(write_calendar([]))
    assert str(calendar["VERSION"]) == "2.0"
    assert parse(write_calendar([])) == []


# The secret address


def test_the_feed_needs_no_login_and_shows_the_users_events(org, client, source):
    """X5: calendar applications fetch the feed with the token alone."""
    org.rep_a.name = "刘一"
    org.rep_a.save(update_fields=["name"])
    response = client.get(feed_url(org.rep_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = parse(response.content)
    assert [str(e["SUMMARY"]) for e in events] == ["刘一的客户生日", TRICKY]
    assert str(events[0]["DESCRIPTION"]) == "第一行\n第二行"
    assert str(events[0]["URL"]) == "http://testserver/customers/1/"
    assert str(events[0]["UID"]) == f"birthday-{org.rep_a.pk}@crm"


def test_each_user_gets_their_own_events(org, client, source):
    mine = parse(client.get(feed_url(org.rep_a)).content)
    theirs = parse(client.get(feed_url(org.rep_b)).content)
    assert {str(e["UID"]) for e in mine}.isdisjoint({str(e["UID"]) for e in theirs})


@pytest.mark.parametrize(
    "token", ["x", "0" * 43, "a" * 64, "a" * 65, "%00", "..", "-_-", "生日"]
)
def test_a_bad_token_is_not_found(org, client, token):
    calendar_feed_regenerate(actor=org.rep_a)
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 404


def test_regenerating_revokes_the_old_address(org, client, source):
    old = feed_url(org.rep_a)
    assert client.get(old).status_code == 200
    new = feed_url(org.rep_a)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=org.rep_a).count() == 1


def test_tokens_are_long_and_random(org):
    first = calendar_feed_regenerate(actor=org.rep_a).token
    second = calendar_feed_regenerate(actor=org.rep_b).token
    assert len(first) >= 43
    assert first != second


def test_a_deactivated_employees_feed_stops(org, client, source):
    url = feed_url(org.rep_a)
    org.rep_a.is_active = False
    org.rep_a.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_the_feed_records_when_it_was_last_read(org, client, source):
    url = feed_url(org.rep_a)
    client.get(url)
    assert CalendarFeed.objects.get(user=org.rep_a).last_used_at is not None


def test_a_failing_source_leaves_the_others(org, client, source):
    def broken(user):
        raise RuntimeError("bug in a module")

    register_calendar_source("test.broken", broken)
    response = client.get(feed_url(org.rep_a))
    assert response.status_code == 200
    assert len(parse(response.content)) == 2


# The page


def test_the_page_creates_shows_renews_and_turns_off_the_address(org, client_for):
    client = client_for(org.rep_a)
    page = client.get(reverse("core:calendar"))
    assert page.status_code == 200
    assert "You have no calendar address yet" in page.content.decode()

    assert client.post(reverse("core:calendar-regenerate")).status_code == 302
    first = CalendarFeed.objects.get(user=org.rep_a).token
    page = client.get(reverse("core:calendar")).content.decode()
    assert f"http://testserver/calendar/{first}.ics" in page

    client.post(reverse("core:calendar-regenerate"))
    second = CalendarFeed.objects.get(user=org.rep_a).token
    assert second != first
    assert client.get(f"/calendar/{first}.ics").status_code == 404

    client.post(reverse("core:calendar-revoke"))
    assert not CalendarFeed.objects.filter(user=org.rep_a).exists()
    assert client.get(f"/calendar/{second}.ics").status_code == 404


def test_the_page_needs_a_login_and_changes_need_post(org, client, client_for):
    assert client.get(reverse("core:calendar")).status_code == 302
    assert client.post(reverse("core:calendar-regenerate")).status_code == 302
    assert not CalendarFeed.objects.exists()
    assert (
        client_for(org.rep_a).get(reverse("core:calendar-regenerate")).status_code
        == 405
    )
