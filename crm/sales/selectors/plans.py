"""S8 sales plans (销售计划): targets and their achievement.

A target's actual figures belong to its subject, not to the viewer: an employee target
counts the confirmed or completed orders (and posted payments) *owned by the employee*
in the period; a department target counts those whose department is in the department's
*subtree*, so department totals roll up the tree. Who may see a target is decided by the
sales data scope (an employee target is owned by the employee and sits in their
department; a department target has no owner and is owned by its department).

Every actual is a SQL aggregate: the target list annotates each target with correlated
subqueries (one query for a whole page), the department view annotates the departments
the same way. Nothing loops over orders or payments in Python.
"""

import datetime
from calendar import monthrange
from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django.db.models import (
    Case,
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import DataScope, data_scopes, scope_q
from crm.org.models import Department, User
from crm.sales.models import Payment, SalesOrder, SalesTarget

ORDERED = (SalesOrder.Status.CONFIRMED, SalesOrder.Status.COMPLETED)
SUM_FIELD = DecimalField(max_digits=30, decimal_places=6)
ZERO = Decimal("0")
RATE_PLACES = Decimal("0.1")

# Each kind of actual: the model, its date and amount columns, which rows count.
KINDS = {
    "order": (SalesOrder, "ordered_on", "total", Q(status__in=ORDERED)),
    "collection": (Payment, "received_on", "amount", Q(status=Payment.Status.POSTED)),
}


# Periods


def period_bounds(period_type: str, year: int, period: int = 1):
    """First and last day of a month, a quarter or a year (both included)."""
    if period_type == SalesTarget.PeriodType.MONTH:
        first_month, last_month = period, period
    elif period_type == SalesTarget.PeriodType.QUARTER:
        first_month, last_month = 3 * period - 2, 3 * period
    else:
        first_month, last_month = 1, 12
    start = datetime.date(year, first_month, 1)
    end = datetime.date(year, last_month, monthrange(year, last_month)[1])
    return start, end


def period_label(period_type: str, year: int, period: int) -> str:
    if period_type == SalesTarget.PeriodType.MONTH:
        return f"{year}-{period:02d}"
    if period_type == SalesTarget.PeriodType.QUARTER:
        return f"{year} Q{period}"
    return str(year)


def achievement_rate(actual, target) -> Decimal | None:
    """Actual as a percentage of the target, one decimal, half up; None for no target."""
    if not target:
        return None
    rate = Decimal(actual or 0) * 100 / Decimal(target)
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


# Who and which departments a sales user may plan for


def sales_employees(*, actor) -> QuerySet:
    """Active employees whose sales records the actor may see (the sales data scope
    applied to the employee as owner of their own records, in their department)."""
    q = scope_q(actor, "sales", owner="pk", department="department")
    qs = User.objects.filter(is_active=True)
    if q is not None:
        qs = qs.filter(q)
    return qs.select_related("department").order_by("department__path", "name", "pk")


def sales_departments(*, actor) -> QuerySet:
    """Departments whose department-owned sales records the actor may see: all of them,
    their own department, or their department's subtree."""
    scopes = data_scopes(actor, "sales")
    if DataScope.ALL in scopes:
        return Department.objects.order_by("path")
    ids: set[int] = set()
    if actor.department_id and DataScope.DEPARTMENT in scopes:
        ids.add(actor.department_id)
    if actor.department_id and DataScope.DEPARTMENT_TREE in scopes:
        ids.update(actor.department_subtree_ids())
    return Department.objects.filter(pk__in=ids).order_by("path")


# Actuals as SQL


def _sum(qs, amount: str):
    """SUM(amount) of a correlated queryset as one scalar subquery (no GROUP BY)."""
    summed = qs.order_by().annotate(
        s=Func(F(amount), function="SUM", output_field=SUM_FIELD)
    )
    return Coalesce(
        Subquery(summed.values("s")[:1], output_field=SUM_FIELD),
        Value(ZERO),
        output_field=SUM_FIELD,
    )


def _target_months() -> dict:
    """The first and last month a target's period covers, computed in SQL."""
    return {
        "first_month": Case(
            When(period_type="month", then=F("period")),
            When(period_type="quarter", then=F("period") * 3 - 2),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "last_month": Case(
            When(period_type="month", then=F("period")),
            When(period_type="quarter", then=F("period") * 3),
            default=Value(12),
            output_field=IntegerField(),
        ),
    }


def _target_actual(kind: str):
    """A target's actual of one kind: the subject's rows in the target's period."""
    model, date_field, amount, counts = KINDS[kind]
    in_period = model.objects.filter(
        counts,
        **{
            f"{date_field}__year": OuterRef("year"),
            f"{date_field}__month__gte": OuterRef("first_month"),
            f"{date_field}__month__lte": OuterRef("last_month"),
        },
    )
    by_employee = _sum(in_period.filter(owner=OuterRef("owner")), amount)
    by_department = _sum(
        in_period.filter(department__path__startswith=OuterRef("department__path")),
        amount,
    )
    return Case(
        When(owner__isnull=True, then=by_department),
        default=by_employee,
        output_field=SUM_FIELD,
    )


def with_achievement(qs: QuerySet) -> QuerySet:
    """Targets annotated with `order_actual` and `collection_actual`."""
    return (
        qs.annotate(**_target_months())
        .annotate(
            order_actual=_target_actual("order"),
            collection_actual=_target_actual("collection"),
        )
        .select_related("owner", "department")
    )


def target_queryset(*, actor) -> QuerySet:
    """The targets the actor may see, with their actuals."""
    return with_achievement(SalesTarget.objects.visible_to(actor))


def target_get(*, actor, pk) -> SalesTarget:
    try:
        return target_queryset(actor=actor).get(pk=pk)
    except (SalesTarget.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Sales target not found.")) from None


# The list (X1)


class TargetFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("year"))
    period_type = django_filters.ChoiceFilter(
        label=_("period type"), choices=SalesTarget.PeriodType.choices
    )
    period = django_filters.NumberFilter(label=_("period"))
    subject = django_filters.ChoiceFilter(
        label=_("target of"),
        choices=[("employee", _("Employee")), ("department", _("Department"))],
        method="of_subject",
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"),
        queryset=Department.objects.all(),
        method="in_department",
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("employee"), queryset=User.objects.all()
    )

    class Meta:
        model = SalesTarget
        fields = ["year", "period_type", "period", "owner"]

    def of_subject(self, qs, name, value):
        if value == "employee":
            return qs.filter(owner__isnull=False)
        if value == "department":
            return qs.filter(owner__isnull=True)
        return qs

    def in_department(self, qs, name, value):
        """A department stands for its subtree: its own and its employees' targets."""
        return qs.filter(department__path__startswith=value.path) if value else qs


class RateColumn(Column):
    """Achievement % of one kind, computed from the row's annotations ("—" for no target)."""

    def value(self, obj):
        kind = self.name.removesuffix("_rate")
        rate = achievement_rate(
            getattr(obj, f"{kind}_actual", None), getattr(obj, f"{kind}_target")
        )
        return None if rate is None else f"{rate}%"


class PeriodColumn(Column):
    """The target's period as people write it: 2026-03, 2026 Q1, 2026."""

    def value(self, obj):
        return period_label(obj.period_type, obj.year, obj.period)


@register
class TargetList(ListSpec):
    key = "sales.salestarget"
    model = SalesTarget
    title = _("Sales targets")
    columns = [
        PeriodColumn("period_name", _("period"), sort="year", field="year", link=True),
        Column("period_type", _("period type"), sort="period_type", choices=True),
        Column("owner.name", _("employee"), sort="owner__name", field="owner"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("order_target", _("order target"), sort="order_target"),
        Column("order_actual", _("orders"), sort="order_actual", field="order_target"),
        RateColumn("order_rate", _("order achievement"), field="order_target"),
        Column("collection_target", _("collection target"), sort="collection_target"),
        Column(
            "collection_actual",
            _("collections"),
            sort="collection_actual",
            field="collection_target",
        ),
        RateColumn(
            "collection_rate", _("collection achievement"), field="collection_target"
        ),
        Column("notes", _("notes")),
    ]
    search_fields = ("owner__name", "owner__username", "department__name", "notes")
    filterset_class = TargetFilter
    default_sort = "-year"
    detail_url_name = "sales:target-detail"

    def base_queryset(self, user):
        return target_queryset(actor=user)


# The department view: roll-up of one period


def department_achievement(
    *, actor, period_type: str, year: int, period: int = 1
) -> list[dict]:
    """For every department the actor plans for, in one query: its own targets, the sum
    of the employee targets in its subtree, and the actual orders and collections of its
    subtree in the period."""
    start, end = period_bounds(period_type, year, period)
    own = SalesTarget.objects.filter(
        owner__isnull=True,
        department=OuterRef("pk"),
        period_type=period_type,
        year=year,
        period=period,
    )
    employees = SalesTarget.objects.filter(
        owner__isnull=False,
        department__path__startswith=OuterRef("path"),
        period_type=period_type,
        year=year,
        period=period,
    )
    annotations = {}
    for kind, (model, date_field, amount, counts) in KINDS.items():
        annotations[f"{kind}_target"] = Subquery(
            own.values(f"{kind}_target")[:1], output_field=SUM_FIELD
        )
        annotations[f"{kind}_employee_targets"] = _sum(employees, f"{kind}_target")
        annotations[f"{kind}_actual"] = _sum(
            model.objects.filter(
                counts,
                department__path__startswith=OuterRef("path"),
                **{f"{date_field}__range": (start, end)},
            ),
            amount,
        )
    rows = []
    for dept in sales_departments(actor=actor).annotate(**annotations):
        row = {"department": dept, "id": dept.pk, "name": dept.name}
        row["depth"] = dept.depth
        row["has_target"] = dept.order_target is not None
        for kind in KINDS:
            target = getattr(dept, f"{kind}_target")
            row[f"{kind}_target"] = target
            row[f"{kind}_employee_targets"] = getattr(dept, f"{kind}_employee_targets")
            row[f"{kind}_actual"] = getattr(dept, f"{kind}_actual")
            row[f"{kind}_rate"] = achievement_rate(row[f"{kind}_actual"], target)
        rows.append(row)
    return rows
