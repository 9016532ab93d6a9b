"""C6 follow-up activities (跟进记录): reads, writes and the timeline tab of the 360° view.

An activity is seen by whoever sees its customer (the customers data scope, through the
customer's owner and department). Writes lock the customer row, so that the public pool's
daily job (crm/customers/pool.py), which also locks it, never returns a customer to the
pool while a follow-up is being recorded.

"Last followed up at" is not stored on the customer: it is the newest activity's time,
computed with a subquery over the (customer, -occurred_at) index (`last_follow_up()`).
So it is always right, whatever happens to activities (created, edited, deleted, moved by
a merge), and nothing has to keep a copy in step.
"""

import datetime

import django_filters
from django import forms
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from crm.core.api.serializers import is_id
from crm.core.errors import Invalid, NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import authorize, can
from crm.core.services import record_create, record_delete, record_update
from crm.core.validators import EARLIEST_YEAR, is_too_early
from crm.customers.models import Activity, Contact, Customer
from crm.customers.selectors import customer_queryset
from crm.org.models import User

# A follow-up record tells what happened: a little clock skew is tolerated, the future not.
FUTURE_TOLERANCE = datetime.timedelta(minutes=10)
TIMELINE_LIMIT = 50


def last_follow_up(customer_ref: str = "pk") -> Subquery:
    """The time of a customer's newest activity (None without any), for annotate()."""
    return Subquery(
        Activity.objects.filter(customer=OuterRef(customer_ref))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )


# Reads


def activity_queryset(*, actor):
    """Activities of the live customers the user may see."""
    return Activity.objects.visible_to(actor).filter(
        customer__deleted_at__isnull=True, customer__merged_into__isnull=True
    )


def activity_get(*, actor, pk) -> Activity:
    if not is_id(pk):
        raise NotFound(_("Activity not found."))
    try:
        return (
            activity_queryset(actor=actor)
            .select_related("customer", "contact", "recorded_by")
            .get(pk=int(pk))
        )
    except Activity.DoesNotExist:
        raise NotFound(_("Activity not found.")) from None


def customer_activities(*, actor, customer: Customer):
    return (
        activity_queryset(actor=actor)
        .filter(customer=customer)
        .select_related("contact", "recorded_by")
        .order_by("-occurred_at", "-pk")
    )


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActivityFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(
        label=_l("customer (number)"), method="by_customer"
    )
    kind = django_filters.ChoiceFilter(label=_l("kind"), choices=Activity.Kind.choices)
    recorded_by = django_filters.ModelChoiceFilter(
        label=_l("recorded by"), queryset=User.objects.filter(is_active=True)
    )
    occurred_from = django_filters.DateFilter(
        label=_l("from"), field_name="occurred_at", lookup_expr="date__gte", widget=DATE
    )
    occurred_to = django_filters.DateFilter(
        label=_l("to"), field_name="occurred_at", lookup_expr="date__lte", widget=DATE
    )
    next_from = django_filters.DateFilter(
        label=_l("next follow-up from"),
        field_name="next_follow_up_on",
        lookup_expr="gte",
        widget=DATE,
    )
    next_to = django_filters.DateFilter(
        label=_l("next follow-up to"),
        field_name="next_follow_up_on",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = Activity
        fields = ["kind", "recorded_by"]

    def by_customer(self, qs, name, value):
        """A customer id (from a link) or number (typed)."""
        value = (value or "").strip()
        if not value:
            return qs
        if is_id(value):
            return qs.filter(customer_id=int(value))
        return qs.filter(customer__number__iexact=value[:32])


@register
class ActivityList(ListSpec):
    key = "customers.activity"
    model = Activity
    title = _l("Activities")
    columns = [
        Column("occurred_at", _l("time"), sort="occurred_at", link=True),
        Column("kind", _l("kind"), sort="kind", choices=True),
        Column(
            "customer.name", _l("customer"), sort="customer__name", field="customer"
        ),
        Column("contact.name", _l("contact"), field="contact"),
        Column("content", _l("content")),
        Column("next_follow_up_on", _l("next follow-up"), sort="next_follow_up_on"),
        Column(
            "recorded_by.name",
            _l("recorded by"),
            sort="recorded_by__name",
            field="recorded_by",
        ),
    ]
    search_fields = ("content", "customer__name", "contact__name")
    filterset_class = ActivityFilter
    default_sort = "-occurred_at"
    select_related = ("customer", "contact", "recorded_by")
    detail_url_name = "customers:activity-detail"

    def base_queryset(self, user):
        return activity_queryset(actor=user)


# Writes


def _check(*, actor, data: dict, obj: Activity | None = None) -> Customer:
    """The customer is a live one the user may see; the contact works there; the time is
    not in the future; the next follow-up is not before the activity."""
    errors: dict[str, list[str]] = {}
    customer = data.get("customer", obj.customer if obj else None)
    if customer is None:
        raise Invalid(_("Choose a customer."), fields={"customer": [_("Required.")]})
    if not customer_queryset(actor=actor).filter(pk=customer.pk).exists():
        raise NotFound(_("Customer not found."))
    contact = data.get("contact", obj.contact if obj else None)
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("Choose a contact of this customer.")]
    occurred = data.get("occurred_at", obj.occurred_at if obj else timezone.now())
    if is_too_early(occurred):
        errors["occurred_at"] = [
            _("Enter a time after %(year)s.") % {"year": EARLIEST_YEAR}
        ]
    elif occurred is not None and occurred > timezone.now() + FUTURE_TOLERANCE:
        errors["occurred_at"] = [
            _("A follow-up is recorded once it happened; plan the next one instead.")
        ]
    next_on = data.get("next_follow_up_on", obj.next_follow_up_on if obj else None)
    if next_on and occurred and next_on < timezone.localdate(occurred):
        errors["next_follow_up_on"] = [
            _("The next follow-up cannot be before this one.")
        ]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    return customer


