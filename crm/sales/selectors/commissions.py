"""S7 reads: commission rules and periods (configuration, seen by whoever holds their
view permission), and commission lines, always in the viewer's sales scope: an
employee sees their own statement, a manager those of the people in their scope."""

from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Count, DecimalField, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import authorize, scope_q
from crm.org.models import Role
from crm.products.models import Category
from crm.sales.models import CommissionLine, CommissionPeriod, CommissionRule
from crm.sales.models.base import MONEY

User = get_user_model()
PERIOD_VIEW = "sales.view_commissionperiod"


def _id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Rules


class CommissionRuleFilter(django_filters.FilterSet):
    employee = django_filters.ModelChoiceFilter(
        label=_("employee"), queryset=User.objects.filter(is_active=True)
    )
    role = django_filters.ModelChoiceFilter(
        label=_("role"), queryset=Role.objects.all()
    )
    category = django_filters.ModelChoiceFilter(
        label=_("product category"), queryset=Category.objects.all()
    )
    is_active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = CommissionRule
        fields = ["employee", "role", "category", "is_active"]


@register
class CommissionRuleList(ListSpec):
    key = "sales.commissionrule"
    model = CommissionRule
    title = _("Commission rules")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("employee.name", _("employee"), sort="employee__name", field="employee"),
        Column("role.name", _("role"), sort="role__name", field="role"),
        Column(
            "category.name",
            _("product category"),
            sort="category__path",
            field="category",
        ),
        Column("rate", _("rate %"), sort="rate"),
        Column("is_active", _("active"), sort="is_active"),
    ]
    search_fields = ("name", "employee__name", "role__name", "category__name")
    filterset_class = CommissionRuleFilter
    default_sort = "name"
    select_related = ("employee", "role", "category")
    detail_url_name = "sales:commission-rule-detail"

    def base_queryset(self, user):
        return CommissionRule.objects.all()


def commission_rule_get(*, actor, pk) -> CommissionRule:
    authorize(actor, "sales.view_commissionrule")
    try:
        return CommissionRule.objects.select_related(
            "employee", "role", "category"
        ).get(pk=_id(pk))
    except CommissionRule.DoesNotExist:
        raise NotFound(_("Commission rule not found.")) from None


# Periods


class CommissionPeriodFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=CommissionPeriod.Status.choices
    )

    class Meta:
        model = CommissionPeriod
        fields = ["status"]


@register
class CommissionPeriodList(ListSpec):
    key = "sales.commissionperiod"
    model = CommissionPeriod
    title = _("Commission periods")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("start_on", _("start date"), sort="start_on"),
        Column("end_on", _("end date"), sort="end_on"),
        Column("status", _("status"), sort="status", choices=True),
        Column("computed_at", _("computed at"), sort="computed_at"),
        Column("closed_at", _("closed at"), sort="closed_at"),
    ]
    search_fields = ("name",)
    filterset_class = CommissionPeriodFilter
    default_sort = "-start_on"
    detail_url_name = "sales:commission-period-detail"

    def base_queryset(self, user):
        return CommissionPeriod.objects.all()


def commission_period_get(*, actor, pk) -> CommissionPeriod:
    authorize(actor, PERIOD_VIEW)
    try:
        return CommissionPeriod.objects.select_related("closed_by").get(pk=_id(pk))
    except CommissionPeriod.DoesNotExist:
        raise NotFound(_("Commission period not found.")) from None


# Lines and statements


def commission_line_queryset(*, actor) -> QuerySet[CommissionLine]:
    """The commission lines the viewer may see (theirs, or their scope's)."""
    return CommissionLine.objects.visible_to(actor)


class CommissionLineFilter(django_filters.FilterSet):
    period = django_filters.ModelChoiceFilter(
        label=_("period"), queryset=CommissionPeriod.objects.all()
    )
    employee = django_filters.ModelChoiceFilter(
        label=_("employee"), queryset=User.objects.all()
    )

    class Meta:
        model = CommissionLine
        fields = ["period", "employee"]


@register
class CommissionLineList(ListSpec):
    """A statement's lines (the export of a statement uses these columns)."""

    key = "sales.commissionline"
    model = CommissionLine
    title = _("Commission statement")
    columns = [
        Column("period.name", _("period"), sort="period__start_on", field="period"),
        Column("employee.name", _("employee"), sort="employee__name", field="employee"),
        Column(
            "payment.number",
            _("receipt number"),
            sort="payment__number",
            field="payment",
        ),
        Column(
            "payment.received_on",
            _("received on"),
            sort="payment__received_on",
            field="payment",
        ),
        Column("payment.customer.name", _("customer"), field="payment"),
        Column(
            "category.name",
            _("product category"),
            sort="category__path",
            field="category",
        ),
        Column("base_amount", _("collected amount"), sort="base_amount"),
        Column("rate", _("rate %"), sort="rate"),
        Column("amount", _("commission"), sort="amount"),
        Column("rule.name", _("rule"), field="rule"),
    ]
    search_fields = ("payment__number", "payment__customer__name", "employee__name")
    filterset_class = CommissionLineFilter
    default_sort = "pk"
    select_related = ("period", "employee", "payment__customer", "category", "rule")

    @property
    def view_perm(self) -> str:
        return PERIOD_VIEW

    def base_queryset(self, user):
        return commission_line_queryset(actor=user)


def _sum(field: str):
    return Coalesce(Sum(field), Decimal(0), output_field=DecimalField(**MONEY))


def commission_period_summary(*, actor, period: CommissionPeriod) -> list[dict]:
    """Per employee the viewer may see: receipts counted, collected base, commission."""
    return list(
        commission_line_queryset(actor=actor)
        .filter(period=period)
        .order_by()
        .values("employee", "employee__name", "employee__username")
        .annotate(
            lines=Count("pk"),
            payments=Count("payment", distinct=True),
            base=_sum("base_amount"),
            commission=_sum("amount"),
        )
        .order_by("-commission", "employee__name")
    )


def commission_statement(*, actor, period: CommissionPeriod, employee_id) -> dict:
    """One employee's statement for a period: their lines the viewer may see, and the
    totals. An employee outside the viewer's scope is not found (404)."""
    authorize(actor, PERIOD_VIEW)
    q = scope_q(actor, "sales", owner="pk", department="department")
    people = User.objects.all() if q is None else User.objects.filter(q)
    employee = people.filter(pk=_id(employee_id)).first()
    lines = (
        commission_line_queryset(actor=actor)
        .filter(period=period, employee_id=_id(employee_id))
        .select_related("payment__customer", "category", "rule")
        .order_by("payment__received_on", "payment__number", "pk")
    )
    if employee is None:
        # Outside the viewer's scope as a person, but their lines may be (a line
        # is booked to the receipt's department).
        if not lines.exists():
            raise NotFound(_("Commission statement not found.")) from None
        employee = User.objects.get(pk=_id(employee_id))
    totals = lines.aggregate(base=_sum("base_amount"), commission=_sum("amount"))
    return {"employee": employee, "lines": lines, "totals": totals}
