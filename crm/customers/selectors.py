"""Reads for customers and contacts, always through the customers data scope (Y5, C3, C5)."""

import django_filters
from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy as _

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.fieldrights import field_rights
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import can
from crm.core.search import may_contain
from crm.customers.models import Contact, Customer, Region
from crm.customers.naming import name_key
from crm.org.models import Department, User

PHONE_FIELDS = ("main_phone", "finance_phone")
# C3: the columns behind the gram indexes of migration 0006 (crm.core.search).
CUSTOMER_GRAMS = ("name", "mnemonic", "number", "name_initials", *PHONE_FIELDS)
CONTACT_GRAMS = ("name", "mobile")


_region_choices: dict[tuple, list] = {}


def region_filter_choices() -> list[tuple]:
    """Provinces and cities with their full names, for filters: built once per process (the
    region table is reference data) and again when it changes. Building them per request cost
    ~20 ms of the customer list (X6)."""
    cities = Region.objects.filter(level__lte=Region.Level.CITY)
    stamp = tuple(cities.aggregate(n=Count("pk"), last=Max("pk")).values())
    if stamp not in _region_choices:
        _region_choices.clear()
        _region_choices[stamp] = [("", "---------")] + [
            (region.pk, region.full_name)
            for region in cities.select_related("parent").order_by("code")
        ]
    return _region_choices[stamp]


class CustomerFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(
        label=_("level"), choices=Customer.Level.choices
    )
    type = django_filters.ChoiceFilter(label=_("type"), choices=Customer.Type.choices)
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Customer.Status.choices
    )
    industry = django_filters.ChoiceFilter(
        label=_("industry"), choices=Customer.Industry.choices
    )
    credit_rating = django_filters.ChoiceFilter(
        label=_("credit rating"), choices=Customer.CreditRating.choices
    )
    region = django_filters.ModelChoiceFilter(
        label=_("region"),
        queryset=Region.objects.filter(level__lte=Region.Level.CITY).select_related(
            "parent"
        ),
        method="in_region",
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"),
        queryset=User.objects.filter(is_active=True).only("pk", "name", "username"),
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"),
        queryset=Department.objects.only("pk", "name", "path"),
        method="in_department",
    )
    min_credit_limit = django_filters.NumberFilter(
        label=_("credit limit from"), field_name="credit_limit", lookup_expr="gte"
    )
    max_credit_limit = django_filters.NumberFilter(
        label=_("credit limit to"), field_name="credit_limit", lookup_expr="lte"
    )

    class Meta:
        model = Customer
        fields = ["level", "type", "status", "industry", "credit_rating"]

    @property
    def form(self):
        if not hasattr(self, "_form"):
            super().form.fields["region"].widget.choices = region_filter_choices()
        return super().form

    def in_region(self, qs, name, value):
        """A province or city stands for everything in it."""
        return qs.filter(region__path__startswith=value.path) if value else qs

    def in_department(self, qs, name, value):
        """A department stands for its whole subtree."""
        return qs.filter(department__path__startswith=value.path) if value else qs


def customer_queryset(*, actor):
    """Live customers the user may see: not in the recycle bin, not merged away."""
    return Customer.objects.visible_to(actor).filter(
        deleted_at__isnull=True, merged_into__isnull=True
    )


