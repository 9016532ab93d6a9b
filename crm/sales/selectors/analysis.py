"""S9 sales analysis (销售分析): funnel, win rate, weighted forecast, rankings, monthly
trend, and breakdowns by region, product category, product and department.

Every number is a SQL aggregate (GROUP BY, conditional aggregation, TruncMonth) over the
viewer's sales data scope (`visible_to`), narrowed by the filters: a period (a year or a
date range), a department (its subtree) and an owner. Each section runs a fixed number of
queries whatever the number of rows; Python only shapes the aggregated rows.

What counts:
- orders: confirmed or completed sales orders, amount `total` (tax included), dated
  `ordered_on`; product and category figures sum the order lines' totals;
- collections: posted payments, `amount`, dated `received_on`;
- the funnel: the open opportunities now, per stage (the current pipeline, not limited
  to the period), plus those won and lost with `closed_at` in the period;
- win rate: won / (won + lost) among the opportunities closed in the period;
- forecast: open opportunities by the month of their expected close (in the period),
  weighted by their stage's probability; open ones without a date are shown apart;
- trend: the 12 months up to the period's end (or today, if earlier).

Order figures need `sales.view_salesorder`, collections `sales.view_payment`, leads
`sales.view_lead`; a section the viewer may not read is None.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.db.models import Count, DecimalField, F, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.api.serializers import is_id
from crm.core.errors import Invalid
from crm.core.periods import PeriodForm
from crm.core.scopes import authorize, can
from crm.customers.models import Customer, Region
from crm.org.models import Department, User
from crm.sales.models import (
    Lead,
    Opportunity,
    Payment,
    SalesOrder,
    SalesOrderLine,
    Stage,
)
from crm.sales.selectors.plans import ORDERED, sales_departments, sales_employees

SUM_FIELD = DecimalField(max_digits=30, decimal_places=6)
ZERO = Decimal("0")
NO_AMOUNT = Decimal("-1e15")  # below any order total: fewer than TOP customers
MONEY_PLACES = Decimal("0.000001")
RATE_PLACES = Decimal("0.1")
TREND_MONTHS = 12
TOP = 10
TOP_PRODUCTS = 20


# Filters


class IdChoiceField(forms.ModelChoiceField):
    """A record choice that refuses what is no id before asking the database."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not is_id(str(value)):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class AnalysisFilterForm(PeriodForm):
    """The filters of the analysis page and API; department and owner choices are
    those within the viewer's sales data scope."""

    department = IdChoiceField(
        label=gettext_lazy("department"),
        queryset=Department.objects.none(),
        required=False,
    )
    owner = IdChoiceField(
        label=gettext_lazy("owner"), queryset=User.objects.none(), required=False
    )

    def __init__(self, data=None, *, user, today=None, **kwargs):
        super().__init__(data, today=today, **kwargs)
        self.fields["department"].queryset = sales_departments(actor=user)
        self.fields["department"].label_from_instance = lambda d: (
            f"{'　' * d.depth}{d.name}"
        )
        self.fields["owner"].queryset = sales_employees(actor=user)


@dataclass(frozen=True)
class AnalysisFilters:
    date_from: datetime.date
    date_to: datetime.date
    department: Department | None = None
    owner: User | None = None
    today: datetime.date | None = None

    @property
    def start_at(self) -> datetime.datetime:
        return _midnight(self.date_from)

    @property
    def end_before(self) -> datetime.datetime:
        return _midnight(self.date_to + datetime.timedelta(days=1))

    def as_dict(self) -> dict:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "department": self.department.pk if self.department else None,
            "owner": self.owner.pk if self.owner else None,
        }


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def analysis_filters(*, actor, params, today=None) -> AnalysisFilters:
    """The filters from query parameters, or Invalid (400) naming the wrong ones."""
    form = AnalysisFilterForm(
        {
            k: params.get(k)
            for k in ("year", "date_from", "date_to", "department", "owner")
            if params.get(k) not in (None, "")
        },
        user=actor,
        today=today,
    )
    if not form.is_valid():
        fields = {name: [str(m) for m in msgs] for name, msgs in form.errors.items()}
        raise Invalid(_("Some filters are invalid."), fields=fields)
    data = form.cleaned_data
    return AnalysisFilters(
        date_from=data["date_from"],
        date_to=data["date_to"],
        department=data.get("department"),
        owner=data.get("owner"),
        today=form.today,
    )


