"""S1 lead reads, always through the sales data scope: the lead list (search, filters,
export), a lead with its follow-ups, possible customers to convert it into, and the
assignment rules."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.customers.models import Activity, Contact, Customer
from crm.customers.selectors import (
    contact_queryset,
    customer_queryset,
    duplicate_candidates,
)
from crm.org.models import Department, User
from crm.sales.models import AssignmentRule, Lead, LeadFollowUp

FOLLOW_UP_LIMIT = 200
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=Lead.Status.choices)
    source = django_filters.ChoiceFilter(label=_("source"), choices=Lead.Source.choices)
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    unassigned = django_filters.BooleanFilter(
        label=_("without owner"), field_name="owner", lookup_expr="isnull"
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"),
        queryset=Department.objects.all(),
        method="in_department",
    )
    follow_up_by = django_filters.DateFilter(
        label=_("next follow-up by"),
        field_name="next_follow_up_on",
        lookup_expr="lte",
        widget=DATE,
    )
    created_from = django_filters.DateFilter(
        label=_("created from"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=DATE,
    )
    created_to = django_filters.DateFilter(
        label=_("created to"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=DATE,
    )

    class Meta:
        model = Lead
        fields = ["status", "source"]

    def in_department(self, qs, name, value):
        """A department stands for its whole subtree."""
        return qs.filter(department__path__startswith=value.path) if value else qs


def lead_queryset(*, actor):
    """The leads the user may see (the sales data scope)."""
    return Lead.objects.visible_to(actor)


@register
class LeadList(ListSpec):
    key = "sales.lead"
    model = Lead
    title = _("Leads")
    columns = [
        Column("number", _("lead number"), sort="number", link=True),
        Column("name", _("contact name"), sort="name", link=True),
        Column("company", _("company"), sort="company"),
        Column("mobile", _("mobile")),
        Column("phone", _("phone")),
        Column("email", _("email")),
        Column("source", _("source"), sort="source", choices=True),
        Column("status", _("status"), sort="status", choices=True),
        Column("next_follow_up_on", _("next follow-up"), sort="next_follow_up_on"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("created_at", _("created at"), sort="created_at"),
    ]
    search_fields = ("number", "name", "company", "mobile", "phone", "email")
    filterset_class = LeadFilter
    default_sort = "-pk"
    select_related = ("owner", "department")
    detail_url_name = "sales:lead-detail"

    def base_queryset(self, user):
        return lead_queryset(actor=user)


def lead_get(*, actor, pk) -> Lead:
    """A lead within the user's scope, else NotFound (404)."""
    if not is_id(pk):
        raise NotFound(_("Lead not found."))
    try:
        return (
            lead_queryset(actor=actor)
            .select_related(
                "owner",
                "department",
                "region__parent__parent",
                "customer",
                "contact",
                "opportunity",
                "converted_by",
            )
            .get(pk=pk)
        )
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Lead not found.")) from None


def lead_follow_ups(*, actor, lead: Lead) -> list[LeadFollowUp]:
    """A lead's follow-ups, newest first (whoever sees the lead sees them), each with
    the label of its kind."""
    rows = list(
        LeadFollowUp.objects.visible_to(actor)
        .filter(lead=lead)
        .select_related("recorded_by")
        .order_by("-occurred_at", "-pk")[:FOLLOW_UP_LIMIT]
    )
    labels = dict(Activity.Kind.choices)
    for row in rows:
        row.kind_label = labels.get(row.kind, row.kind)
    return rows


def lead_customer_candidates(
    *, actor, lead: Lead, name: str = "", credit_code: str = ""
) -> tuple[list[dict], int]:
    """Customers the lead may already be (same name key, credit code or phone): those
    the user may see with the reasons, and how many more exist outside the scope."""
    return duplicate_candidates(
        actor=actor,
        name=name or lead.company or lead.name,
        credit_code=credit_code,
        phones=[lead.mobile, lead.phone],
    )


def lead_customer_get(*, actor, pk) -> Customer:
    """A live customer the user may see, to link a lead to; else NotFound."""
    if not is_id(pk):
        raise NotFound(_("Customer not found."))
    try:
        return customer_queryset(actor=actor).get(pk=pk)
    except Customer.DoesNotExist:
        raise NotFound(_("Customer not found.")) from None


def customer_contact_choices(*, actor, customer: Customer | None):
    """The contacts of a customer the user may pick when converting a lead."""
    if customer is None:
        return Contact.objects.none()
    return contact_queryset(actor=actor).filter(customer=customer)


# Assignment rules: configuration, seen whole by whoever may view them.


@register
class AssignmentRuleList(ListSpec):
    key = "sales.assignmentrule"
    model = AssignmentRule
    title = _("Lead assignment rules")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("source", _("lead source"), sort="source", choices=True),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("include_subdepartments", _("include sub-departments")),
        Column(
            "last_assigned.name",
            _("last assigned to"),
            field="last_assigned",
        ),
        Column("is_active", _("active"), sort="is_active"),
    ]
    search_fields = ("name",)
    default_sort = "priority"
    select_related = ("department", "last_assigned")
    detail_url_name = "sales:assignment-rule-detail"

    def base_queryset(self, user):
        return AssignmentRule.objects.all()


def assignment_rule_get(*, pk) -> AssignmentRule:
    if not is_id(pk):
        raise NotFound(_("Assignment rule not found."))
    try:
        return AssignmentRule.objects.select_related("department", "last_assigned").get(
            pk=pk
        )
    except AssignmentRule.DoesNotExist:
        raise NotFound(_("Assignment rule not found.")) from None


def rule_candidates(rule: AssignmentRule):
    """Who a rule gives leads to, in turn: the active employees of its department (and
    its sub-departments if it says so), in id order."""
    people = User.objects.filter(is_active=True)
    if rule.include_subdepartments:
        people = people.filter(department__path__startswith=rule.department.path)
    else:
        people = people.filter(department_id=rule.department_id)
    return people.order_by("pk")