@register
class CustomerList(ListSpec):
    key = "customers.customer"
    model = Customer
    title = _("Customers")
    columns = [
        Column("number", _("customer number"), sort="number", link=True),
        Column("name", _("customer name"), sort="name", link=True),
        Column("mnemonic", _("mnemonic code"), sort="mnemonic"),
        Column("level", _("level"), sort="level", choices=True),
        Column("type", _("type"), sort="type", choices=True),
        Column("status", _("status"), sort="status", choices=True),
        Column("industry", _("industry"), sort="industry", choices=True),
        Column("region.full_name", _("region"), sort="region__code", field="region"),
        Column("main_phone", _("main phone")),
        Column("credit_limit", _("credit limit"), sort="credit_limit"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("created_at", _("created at"), sort="created_at"),
    ]
    filterset_class = CustomerFilter
    default_sort = "-pk"
    select_related = ("region__parent__parent", "owner", "department")
    detail_url_name = "customers:customer-detail"

    def base_queryset(self, user):
        return customer_queryset(actor=user)

    def search(self, qs, term, user):
        """C3/C4: any part of the name, mnemonic or number, a pinyin-initials prefix
        (`bjhw` finds 北京华为…), a phone, or a contact's name or mobile. Hidden fields
        (Y5) are not searched. One id set from customers UNION contacts, so that each
        side can use its own trigram indexes on PostgreSQL."""
        if not term:
            return qs
        hidden = field_rights(user, Customer).hidden
        contact_hidden = field_rights(user, Contact).hidden
        direct = (
            Q(name__icontains=term)
            | Q(mnemonic__icontains=term)
            | Q(number__icontains=term)
            | Q(name_initials__istartswith=term)
        )
        for name in PHONE_FIELDS:
            if name not in hidden:
                direct |= Q(**{f"{name}__icontains": term})
        by_contact = Q(name__icontains=term)
        if "mobile" not in contact_hidden:
            by_contact |= Q(mobile__icontains=term)
        # The customer side is searched within the viewer's rows already (the page's
        # scope and filters): the union then holds a fifth of the ids for a manager (X6).
        customers, contacts = qs, Contact.objects.all()
        if narrow := may_contain(CUSTOMER_GRAMS, term):
            customers = customers.filter(narrow)
        if narrow := may_contain(CONTACT_GRAMS, term):
            contacts = contacts.filter(narrow)
        ids = (
            customers.filter(direct)
            .order_by()
            .values("pk")
            .union(contacts.filter(by_contact).order_by().values("customer_id"))
        )
        return qs.filter(pk__in=ids)


class ContactFilter(django_filters.FilterSet):
    is_primary = django_filters.BooleanFilter(label=_("primary contact"))
    gender = django_filters.ChoiceFilter(
        label=_("gender"), choices=Contact.Gender.choices
    )
    responsible = django_filters.ModelChoiceFilter(
        label=_("responsible employee"), queryset=User.objects.filter(is_active=True)
    )

    class Meta:
        model = Contact
        fields = ["is_primary", "gender", "responsible"]


def contact_queryset(*, actor):
    """Contacts of the live customers the user may see."""
    return Contact.objects.visible_to(actor).filter(
        customer__deleted_at__isnull=True, customer__merged_into__isnull=True
    )


@register
class ContactList(ListSpec):
    key = "customers.contact"
    model = Contact
    title = _("Contacts")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("customer.name", _("customer"), sort="customer__name", field="customer"),
        Column("department_name", _("department")),
        Column("position", _("position"), sort="position"),
        Column("mobile", _("mobile")),
        Column("office_phone", _("office phone")),
        Column("email", _("email")),
        Column("is_primary", _("primary contact"), sort="is_primary"),
        Column(
            "responsible.name",
            _("responsible employee"),
            sort="responsible__name",
            field="responsible",
        ),
    ]
    search_fields = ("name", "mobile", "office_phone", "email", "customer__name")
    filterset_class = ContactFilter
    default_sort = "-pk"
    select_related = ("customer", "responsible")
    detail_url_name = "customers:contact-detail"

    def base_queryset(self, user):
        return contact_queryset(actor=user)