# Shared pieces


def _scoped(model, actor, filters: AnalysisFilters, *, via: str = ""):
    """The viewer's rows of a sales model, narrowed to the department and owner."""
    qs = model.objects.visible_to(actor)
    if filters.department is not None:
        qs = qs.filter(
            **{f"{via}department__path__startswith": filters.department.path}
        )
    if filters.owner is not None:
        qs = qs.filter(**{f"{via}owner": filters.owner})
    return qs.order_by()


def _orders(actor, filters: AnalysisFilters):
    return _scoped(SalesOrder, actor, filters).filter(status__in=ORDERED)


def _period_orders(actor, filters: AnalysisFilters):
    return _orders(actor, filters).filter(
        ordered_on__range=(filters.date_from, filters.date_to)
    )


def _payments(actor, filters: AnalysisFilters):
    return _scoped(Payment, actor, filters).filter(status=Payment.Status.POSTED)


def _period_payments(actor, filters: AnalysisFilters):
    return _payments(actor, filters).filter(
        received_on__range=(filters.date_from, filters.date_to)
    )


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def rate(part, whole) -> Decimal | None:
    """part / whole as a percentage, one decimal, half up; None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(
        RATE_PLACES, rounding=ROUND_HALF_UP
    )


def _month_key(value) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return value.isoformat()[:7]


def _months(first: datetime.date, last: datetime.date) -> list[str]:
    """'YYYY-MM' of every month from first's to last's, both included."""
    keys, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _weighted(amount_times_probability) -> Decimal:
    """Σ amount × probability is summed in SQL; the /100 is exact here (SQLite would
    divide integers)."""
    return _money(Decimal(amount_times_probability or 0) / 100)


WEIGHTED = Sum(F("amount") * F("stage__probability"), output_field=SUM_FIELD)


def _name(value, fallback) -> str:
    return value or str(fallback)


# Sections


def funnel(*, actor, filters: AnalysisFilters) -> dict:
    """Open opportunities per stage (count, amount, weighted), and won and lost ones
    closed in the period. Three queries."""
    authorize(actor, "sales.view_opportunity")
    opportunities = _scoped(Opportunity, actor, filters)
    per_stage = {
        row["stage"]: row
        for row in opportunities.filter(status=Opportunity.Status.OPEN)
        .values("stage")
        .annotate(n=Count("pk"), summed=Sum("amount"), weighted=WEIGHTED)
    }
    stages = []
    for stage in Stage.objects.filter(kind=Stage.Kind.OPEN).order_by(
        "sort_order", "pk"
    ):
        row = per_stage.get(stage.pk)
        if row is None and not stage.is_active:
            continue
        stages.append(
            {
                "id": stage.pk,
                "name": stage.name,
                "probability": stage.probability,
                "count": row["n"] if row else 0,
                "amount": _money(row["summed"] if row else 0),
                "weighted": _weighted(row["weighted"] if row else 0),
            }
        )
    closed = opportunities.filter(
        closed_at__gte=filters.start_at, closed_at__lt=filters.end_before
    ).aggregate(
        won=Count("pk", filter=Q(status=Opportunity.Status.WON)),
        won_amount=Sum("amount", filter=Q(status=Opportunity.Status.WON)),
        lost=Count("pk", filter=Q(status=Opportunity.Status.LOST)),
        lost_amount=Sum("amount", filter=Q(status=Opportunity.Status.LOST)),
    )
    return {
        "stages": stages,
        "open_count": sum(s["count"] for s in stages),
        "open_amount": _money(sum((s["amount"] for s in stages), ZERO)),
        "open_weighted": _money(sum((s["weighted"] for s in stages), ZERO)),
        "won": {"count": closed["won"], "amount": _money(closed["won_amount"])},
        "lost": {"count": closed["lost"], "amount": _money(closed["lost_amount"])},
    }


def win_rate(*, actor, filters: AnalysisFilters) -> dict:
    """Won / (won + lost) of the opportunities closed in the period, overall and per
    owner. Two queries."""
    authorize(actor, "sales.view_opportunity")
    closed = _scoped(Opportunity, actor, filters).filter(
        closed_at__gte=filters.start_at,
        closed_at__lt=filters.end_before,
        status__in=(Opportunity.Status.WON, Opportunity.Status.LOST),
    )
    counts = {
        "won": Count("pk", filter=Q(status=Opportunity.Status.WON)),
        "lost": Count("pk", filter=Q(status=Opportunity.Status.LOST)),
        "won_amount": Sum("amount", filter=Q(status=Opportunity.Status.WON)),
    }
    overall = closed.aggregate(**counts)
    by_owner = [
        {
            "id": row["owner"],
            "name": _name(row["owner__name"] or row["owner__username"], _("Nobody")),
            "won": row["won"],
            "lost": row["lost"],
            "won_amount": _money(row["won_amount"]),
            "rate": rate(row["won"], row["won"] + row["lost"]),
        }
        for row in closed.values("owner", "owner__name", "owner__username")
        .annotate(**counts)
        .order_by("-won", "lost", "owner__name", "owner")
    ]
    return {
        "won": overall["won"],
        "lost": overall["lost"],
        "won_amount": _money(overall["won_amount"]),
        "rate": rate(overall["won"], overall["won"] + overall["lost"]),
        "by_owner": by_owner,
    }


def forecast(*, actor, filters: AnalysisFilters) -> dict:
    """Open opportunities by the month of their expected close within the period:
    count, amount and amount × stage probability; undated ones apart. One query."""
    authorize(actor, "sales.view_opportunity")
    rows = (
        _scoped(Opportunity, actor, filters)
        .filter(status=Opportunity.Status.OPEN)
        .filter(
            Q(expected_close_on__range=(filters.date_from, filters.date_to))
            | Q(expected_close_on__isnull=True)
        )
        .annotate(month=TruncMonth("expected_close_on"))
        .values("month")
        .annotate(n=Count("pk"), summed=Sum("amount"), weighted=WEIGHTED)
    )
    by_month, undated = {}, {"count": 0, "amount": ZERO, "weighted": ZERO}
    for row in rows:
        values = {
            "count": row["n"],
            "amount": _money(row["summed"]),
            "weighted": _weighted(row["weighted"]),
        }
        if row["month"] is None:
            undated = values
        else:
            by_month[_month_key(row["month"])] = values
    empty = {"count": 0, "amount": ZERO, "weighted": ZERO}
    months = [
        {"key": key, **by_month.get(key, empty)}
        for key in _months(filters.date_from, filters.date_to)
    ]
    return {
        "months": months,
        "undated": undated,
        "amount": _money(sum((m["amount"] for m in months), ZERO)),
        "weighted": _money(sum((m["weighted"] for m in months), ZERO)),
    }


def rankings(*, actor, filters: AnalysisFilters) -> dict:
    """The top employees by order amount and by collections in the period, and the
    top customers by order amount. One query each."""
    result = {"by_orders": None, "by_collections": None, "customers": None}
    if can(actor, "sales.view_salesorder"):
        orders = _period_orders(actor, filters)
        result["by_orders"] = [
            {
                "id": row["owner"],
                "name": _name(
                    row["owner__name"] or row["owner__username"], _("Nobody")
                ),
                "amount": _money(row["amount"]),
                "count": row["n"],
            }
            for row in orders.values("owner", "owner__name", "owner__username")
            .annotate(amount=Sum("total"), n=Count("pk"))
            .order_by("-amount", "owner__name", "owner")[:TOP]
        ]
        result["customers"] = _top_customers(orders)
    if can(actor, "sales.view_payment"):
        result["by_collections"] = [
            {
                "id": row["owner"],
                "name": _name(
                    row["owner__name"] or row["owner__username"], _("Nobody")
                ),
                "amount": _money(row["amount"]),
                "count": row["n"],
            }
            for row in _period_payments(actor, filters)
            .values("owner", "owner__name", "owner__username")
            .annotate(amount=Sum("amount"), n=Count("pk"))
            .order_by("-amount", "owner__name", "owner")[:TOP]
        ]
    return result


def _top_customers(orders) -> list[dict]:
    """The TOP customers by order amount (ties by name, then id). Summed per customer id
    first, from the orders' index alone; the names are read for the winners only, not
    joined for every order (0.8 s -> 0.05 s at a million orders; X6)."""
    per_customer = orders.values("customer").annotate(
        amount=Sum("total"), n=Count("pk")
    )
    # Everyone tied with the TOPth amount competes on the name: all of them are read.
    cut = per_customer.order_by("-amount").values("amount")[TOP - 1 : TOP]
    rows = list(
        per_customer.filter(
            amount__gte=Coalesce(
                Subquery(cut), Value(NO_AMOUNT), output_field=SUM_FIELD
            )
        )
    )
    names = dict(
        Customer.objects.filter(pk__in=[r["customer"] for r in rows]).values_list(
            "pk", "name"
        )
    )
    rows.sort(key=lambda r: (-r["amount"], names.get(r["customer"], ""), r["customer"]))
    return [
        {
            "id": row["customer"],
            "name": names.get(row["customer"], ""),
            "amount": _money(row["amount"]),
            "count": row["n"],
        }
        for row in rows[:TOP]
    ]


def _by_product(lines) -> tuple[list[dict], list[dict]]:
    """Order line amounts by product category and the TOP_PRODUCTS products, from one
    pass over the lines (summed per product; a catalogue is small, so the categories are
    added up here). Two passes over a million orders' lines cost 1.9 s (X6)."""
    per_product = list(
        lines.values(
            "product",
            "product__code",
            "product__name",
            "product__category",
            "product__category__name",
        ).annotate(amount=Sum("total"), quantity=Sum("quantity"))
    )
    categories: dict = {}
    for row in per_product:
        entry = categories.setdefault(
            row["product__category"],
            {
                "id": row["product__category"],
                "name": _name(row["product__category__name"], _("No category")),
                "amount": ZERO,
                "quantity": ZERO,
            },
        )
        entry["amount"] += row["amount"] or ZERO
        entry["quantity"] += row["quantity"] or ZERO
    by_category = sorted(
        categories.values(), key=lambda c: (-c["amount"], c["name"], c["id"] or 0)
    )
    for entry in by_category:
        entry["amount"] = _money(entry["amount"])
    top = sorted(
        per_product, key=lambda r: (-(r["amount"] or ZERO), r["product__code"])
    )
    return by_category, [
        {
            "id": row["product"],
            "code": row["product__code"],
            "name": row["product__name"],
            "amount": _money(row["amount"]),
            "quantity": row["quantity"],
        }
        for row in top[:TOP_PRODUCTS]
    ]