def activity_create(*, actor, data: dict) -> Activity:
    """Record a follow-up with a customer the user may see; the user is its recorder."""
    authorize(actor, "customers.add_activity")
    data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    data.setdefault("occurred_at", timezone.now())
    with transaction.atomic():
        customer = _check(actor=actor, data=data)
        # Serialises with the public pool's job, which returns idle customers.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        data["recorded_by"] = actor
        return record_create(
            actor=actor, model=Activity, data=data, perm="customers.add_activity"
        )


def activity_update(*, actor, obj: Activity, data: dict, version=None) -> Activity:
    """Edit a follow-up (stale version: 409); it stays with its customer."""
    authorize(actor, "customers.change_activity")
    data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    data.pop("customer", None)
    data.pop("recorded_by", None)
    with transaction.atomic():
        _check(actor=actor, data=data, obj=obj)
        Customer.objects.select_for_update().filter(pk=obj.customer_id).first()
        return record_update(
            actor=actor,
            obj=obj,
            data=data,
            perm="customers.change_activity",
            version=version,
        )


def activity_delete(*, actor, obj: Activity) -> None:
    authorize(actor, "customers.delete_activity")
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=obj.customer_id).first()
        record_delete(actor=actor, obj=obj, perm="customers.delete_activity")


# The timeline tab of the 360° view (registered in apps.py)


def activities_tab_context(request, customer) -> dict:
    from crm.customers.web.activities import ActivityForm

    user = request.user
    activities = list(
        customer_activities(actor=user, customer=customer)[:TIMELINE_LIMIT]
    )
    can_add = can(user, "customers.add_activity")
    return {
        "activities": activities,
        "more": len(activities) == TIMELINE_LIMIT,
        "last_follow_up": activities[0].occurred_at if activities else None,
        "next_follow_up": activities[0].next_follow_up_on if activities else None,
        "can_add": can_add,
        "can_change": can(user, "customers.change_activity"),
        "form": ActivityForm(user=user, customer=customer) if can_add else None,
    }


def activities_tab_count(user, customer) -> int:
    return customer_activities(actor=user, customer=customer).count()


def contact_choices(customer: Customer):
    return Contact.objects.filter(customer=customer).order_by("-is_primary", "name")
