"""C8 public pool (公海): customers nobody followed up return to a shared pool, reps claim
them within limits, managers assign them; every move is audited.

Settings are system parameters (Y2): `pool_idle_days` (days without a follow-up before an
owned customer returns; 0 turns the pool's recycling off), `pool_max_customers` (the most
live customers one employee may own; 0: no limit) and `pool_max_claims_per_day` (0: no
limit).

A customer is in the pool while it has an open PoolEntry (a stay that has not ended). On
return its owner is cleared and its department kept: the department says whose pool it is.

Who sees pool customers (the pool's data scope): a user with the `customers.view_pool`
permission sees the pool customers whose department is their own department or below it,
those without a department, and any their customers data scope already shows (a manager's
department tree, everything for "all"). So a rep of 华东 sees the pool of 华东 and its
offices, not that of 华南. Outside the pool the usual scope holds: a rep owning nothing
there does not see the pool customer's page until they claim it.

The idle clock of a customer starts at the latest of: its newest activity, the day it
left the pool (claimed or assigned), the day it was created. An owner change made by
editing the customer does not restart it (assign through the pool to hand over).

Limits hold under concurrency: a claim locks the claiming employee's row, then the
customer's, so two claims by one rep run one after the other and each counts what the
other committed; two reps claiming one customer find it gone once the first commits.
"""

import datetime

import django_filters
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.utils.translation import ngettext

from crm.core.api.serializers import is_id
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid, NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.models import AuditEvent
from crm.core.notifications import notify
from crm.core.params import Param, get_param
from crm.core.params import register as register_params
from crm.core.scopes import DataScope, authorize, can, data_scopes, scope_q
from crm.customers.activities import last_follow_up
from crm.customers.models import Activity, Contact, Customer, PoolEntry, Region
from crm.customers.selectors import customer_queryset
from crm.org.models import Department, User

_GROUP = _l("Public pool")
register_params(
    Param(
        "pool_idle_days",
        _l("Days without follow-up before a customer returns to the pool"),
        int,
        30,
        min=0,
        max=3650,
        group=_GROUP,
        help=_l("0 turns the return to the pool off."),
    ),
    Param(
        "pool_max_customers",
        _l("Most customers one employee may own"),
        int,
        200,
        min=0,
        max=1_000_000,
        group=_GROUP,
        help=_l("Claims and assignments stop at this number. 0: no limit."),
    ),
    Param(
        "pool_max_claims_per_day",
        _l("Most customers a rep may claim per day"),
        int,
        10,
        min=0,
        max=10_000,
        group=_GROUP,
        help=_l("0: no limit."),
    ),
)
BATCH = 500
NOTIFY_NAMES = 20  # customers named in the former owner's notification


def _open_entries():
    return PoolEntry.objects.filter(customer=OuterRef("pk"), left_at__isnull=True)


def _live():
    return Customer.objects.filter(deleted_at__isnull=True, merged_into__isnull=True)


# Reads


def pool_queryset(*, actor):
    """The pool customers the user may see and claim (see the module's docstring)."""
    qs = _live().filter(Exists(_open_entries()))
    scopes = data_scopes(actor, "customers")
    if DataScope.ALL in scopes:
        return qs
    if not scopes:
        return qs.none()
    visible = Q(department__isnull=True)
    if actor.department_id:
        visible |= Q(department__in=actor.department_subtree_ids())
    scoped = scope_q(actor, "customers")
    if scoped is not None:
        visible |= scoped
    return qs.filter(visible)


def pool_customer_get(*, actor, pk) -> Customer:
    if not is_id(pk):
        raise NotFound(_("Customer not found in the public pool."))
    try:
        return pool_queryset(actor=actor).get(pk=int(pk))
    except Customer.DoesNotExist:
        raise NotFound(_("Customer not found in the public pool.")) from None


def in_pool(customer: Customer) -> bool:
    return PoolEntry.objects.filter(customer=customer, left_at__isnull=True).exists()


