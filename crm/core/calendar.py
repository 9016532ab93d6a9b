"""X5 iCalendar feed: each employee subscribes to a secret address in their calendar
(Outlook, Apple or Google Calendar, 钉钉/企业微信 calendars) and sees their reminders and
planned activities there.

Modules contribute events without core knowing them, in AppConfig.ready():

    register_calendar_source("customers.birthdays", birthday_events)

where `birthday_events(user)` yields CalendarEvent objects the user may see (the source
applies the user's permissions and data scope: the feed runs as that user).

The .ics text is written here (RFC 5545): CRLF line ends, lines folded at 75 octets
without splitting a UTF-8 character, TEXT values escaped (backslash, comma, semicolon,
newline). No run-time dependency; the tests parse the output with the `icalendar` library.
"""

import datetime
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from crm.core.contentlines import content_lines, escape_text
from crm.core.models import CalendarFeed

logger = logging.getLogger(__name__)

PRODID = "-//crm//Calendar feed//ZH"


@dataclass(frozen=True)
class CalendarEvent:
    """One event. `start` is a date (an all-day event) or an aware datetime; `end`
    defaults to the next day (all-day) or to `start` plus `duration`."""

    uid: str  # stable across feeds: "birthday-12-2027@crm"
    summary: str
    start: datetime.date | datetime.datetime
    end: datetime.date | datetime.datetime | None = None
    description: str = ""
    url: str = ""  # absolute, or a path made absolute with the feed's base address
    location: str = ""
    categories: tuple[str, ...] = ()
    duration: datetime.timedelta = datetime.timedelta(hours=1)


SOURCES: dict[str, Callable] = {}


def register_calendar_source(key: str, source: Callable) -> None:
    """Add (or replace) a source of events: `source(user) -> iterable of CalendarEvent`."""
    SOURCES[key] = source


def unregister_calendar_source(key: str) -> None:
    SOURCES.pop(key, None)


def calendar_events(user) -> list[CalendarEvent]:
    """Every registered source's events for `user`. A failing source is logged and left
    out, so that one module's bug does not empty everybody's calendar."""
    events: list[CalendarEvent] = []
    for key in sorted(SOURCES):
        try:
            events.extend(SOURCES[key](user))
        except Exception:
            logger.exception("Calendar source %s failed for user %s", key, user.pk)
    return events


# The feed's secret address


def _new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits, 43 characters


@transaction.atomic
def calendar_feed_regenerate(*, actor) -> CalendarFeed:
    """Give the user a new secret address; the previous one stops working at once."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(
        user=actor, defaults={"token": _new_token()}
    )
    if not created:
        feed.token = _new_token()
        feed.last_used_at = None
        feed.save(update_fields=["token", "created_at", "last_used_at"])
    return feed


def calendar_feed_get(*, actor) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=actor).first()


@transaction.atomic
def calendar_feed_revoke(*, actor) -> None:
    CalendarFeed.objects.filter(user=actor).delete()


def calendar_feed_user(token: str):
    """The active employee a feed token belongs to, or None (the view answers 404)."""
    if not token or len(token) > 64 or not token.isascii() or "\x00" in token:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )
    if feed is None:
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > datetime.timedelta(
        hours=1
    ):
        # At most one write an hour, however often the calendar client polls.
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user


# RFC 5545 writing


def _date(value: datetime.date) -> str:
    return value.strftime("%Y%m%d")


def _utc(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _when(name: str, value: datetime.date | datetime.datetime) -> str:
    if isinstance(value, datetime.datetime):
        return f"{name}:{_utc(value)}"
    return f"{name};VALUE=DATE:{_date(value)}"


def _absolute(url: str, base: str) -> str:
    if url.startswith("/") and base:
        return base.rstrip("/") + url
    return url


def event_lines(
    event: CalendarEvent, *, stamp: datetime.datetime, base_url: str = ""
) -> list[str]:
    start, end = event.start, event.end
    if end is None:
        end = (
            start + event.duration
            if isinstance(start, datetime.datetime)
            else start + datetime.timedelta(days=1)
        )
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{_utc(stamp)}",
        _when("DTSTART", start),
        _when("DTEND", end),
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
    url = _absolute(event.url, base_url)
    if url:
        lines.append(f"URL:{url}")  # a URI value, not TEXT: no escaping
    if not isinstance(start, datetime.datetime):
        lines.append("TRANSP:TRANSPARENT")  # an all-day reminder does not block time
    lines.append("END:VEVENT")
    return lines


def write_calendar(
    events: Iterable[CalendarEvent],
    *,
    name: str = "CRM",
    base_url: str = "",
    stamp: datetime.datetime | None = None,
) -> bytes:
    """A whole VCALENDAR in UTF-8 bytes."""
    stamp = stamp or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-PUBLISHED-TTL:PT1H",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    ]
    for event in events:
        lines.extend(event_lines(event, stamp=stamp, base_url=base_url))
    lines.append("END:VCALENDAR")
    return content_lines(lines).encode("utf-8")


def calendar_for(user, *, base_url: str = "", name: str = "CRM") -> bytes:
    """The feed of `user`: every registered source's events."""
    return write_calendar(calendar_events(user), name=name, base_url=base_url)