@register
class RecycleBinList(ListSpec):
    """C3: deleted customers an administrator may restore."""

    key = "customers.bin"
    model = Customer
    title = _("Customer recycle bin")
    view_perm = "customers.restore_customer"
    columns = [
        Column("number", _("customer number"), sort="number", link=True),
        Column("name", _("customer name"), sort="name", link=True),
        Column("deleted_at", _("deleted at"), sort="deleted_at"),
        Column("deleted_by.name", _("deleted by"), field="deleted_by"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
        Column("department.name", _("department"), field="department"),
    ]
    search_fields = ("name", "number", "mnemonic")
    default_sort = "-deleted_at"
    select_related = ("deleted_by", "owner", "department")
    detail_url_name = "customers:customer-detail"

    def base_queryset(self, user):
        return Customer.objects.visible_to(user).filter(
            deleted_at__isnull=False, merged_into__isnull=True
        )


CUSTOMER_SPEC = CustomerList()


# Customers


def customer_get(*, actor, pk) -> Customer:
    """A live customer within the user's scope, else NotFound (404)."""
    if not is_id(pk):
        raise NotFound(_("Customer not found."))
    try:
        return (
            customer_queryset(actor=actor)
            .select_related("region__parent__parent", "parent", "owner", "department")
            .get(pk=pk)
        )
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Customer not found.")) from None


def customer_get_any(*, actor, pk) -> Customer:
    """A customer within the scope, also in the recycle bin or merged away (a tombstone)."""
    if not is_id(pk):
        raise NotFound(_("Customer not found."))
    try:
        return (
            Customer.objects.visible_to(actor)
            .select_related(
                "region__parent__parent",
                "parent",
                "owner",
                "department",
                "merged_into",
                "deleted_by",
            )
            .get(pk=pk)
        )
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Customer not found.")) from None


def customers_get(*, actor, pks) -> list[Customer]:
    """Several live customers, each within the scope, in the order asked; else 404."""
    wanted = []
    for pk in pks:
        if not is_id(pk):
            raise NotFound(_("Customer not found."))
        pk = int(pk)
        if pk not in wanted:
            wanted.append(pk)
    found = {
        c.pk: c
        for c in customer_queryset(actor=actor)
        .select_related("region__parent__parent", "parent", "owner", "department")
        .filter(pk__in=wanted)
    }
    if len(found) != len(wanted):
        raise NotFound(_("Customer not found."))
    return [found[pk] for pk in wanted]


def customer_by_number(*, actor, number: str) -> Customer:
    try:
        return customer_queryset(actor=actor).get(number__iexact=number.strip())
    except Customer.DoesNotExist:
        raise NotFound(
            _("No customer %(number)s within your scope.") % {"number": number}
        ) from None


def customer_children(*, actor, customer: Customer):
    """The subsidiaries (下级单位) the user may see."""
    return (
        customer_queryset(actor=actor)
        .filter(parent=customer)
        .select_related("region__parent__parent", "owner")
        .order_by("name", "pk")
    )


def customer_contacts(*, actor, customer: Customer):
    return (
        contact_queryset(actor=actor)
        .filter(customer=customer)
        .select_related("responsible", "supervisor")
    )


def customer_facts(*, actor, customer: Customer) -> dict:
    """The 360° header: primary contact and counts, in a constant number of queries."""
    contacts = customer_contacts(actor=actor, customer=customer)
    return {
        "primary_contact": contacts.filter(is_primary=True).first()
        if can(actor, "customers.view_contact")
        else None,
        "children_count": customer_children(actor=actor, customer=customer).count(),
    }


# Tabs of the 360° view (registered in apps.py)


def contacts_tab_context(request, customer) -> dict:
    user = request.user
    return {
        "contacts": customer_contacts(actor=user, customer=customer),
        "hidden": field_rights(user, Contact).hidden,
        "can_add": can(user, "customers.add_contact"),
        "can_change": can(user, "customers.change_contact"),
        "can_delete": can(user, "customers.delete_contact"),
    }


def contacts_tab_count(user, customer) -> int:
    return customer_contacts(actor=user, customer=customer).count()


def subsidiaries_tab_context(request, customer) -> dict:
    return {"children": customer_children(actor=request.user, customer=customer)}


def subsidiaries_tab_count(user, customer) -> int:
    return customer_children(actor=user, customer=customer).count()


# Contacts


def contact_get(*, actor, pk) -> Contact:
    if not is_id(pk):
        raise NotFound(_("Contact not found."))
    try:
        return (
            contact_queryset(actor=actor)
            .select_related("customer", "responsible", "supervisor")
            .get(pk=pk)
        )
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Contact not found.")) from None


# Duplicates (C3)

SIMILAR_MIN_LENGTH = 4
CANDIDATE_LIMIT = 20


def duplicate_candidates(
    *, actor, name="", credit_code="", phones=(), exclude_pk=None
) -> tuple[list[dict], int]:
    """Customers that may be the same as the one described: same credit code, same or
    similar name, same phone (main phone or a contact's mobile). Returns the candidates
    the user may see, each with its reasons, and how many more exist outside the scope."""
    key = name_key(name) if name else ""
    phones = [p.strip() for p in phones if p and p.strip()]
    reasons: dict[str, Q] = {}
    if credit_code.strip():
        reasons["credit_code"] = Q(credit_code=credit_code.strip().upper())
    if key:
        reasons["same_name"] = Q(name_key=key)
        if len(key) >= SIMILAR_MIN_LENGTH:
            # Their name contains this one's key, or this key contains theirs.
            parts = {
                key[start:end]
                for start in range(len(key))
                for end in range(start + SIMILAR_MIN_LENGTH, len(key) + 1)
            }
            parts.discard(key)
            similar = Q(name__icontains=key)
            if parts:
                similar |= Q(name_key__in=sorted(parts)[:500])
            reasons["similar_name"] = similar & ~Q(name_key=key)
    if phones:
        reasons["phone"] = (
            Q(main_phone__in=phones)
            | Q(finance_phone__in=phones)
            | Q(
                pk__in=Contact.objects.filter(
                    Q(mobile__in=phones) | Q(office_phone__in=phones)
                ).values("customer_id")
            )
        )
    if not reasons:
        return [], 0
    everything = Customer.objects.filter(
        deleted_at__isnull=True, merged_into__isnull=True
    )
    if exclude_pk:
        everything = everything.exclude(pk=exclude_pk)
    any_reason = Q(pk__in=[])
    for q in reasons.values():
        any_reason |= q
    matches = everything.filter(any_reason)
    visible = matches.filter(pk__in=customer_queryset(actor=actor).values("pk"))
    hidden_count = matches.count() - visible.count()
    rows = list(
        visible.select_related("owner", "region__parent__parent").order_by("pk")[
            :CANDIDATE_LIMIT
        ]
    )
    ids = [c.pk for c in rows]
    per_reason = {
        reason: set(everything.filter(q, pk__in=ids).values_list("pk", flat=True))
        for reason, q in reasons.items()
    }
    labels = {
        "credit_code": _("same credit code"),
        "same_name": _("same name"),
        "similar_name": _("similar name"),
        "phone": _("same phone"),
    }
    candidates = [
        {
            "customer": customer,
            "reasons": [
                labels[r] for r, found in per_reason.items() if customer.pk in found
            ],
        }
        for customer in rows
    ]
    return candidates, hidden_count


def duplicate_groups(*, actor, limit: int = 50) -> list[dict]:
    """Groups of live customers in the user's scope sharing a credit code, a name key or
    a main phone: what the duplicates page lists, each group ready to merge."""
    base = customer_queryset(actor=actor)
    groups = []
    for field, label in (
        ("credit_code", _("Same credit code")),
        ("name_key", _("Same or similar name")),
        ("main_phone", _("Same phone")),
    ):
        if field in field_rights(actor, Customer).hidden:
            continue
        values = (
            base.exclude(**{field: ""})
            .order_by()
            .values(field)
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .order_by("-n", field)
            .values_list(field, flat=True)[:limit]
        )
        values = list(values)
        if not values:
            continue
        members: dict[str, list[Customer]] = {v: [] for v in values}
        for customer in (
            base.filter(**{f"{field}__in": values})
            .select_related("owner", "region__parent__parent")
            .order_by("pk")
        ):
            members[getattr(customer, field)].append(customer)
        for value in values:
            groups.append(
                {
                    "reason": label,
                    "field": field,
                    "value": value,
                    "customers": members[value],
                }
            )
    return groups


# Regions


def provinces():
    return Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")


def region_children(parent: Region | None):
    if parent is None:
        return Region.objects.none()
    return Region.objects.filter(parent=parent).order_by("code")


def region_get(pk) -> Region | None:
    if not is_id(pk):
        return None
    return Region.objects.select_related("parent__parent").filter(pk=int(pk)).first()
