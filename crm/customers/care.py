"""C6 customer care (客户关怀): birthday reminders (a daily job), the calendar feed's
customer events (X5: birthdays and planned follow-ups) and vCards of contacts (X5).

Birthday reminders: every day, the responsible employee of each contact (else the
customer's owner) is told of a birthday `birthday_reminder_days` days ahead (Y2), in the
app and by e-mail, once per birthday (the dedupe key names the contact and the day). The
job looks at every birthday from today to N days ahead, so a day it did not run, a raised
parameter or a contact added late is caught up, and nobody is told twice. A 29 February
birthday is celebrated on 28 February in other years. Customers in the public pool, the
recycle bin or merged away are left out: nobody looks after them.
"""

import calendar
import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from crm.core.calendar import CalendarEvent
from crm.core.errors import Invalid
from crm.core.fieldrights import field_rights
from crm.core.notifications import notify
from crm.core.params import get_param
from crm.core.scopes import can
from crm.core.vcard import VERSIONS, write_vcards
from crm.customers.activities import activity_queryset
from crm.customers.models import Activity, Contact, Customer, PoolEntry, Region
from crm.customers.selectors import contact_queryset

CALENDAR_PAST = datetime.timedelta(days=7)
CALENDAR_AHEAD = datetime.timedelta(days=365)
FOLLOW_UP_PAST = datetime.timedelta(days=30)


def birthday_on(birthday: datetime.date, year: int) -> datetime.date:
    """The day a birthday is celebrated in `year`: 29 February falls on the 28th in
    years without it."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return datetime.date(year, 2, 28)
    return birthday.replace(year=year)


def _birthday_q(days: list[datetime.date]) -> Q:
    """Contacts whose birthday is celebrated on one of `days`."""
    q = Q(pk__in=[])
    for day in days:
        q |= Q(birthday__month=day.month, birthday__day=day.day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            q |= Q(birthday__month=2, birthday__day=29)
    return q


def _cared_for(contacts):
    """Contacts of live customers outside the public pool."""
    in_pool = PoolEntry.objects.filter(
        customer=OuterRef("customer"), left_at__isnull=True
    )
    return contacts.filter(
        customer__deleted_at__isnull=True, customer__merged_into__isnull=True
    ).exclude(Exists(in_pool))


def _next_birthday(
    birthday: datetime.date, days: list[datetime.date]
) -> datetime.date | None:
    for day in days:
        if birthday_on(birthday, day.year) == day:
            return day
    return None


def birthday_reminders_send(*, today: datetime.date | None = None) -> int:
    """The daily job (see the module's docstring); returns how many were notified."""
    today = today or timezone.localdate()
    ahead = int(get_param("birthday_reminder_days"))
    days = [today + datetime.timedelta(days=i) for i in range(ahead + 1)]
    contacts = (
        _cared_for(Contact.objects.filter(birthday__isnull=False))
        .filter(_birthday_q(days))
        .select_related("customer__owner", "responsible")
        .order_by("pk")
    )
    sent = 0
    for contact in contacts.iterator(chunk_size=1000):
        on = _next_birthday(contact.birthday, days)
        if on is None:
            continue
        recipient = contact.responsible or contact.customer.owner
        when = formats.date_format(on, "MONTH_DAY_FORMAT")
        body = [
            _("%(name)s of %(customer)s has a birthday on %(date)s.")
            % {"name": contact.name, "customer": contact.customer.name, "date": when}
        ]
        if contact.hobbies:
            body.append(_("Hobbies: %(hobbies)s") % {"hobbies": contact.hobbies})
        notification = notify(
            recipient=recipient,
            title=_("Birthday of %(name)s (%(customer)s) on %(date)s")
            % {"name": contact.name, "customer": contact.customer.name, "date": when},
            body="\n".join(body),
            url=reverse("customers:contact-detail", args=[contact.pk]),
            kind="customers.birthday",
            dedupe_key=f"customers.birthday:{contact.pk}:{on.isoformat()}",
        )
        sent += notification is not None
    return sent


# Calendar feed sources (registered in apps.py)


def birthday_events(user):
    """Birthdays of the contacts the user looks after (responsible, or owner of the
    customer when nobody is responsible), from a week ago to a year ahead."""
    if not can(user, "customers.view_contact"):
        return
    if "birthday" in field_rights(user, Contact).hidden:
        return
    today = timezone.localdate()
    start, end = today - CALENDAR_PAST, today + CALENDAR_AHEAD
    contacts = (
        _cared_for(contact_queryset(actor=user))
        .filter(birthday__isnull=False)
        .filter(Q(responsible=user) | Q(responsible__isnull=True, customer__owner=user))
        .select_related("customer")
        .order_by("pk")
    )
    for contact in contacts.iterator(chunk_size=1000):
        for year in (start.year, end.year):
            on = birthday_on(contact.birthday, year)
            if not start <= on <= end:
                continue
            yield CalendarEvent(
                uid=f"customers-birthday-{contact.pk}-{year}@crm",
                summary=_("Birthday: %(name)s (%(customer)s)")
                % {"name": contact.name, "customer": contact.customer.name},
                start=on,
                description=contact.hobbies
                and _("Hobbies: %(hobbies)s") % {"hobbies": contact.hobbies},
                url=reverse("customers:contact-detail", args=[contact.pk]),
                categories=(_("Birthday"),),
            )


def follow_up_events(user):
    """The planned next follow-up of each customer the user owns: the next follow-up
    date of its newest activity, from a month ago (overdue) to a year ahead."""
    if not can(user, "customers.view_activity"):
        return
    today = timezone.localdate()
    newer = Activity.objects.filter(customer=OuterRef("customer")).filter(
        Q(occurred_at__gt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), pk__gt=OuterRef("pk"))
    )
    planned = (
        activity_queryset(actor=user)
        .filter(
            customer__owner=user,
            next_follow_up_on__gte=today - FOLLOW_UP_PAST,
            next_follow_up_on__lte=today + CALENDAR_AHEAD,
        )
        .exclude(Exists(newer))
        .select_related("customer", "contact")
        .order_by("next_follow_up_on", "pk")
    )
    for activity in planned.iterator(chunk_size=1000):
        who = f" · {activity.contact.name}" if activity.contact else ""
        yield CalendarEvent(
            uid=f"customers-follow-up-{activity.pk}@crm",
            summary=_("Follow up: %(customer)s") % {"customer": activity.customer.name}
            + who,
            start=activity.next_follow_up_on,
            description=_("Last follow-up (%(kind)s, %(date)s): %(content)s")
            % {
                "kind": activity.get_kind_display(),
                "date": formats.date_format(
                    timezone.localtime(activity.occurred_at), "SHORT_DATE_FORMAT"
                ),
                "content": activity.content,
            },
            url=reverse("customers:customer-detail", args=[activity.customer_id]),
            categories=(_("Follow-up"),),
        )


