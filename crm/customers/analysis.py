"""C7 customer analysis (客户分析): how the customers a user may see are spread by level,
industry, type, status (the lifecycle: prospect → interested → customer → dormant → lost),
province, and month of registration, plus a value segmentation.

Everything is counted in SQL (GROUP BY, a window function for ABC) over
`customer_queryset(actor=...)`, the live customers within the viewer's data scope, so the
page, the API and any export agree and nobody counts what they may not see.

Value segmentation: ABC analysis ranks customers by a value measure and classes them by
their share of the total (A: the first 70 %, B: the next 20 %, C: the rest). Until sales
data exists the measure is the credit limit (信用额度), which says what the company is
willing to sell on credit. The sales module registers a better measure (order amounts)
with `register_value_measure()`, and an RFM scorer with `register_rfm()`; until one is
registered the page says that RFM needs sales data.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Sum, Window
from django.db.models.functions import Coalesce, Substr, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from crm.core.fieldrights import field_rights
from crm.customers.models import Customer, Region
from crm.customers.selectors import customer_queryset

MONTHS = 12
ABC_SHARES = (("A", Decimal("0.7")), ("B", Decimal("0.9")))  # cumulative share limits


@dataclass(frozen=True)
class ValueMeasure:
    key: str
    label: str | Promise
    expression: Callable  # () -> an expression giving each customer's value
    priority: int = 0
    hidden_field: str = ""  # a customer field whose field right hides this measure
    note: str | Promise = ""


VALUE_MEASURES: dict[str, ValueMeasure] = {}
RFM: dict[str, Callable] = {}  # key -> callable(actor, customers) -> dict


def register_value_measure(measure: ValueMeasure) -> None:
    VALUE_MEASURES[measure.key] = measure


def register_rfm(key: str, scorer: Callable) -> None:
    RFM[key] = scorer


register_value_measure(
    ValueMeasure(
        "credit_limit",
        _l("credit limit"),
        lambda: F("credit_limit"),
        hidden_field="credit_limit",
        note=_l(
            "Ranked by credit limit until sales data exists; order amounts replace "
            "it once the sales module records orders."
        ),
    )
)


def _choices_counts(qs, field: str, choices) -> list[dict]:
    labels = dict(choices)
    rows = (
        qs.order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .order_by("-n", field)
        .values_list(field, "n")
    )
    return [
        {"key": key, "name": str(labels.get(key) or _("Unknown")), "value": n}
        for key, n in rows
    ]


def by_province(qs) -> list[dict]:
    """Customers per province: the first code of the region's path (/440000/440300/…)."""
    rows = list(
        qs.order_by()
        .annotate(province=Substr("region__path", 2, 6))
        .values("province")
        .annotate(n=Count("pk"))
        .order_by("-n", "province")
        .values_list("province", "n")
    )
    codes = [code for code, _n in rows if code]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        {
            "key": code or "",
            "name": names.get(code, _("Unknown")) if code else _("Unknown"),
            "value": n,
        }
        for code, n in rows
    ]


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def new_per_month(qs, *, months: int = MONTHS, today=None) -> list[dict]:
    """Customers registered per month over the last `months` months (this one included),
    months without any as 0."""
    today = today or timezone.localdate()
    first = _month_start(today)
    for _i in range(months - 1):
        first = _month_start(first - datetime.timedelta(days=1))
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    counts = {
        timezone.localtime(month).date()
        if isinstance(month, datetime.datetime)
        else month: n
        for month, n in qs.filter(registered_at__gte=start)
        .order_by()
        .annotate(month=TruncMonth("registered_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    }
    result, month = [], first
    for _i in range(months):
        result.append(
            {
                "key": month.isoformat()[:7],
                "name": month.strftime("%Y-%m"),
                "value": counts.get(month, 0),
            }
        )
        month = _month_start(month + datetime.timedelta(days=32))
    return result


def value_measure(actor) -> ValueMeasure | None:
    """The best registered measure the user may see (field rights, Y5)."""
    hidden = field_rights(actor, Customer).hidden
    usable = [m for m in VALUE_MEASURES.values() if m.hidden_field not in hidden]
    return max(usable, key=lambda m: m.priority, default=None)


def abc_classes(qs, measure: ValueMeasure) -> dict:
    """ABC classes in SQL: a running total over customers by value (largest first); a
    customer is in A while the total before it is under 70 % of the whole, in B under
    90 %, else in C (customers without value are C)."""
    money = DecimalField(max_digits=30, decimal_places=6)
    valued = qs.order_by().annotate(
        value=Coalesce(measure.expression(), Decimal("0"), output_field=money)
    )
    total = valued.aggregate(total=Sum("value"))["total"] or Decimal("0")
    classes = []
    if total > 0:
        ranked = valued.annotate(
            running=Window(Sum("value"), order_by=[F("value").desc(), F("pk").asc()])
        ).annotate(before=F("running") - F("value"))
        lower = Decimal("0")
        for name, share in ABC_SHARES:
            limit = total * share
            rows = ranked.filter(before__gte=total * lower, before__lt=limit)
            classes.append({"class": name, **_count_and_sum(rows)})
            lower = share
        rows = ranked.filter(before__gte=total * lower)
        classes.append({"class": "C", **_count_and_sum(rows)})
    else:
        classes = [
            {"class": "A", "customers": 0, "value": "0"},
            {"class": "B", "customers": 0, "value": "0"},
            {"class": "C", "customers": qs.count(), "value": "0"},
        ]
    return {
        "measure": measure.key,
        "label": str(measure.label),
        "note": str(measure.note),
        "total": str(Decimal(str(total)).quantize(Decimal("0.01"))),
        "classes": classes,
    }


def _count_and_sum(rows) -> dict:
    """Count and total of a window-filtered queryset (Django wraps it in a subquery)."""
    result = rows.aggregate(n=Count("pk"), total=Sum("value"))
    total = Decimal(str(result["total"] or 0)).quantize(Decimal("0.01"))
    return {"customers": result["n"], "value": str(total)}


def customer_analysis(*, actor, today=None) -> dict:
    """Every number of the analysis page, for the live customers the user may see."""
    qs = customer_queryset(actor=actor)
    measure = value_measure(actor)
    rfm = [scorer(actor, qs) for scorer in RFM.values()]
    return {
        "total": qs.count(),
        "by_level": _choices_counts(qs, "level", Customer.Level.choices),
        "by_industry": _choices_counts(qs, "industry", Customer.Industry.choices),
        "by_type": _choices_counts(qs, "type", Customer.Type.choices),
        "by_status": _choices_counts(qs, "status", Customer.Status.choices),
        "by_province": by_province(qs),
        "new_per_month": new_per_month(qs, today=today),
        "abc": abc_classes(qs, measure) if measure else None,
        "rfm": rfm[0] if rfm else None,
    }