def pool_entries(*, customer: Customer):
    """A customer's stays in the pool, newest first (the pool tab of the 360° view)."""
    return PoolEntry.objects.filter(customer=customer).select_related(
        "former_owner", "entered_by", "left_by", "new_owner"
    )


def held_count(user) -> int:
    return _live().filter(owner=user).count()


def claims_today(user, *, today: datetime.date | None = None) -> int:
    start = _day_start(today or timezone.localdate())
    return PoolEntry.objects.filter(
        new_owner=user,
        outcome=PoolEntry.Outcome.CLAIMED,
        left_at__gte=start,
        left_at__lt=start + datetime.timedelta(days=1),
    ).count()


def pool_limits(user) -> dict:
    """What the pool page shows a rep: their counts against the limits."""
    return {
        "held": held_count(user),
        "max_held": get_param("pool_max_customers"),
        "claimed_today": claims_today(user),
        "max_claims": get_param("pool_max_claims_per_day"),
        "idle_days": get_param("pool_idle_days"),
    }


def assignable_users(*, actor):
    """Employees a manager may give pool customers to: active ones they can see."""
    return (
        User.objects.visible_to(actor)
        .filter(is_active=True)
        .select_related("department")
        .order_by("department__path", "name", "username")
    )


class PoolFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(
        label=_l("level"), choices=Customer.Level.choices
    )
    type = django_filters.ChoiceFilter(label=_l("type"), choices=Customer.Type.choices)
    industry = django_filters.ChoiceFilter(
        label=_l("industry"), choices=Customer.Industry.choices
    )
    region = django_filters.ModelChoiceFilter(
        label=_l("region"),
        queryset=Region.objects.filter(level__lte=Region.Level.CITY),
        method="in_region",
    )
    department = django_filters.ModelChoiceFilter(
        label=_l("department"), queryset=Department.objects.all(), method="in_tree"
    )

    class Meta:
        model = Customer
        fields = ["level", "type", "industry"]

    def in_region(self, qs, name, value):
        return qs.filter(region__path__startswith=value.path) if value else qs

    def in_tree(self, qs, name, value):
        return qs.filter(department__path__startswith=value.path) if value else qs


@register
class PoolList(ListSpec):
    key = "customers.pool"
    model = Customer
    title = _l("Public pool")
    view_perm = "customers.view_pool"
    columns = [
        Column("number", _l("customer number"), sort="number"),
        Column("name", _l("customer name"), sort="name"),
        Column("level", _l("level"), sort="level", choices=True),
        Column("type", _l("type"), sort="type", choices=True),
        Column("industry", _l("industry"), sort="industry", choices=True),
        Column("region.full_name", _l("region"), sort="region__code", field="region"),
        Column("department.name", _l("department"), field="department"),
        Column("pooled_at", _l("in the pool since"), sort="pooled_at"),
        Column("former_owner_name", _l("former owner"), field="owner"),
        Column("last_follow_up", _l("last follow-up"), sort="last_follow_up"),
    ]
    search_fields = ("name", "number", "mnemonic", "name_initials")
    filterset_class = PoolFilter
    default_sort = "-pooled_at"
    select_related = ("region__parent__parent", "department")

    def base_queryset(self, user):
        entry = _open_entries().order_by("-entered_at")
        return pool_queryset(actor=user).annotate(
            pooled_at=Subquery(entry.values("entered_at")[:1]),
            former_owner_name=Subquery(entry.values("former_owner__name")[:1]),
            last_follow_up=last_follow_up(),
        )


# Writes


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _check_limits(user, *, claim: bool) -> None:
    max_held = get_param("pool_max_customers")
    if max_held and held_count(user) >= max_held:
        raise Conflict(
            _("%(user)s already owns %(n)d customers, the most allowed.")
            % {"user": user, "n": max_held}
        )
    max_claims = get_param("pool_max_claims_per_day")
    if claim and max_claims and claims_today(user) >= max_claims:
        raise Conflict(
            _("You have claimed %(n)d customers today, the most allowed per day.")
            % {"n": max_claims}
        )


