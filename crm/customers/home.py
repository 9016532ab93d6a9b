"""What the customers module puts on the home page (S10): my follow-ups due today or
overdue. A customer's planned follow-up is the next follow-up date of its newest
activity (as in the calendar feed): a newer activity without a date means it was done."""

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.home import PANEL_ITEMS, register_panel, register_shortcut, url_or_blank
from crm.customers.activities import activity_queryset
from crm.customers.models import Activity


def due_follow_ups(*, actor, today=None):
    """The newest activity of each customer the user owns whose next follow-up date is
    today or past, oldest date first."""
    today = today or timezone.localdate()
    newer = Activity.objects.filter(customer=OuterRef("customer")).filter(
        Q(occurred_at__gt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), pk__gt=OuterRef("pk"))
    )
    return (
        activity_queryset(actor=actor)
        .filter(customer__owner=actor, next_follow_up_on__lte=today)
        .exclude(Exists(newer))
        .order_by("next_follow_up_on", "pk")
    )


def follow_ups_panel(user) -> dict:
    """Customers to follow up today or overdue (two queries: the count and the first few)."""
    today = timezone.localdate()
    qs = due_follow_ups(actor=user, today=today)
    count = qs.count()
    rows = qs.select_related("customer", "contact")[:PANEL_ITEMS] if count else []
    items = []
    for activity in rows:
        who = f"{activity.contact.name} · " if activity.contact else ""
        items.append(
            {
                "kind": "activity",
                "id": activity.pk,
                "title": activity.customer.name,
                "subtitle": who
                + Truncator(" ".join(activity.content.split())).chars(60),
                "url": reverse(
                    "customers:customer-detail", args=[activity.customer_id]
                ),
                "date": activity.next_follow_up_on,
                "overdue": activity.next_follow_up_on < today,
            }
        )
    return {
        "count": count,
        "items": items,
        "more_url": url_or_blank("core:calendar"),
        "empty": _("No customer to follow up today."),
    }


register_panel(
    "customers.follow_ups",
    gettext_lazy("Customer follow-ups"),
    follow_ups_panel,
    perm="customers.view_activity",
    order=10,
    icon="telephone-outbound",
)
register_shortcut(
    "customers.customers",
    gettext_lazy("Customers"),
    "customers:customer-list",
    perm="customers.view_customer",
    icon="building",
    order=20,
    searchable=True,
)
register_shortcut(
    "customers.contacts",
    gettext_lazy("Contacts"),
    "customers:contact-list",
    perm="customers.view_contact",
    icon="person-lines-fill",
    order=25,
    searchable=True,
)