# vCards (X5)


def _address(customer: Customer) -> dict:
    """The customer's office address for a vCard: district and street, city, province."""
    names: dict[int, str] = {}
    region = customer.region
    while region is not None:
        names.setdefault(region.level, region.name)
        region = region.parent if region.parent_id else None
    district = names.get(Region.Level.DISTRICT, "")
    street = " ".join(p for p in (district, customer.address) if p)
    if not (street or names):
        return {}
    return {
        "street": street,
        "city": names.get(Region.Level.CITY, ""),
        "region": names.get(Region.Level.PROVINCE, ""),
        "postcode": customer.postcode,
        "country": _("China") if names else "",
    }


def contact_card(contact: Contact, *, hidden: frozenset[str], base_url: str) -> dict:
    """A contact as vCard data, without the fields hidden from the user (Y5)."""

    def shown(name):
        return "" if name in hidden else getattr(contact, name)

    customer = contact.customer
    notes = [n for n in (shown("notes"), shown("hobbies")) if n]
    return {
        "uid": f"customers-contact-{contact.pk}@crm",
        "name": contact.name,
        "org": customer.name,
        "department": shown("department_name"),
        "title": shown("position"),
        "phones": {
            "work": shown("office_phone"),
            "cell": shown("mobile"),
            "home": shown("home_phone"),
            "fax": shown("fax"),
        },
        "email": shown("email"),
        "address": _address(customer),
        "birthday": shown("birthday"),
        "note": "\n".join(notes),
        "url": base_url.rstrip("/")
        + reverse("customers:contact-detail", args=[contact.pk]),
    }


def vcard_version(raw) -> str:
    value = str(raw or "3.0").strip()
    value = {"3": "3.0", "4": "4.0"}.get(value, value)
    if value not in VERSIONS:
        raise Invalid(
            _("Choose vCard version 3.0 or 4.0."),
            fields={"version": [_("Choose 3.0 or 4.0.")]},
        )
    return value


def contacts_vcards(*, actor, contacts, version: str, base_url: str) -> bytes:
    """vCards of contacts the caller already selected within the user's scope."""
    hidden = field_rights(actor, Contact).hidden
    limit = settings.CRM_EXPORT_SYNC_LIMIT
    rows = list(
        contacts.select_related("customer__region__parent__parent").order_by(
            "customer__name", "-is_primary", "name", "pk"
        )[: limit + 1]
    )
    if len(rows) > limit:
        raise Invalid(
            _("More than %(n)d contacts: narrow the selection.") % {"n": limit}
        )
    return write_vcards(
        (contact_card(c, hidden=hidden, base_url=base_url) for c in rows),
        version=version,
    )