def _lock_user(user) -> None:
    # Without the default ordering: it joins the department, which PostgreSQL cannot
    # lock on the nullable side of an outer join.
    list(
        User.objects.select_for_update()
        .filter(pk=user.pk)
        .order_by()
        .values_list("pk", flat=True)
    )


def _lock_open_entries(customer: Customer) -> list[PoolEntry]:
    return list(
        PoolEntry.objects.select_for_update().filter(
            customer=customer, left_at__isnull=True
        )
    )


def _take_out(
    *, actor, customer: Customer, entries, new_owner, outcome: str, note: str
) -> Customer:
    """The customer leaves the pool to `new_owner`: owner and department set, the stay
    ended, contacts the former owner looked after handed over, all audited."""
    former_owners = {e.former_owner_id for e in entries} - {None}
    before = snapshot(customer)
    customer.owner, customer.department = new_owner, new_owner.department
    customer.version += 1
    customer.save(update_fields=["owner", "department", "version", "updated_at"])
    audit_record(
        actor=actor,
        obj=customer,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=note,
    )
    now = timezone.now()
    PoolEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        left_at=now, outcome=outcome, left_by=actor, new_owner=new_owner
    )
    handed = Contact.objects.select_for_update().filter(
        Q(responsible__isnull=True) | Q(responsible__in=former_owners),
        customer=customer,
    )
    for contact in handed:
        contact_before = snapshot(contact)
        contact.responsible = new_owner
        contact.version += 1
        contact.save(update_fields=["responsible", "version", "updated_at"])
        audit_record(
            actor=actor,
            obj=contact,
            action=AuditEvent.Action.UPDATE,
            before=contact_before,
            note=note,
        )
    return customer


def pool_claim(*, actor, customer: Customer) -> Customer:
    """A rep takes a pool customer they can see, within their limits."""
    authorize(actor, "customers.claim_customer")
    with transaction.atomic():
        # The claimer's row first: one rep's claims run one after the other.
        _lock_user(actor)
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        entries = _lock_open_entries(locked)
        if not entries or locked.is_deleted or locked.is_merged:
            raise Conflict(_("This customer is no longer in the public pool."))
        if not pool_queryset(actor=actor).filter(pk=locked.pk).exists():
            raise NotFound(_("Customer not found in the public pool."))
        _check_limits(actor, claim=True)
        return _take_out(
            actor=actor,
            customer=locked,
            entries=entries,
            new_owner=actor,
            outcome=PoolEntry.Outcome.CLAIMED,
            note="public pool: claimed",
        )


def pool_assign(*, actor, customer: Customer, owner) -> Customer:
    """A manager gives a pool customer to an employee they can see (within the most
    customers that employee may own); the employee is notified."""
    authorize(actor, "customers.assign_customer")
    if owner is None or not (
        assignable_users(actor=actor).filter(pk=owner.pk).exists()
    ):
        raise Invalid(
            _("Choose an active employee you can see."),
            fields={"owner": [_("Choose an active employee you can see.")]},
        )
    with transaction.atomic():
        _lock_user(owner)
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        entries = _lock_open_entries(locked)
        if not entries or locked.is_deleted or locked.is_merged:
            raise Conflict(_("This customer is no longer in the public pool."))
        if not pool_queryset(actor=actor).filter(pk=locked.pk).exists():
            raise NotFound(_("Customer not found in the public pool."))
        _check_limits(owner, claim=False)
        customer = _take_out(
            actor=actor,
            customer=locked,
            entries=entries,
            new_owner=owner,
            outcome=PoolEntry.Outcome.ASSIGNED,
            note=f"public pool: assigned to {owner.username}",
        )
        if owner.pk != actor.pk:
            notify(
                recipient=owner,
                title=_("%(customer)s was assigned to you") % {"customer": customer},
                body=_("%(manager)s assigned you this customer from the public pool.")
                % {"manager": actor},
                url=reverse("customers:customer-detail", args=[customer.pk]),
                kind="customers.pool_assign",
            )
    return customer