def trend(*, actor, filters: AnalysisFilters) -> list[dict] | None:
    """Orders and collections per month over the 12 months up to the period's end (or
    today if that is earlier), zero months included. Two queries."""
    see_orders = can(actor, "sales.view_salesorder")
    see_payments = can(actor, "sales.view_payment")
    if not (see_orders or see_payments):
        return None
    today = filters.today or timezone.localdate()
    last = min(filters.date_to, today)
    first = last.replace(day=1)
    for _i in range(TREND_MONTHS - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    orders, payments = {}, {}
    if see_orders:
        orders = {
            _month_key(row["month"]): row
            for row in _orders(actor, filters)
            .filter(ordered_on__range=(first, last))
            .annotate(month=TruncMonth("ordered_on"))
            .values("month")
            .annotate(amount=Sum("total"), n=Count("pk"))
        }
    if see_payments:
        payments = {
            _month_key(row["month"]): row
            for row in _payments(actor, filters)
            .filter(received_on__range=(first, last))
            .annotate(month=TruncMonth("received_on"))
            .values("month")
            .annotate(amount=Sum("amount"), n=Count("pk"))
        }
    return [
        {
            "key": key,
            "orders": _money(orders[key]["amount"]) if key in orders else ZERO,
            "orders_count": orders[key]["n"] if key in orders else 0,
            "collections": _money(payments[key]["amount"]) if key in payments else ZERO,
            "collections_count": payments[key]["n"] if key in payments else 0,
        }
        for key in _months(first, last)
    ]


def breakdowns(*, actor, filters: AnalysisFilters) -> dict:
    """Order amounts in the period by the customer's province, by product category
    and product (order lines), and orders and collections by department."""
    result = {"region": None, "category": None, "product": None, "department": None}
    see_orders = can(actor, "sales.view_salesorder")
    see_payments = can(actor, "sales.view_payment")
    if see_orders:
        orders = _period_orders(actor, filters)
        provinces = list(
            orders.annotate(province=Substr("customer__region__path", 2, 6))
            .values("province")
            .annotate(amount=Sum("total"), n=Count("pk"))
            .order_by("-amount", "province")
        )
        codes = [row["province"] for row in provinces if row["province"]]
        names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
        result["region"] = [
            {
                "key": row["province"] or "",
                "name": names.get(row["province"]) or _("Unknown"),
                "amount": _money(row["amount"]),
                "count": row["n"],
            }
            for row in provinces
        ]
        lines = _scoped(SalesOrderLine, actor, filters, via="order__").filter(
            order__status__in=ORDERED,
            order__ordered_on__range=(filters.date_from, filters.date_to),
        )
        result["category"], result["product"] = _by_product(lines)
    if see_orders or see_payments:
        departments: dict = {}

        def add(rows, key):
            for row in rows:
                entry = departments.setdefault(
                    row["department"],
                    {
                        "id": row["department"],
                        "name": _name(row["department__name"], _("No department")),
                        "orders": ZERO if see_orders else None,
                        "collections": ZERO if see_payments else None,
                    },
                )
                entry[key] = _money(row["amount"])

        if see_orders:
            add(
                _period_orders(actor, filters)
                .values("department", "department__name")
                .annotate(amount=Sum("total")),
                "orders",
            )
        if see_payments:
            add(
                _period_payments(actor, filters)
                .values("department", "department__name")
                .annotate(amount=Sum("amount")),
                "collections",
            )
        result["department"] = sorted(
            departments.values(),
            key=lambda d: (
                -(d["orders"] or ZERO),
                -(d["collections"] or ZERO),
                d["name"],
            ),
        )
    return result


def leads(*, actor, filters: AnalysisFilters) -> dict | None:
    """Leads created in the period per source, with how many were converted."""
    if not can(actor, "sales.view_lead"):
        return None
    rows = (
        _scoped(Lead, actor, filters)
        .filter(created_at__gte=filters.start_at, created_at__lt=filters.end_before)
        .values("source")
        .annotate(
            n=Count("pk"),
            converted=Count("pk", filter=Q(status=Lead.Status.CONVERTED)),
        )
        .order_by("-n", "source")
    )
    labels = dict(Lead.Source.choices)
    by_source = [
        {
            "key": row["source"],
            "name": str(labels.get(row["source"], row["source"])),
            "count": row["n"],
            "converted": row["converted"],
            "rate": rate(row["converted"], row["n"]),
        }
        for row in rows
    ]
    total = sum(r["count"] for r in by_source)
    converted = sum(r["converted"] for r in by_source)
    return {
        "by_source": by_source,
        "count": total,
        "converted": converted,
        "rate": rate(converted, total),
    }


def summary(*, actor, filters: AnalysisFilters) -> dict:
    """The headline figures of the period: orders, collections. Two queries."""
    result = {
        "orders_amount": None,
        "orders_count": None,
        "collections_amount": None,
        "collections_count": None,
    }
    if can(actor, "sales.view_salesorder"):
        totals = _period_orders(actor, filters).aggregate(
            amount=Sum("total"), n=Count("pk")
        )
        result["orders_amount"] = _money(totals["amount"])
        result["orders_count"] = totals["n"]
    if can(actor, "sales.view_payment"):
        totals = _period_payments(actor, filters).aggregate(
            amount=Sum("amount"), n=Count("pk")
        )
        result["collections_amount"] = _money(totals["amount"])
        result["collections_count"] = totals["n"]
    return result


SECTIONS = {
    "summary": summary,
    "funnel": funnel,
    "win_rate": win_rate,
    "forecast": forecast,
    "rankings": rankings,
    "trend": trend,
    "breakdowns": breakdowns,
    "leads": leads,
}


def sales_analysis(*, actor, filters: AnalysisFilters) -> dict:
    """Every section of the analysis page, within the viewer's scope."""
    authorize(actor, "sales.view_opportunity")
    return {
        "filters": filters.as_dict(),
        **{
            key: section(actor=actor, filters=filters)
            for key, section in SECTIONS.items()
        },
    }