def _return(*, actor, customer: Customer, reason: str, note: str) -> PoolEntry:
    former = customer.owner
    before = snapshot(customer)
    customer.owner = None
    customer.version += 1
    customer.save(update_fields=["owner", "version", "updated_at"])
    entry = PoolEntry.objects.create(
        customer=customer, reason=reason, entered_by=actor, former_owner=former
    )
    audit_record(
        actor=actor,
        obj=customer,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=note,
    )
    return entry


def pool_release(*, actor, customer: Customer) -> PoolEntry:
    """Give a customer back to the pool (its owner, or anybody who may edit it)."""
    authorize(actor, "customers.change_customer")
    if not customer_queryset(actor=actor).filter(pk=customer.pk).exists():
        raise NotFound(_("Customer not found."))
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.is_deleted or locked.is_merged:
            raise Conflict(_("This customer is in the recycle bin or was merged."))
        if _lock_open_entries(locked):
            raise Conflict(_("This customer is in the public pool already."))
        return _return(
            actor=actor,
            customer=locked,
            reason=PoolEntry.Reason.RELEASED,
            note="public pool: released",
        )


def idle_customers(*, today: datetime.date, days: int):
    """Owned live customers outside the pool with no follow-up, creation or pool exit
    since the cutoff (local midnight `days` days before `today`)."""
    cutoff = _day_start(today - datetime.timedelta(days=days))
    return (
        _live()
        .filter(owner__isnull=False, created_at__lt=cutoff)
        .exclude(Exists(_open_entries()))
        .exclude(
            Exists(
                Activity.objects.filter(
                    customer=OuterRef("pk"), occurred_at__gte=cutoff
                )
            )
        )
        .exclude(
            Exists(
                PoolEntry.objects.filter(customer=OuterRef("pk"), left_at__gte=cutoff)
            )
        )
    )


def pool_recycle(*, today: datetime.date | None = None) -> int:
    """The daily job: idle customers return to the pool (one transaction each, re-checked
    under the customer's lock), and each former owner is told once which ones."""
    days = get_param("pool_idle_days")
    if not days:
        return 0
    today = today or timezone.localdate()
    idle = idle_customers(today=today, days=days)
    returned: dict[int, list[Customer]] = {}
    last = 0
    while True:
        batch = list(
            idle.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not batch:
            break
        last = batch[-1]
        for pk in batch:
            with transaction.atomic():
                locked = Customer.objects.select_for_update().filter(pk=pk).first()
                if locked is None or not idle.filter(pk=pk).exists():
                    continue  # followed up or claimed meanwhile
                former_id = locked.owner_id
                _return(
                    actor=None,
                    customer=locked,
                    reason=PoolEntry.Reason.IDLE,
                    note=f"public pool: no follow-up for {days} days",
                )
            returned.setdefault(former_id, []).append(locked)
    owners = User.objects.in_bulk(list(returned))
    for owner_id, customers in returned.items():
        names = "、".join(c.name for c in customers[:NOTIFY_NAMES])
        if len(customers) > NOTIFY_NAMES:
            names += "…"
        notify(
            recipient=owners.get(owner_id),
            title=ngettext(
                "%(n)d customer returned to the public pool",
                "%(n)d customers returned to the public pool",
                len(customers),
            )
            % {"n": len(customers)},
            body=_("No follow-up for %(days)d days: %(names)s")
            % {"days": days, "names": names},
            url=reverse("customers:pool"),
            kind="customers.pool_return",
            dedupe_key=f"customers.pool_return:{today.isoformat()}",
        )
    return sum(len(c) for c in returned.values())


# The pool tab of the 360° view (registered in apps.py)


def pool_tab_context(request, customer) -> dict:
    entries = list(pool_entries(customer=customer)[:50])
    is_in_pool = any(e.is_open for e in entries)
    return {
        "entries": entries,
        "in_pool": is_in_pool,
        "can_release": not is_in_pool
        and customer.owner_id is not None
        and can(request.user, "customers.change_customer"),
        "idle_days": get_param("pool_idle_days"),
    }
