"""D11 HQ channel dashboard (渠道看板): sell-in vs sell-through vs channel inventory over
12 months, KPI cards, top and bottom partners by score, sell-through by province and
reconciliation alerts.

Every number is a SQL aggregate over the partners the viewer's "channels" data scope
grants (`of_visible_partners`: a channel manager sees their own partners' numbers),
narrowed by the filters: a period (a year or a date range) and a province (the partners
based in it). Each section runs a fixed number of queries whatever the number of rows;
Python only shapes the aggregated rows.

What counts:
- sell-in: goods received by partners (receipt lines), amount at the order's price,
  dated `received_on`;
- sell-through: reported sales to end customers (sell-through lines), dated `sold_on`;
- channel inventory in a month: the latest stock count of each partner × product within
  that month (a pair not counted in the month adds nothing), in units and valued at the
  product's list price; the KPI is the latest count of each pair up to the period's end;
- this month's sell-through is compared with the same days of the previous month
  (the month of the period's end may be running);
- the trend: the 12 months up to the period's end (or today, if earlier);
- scores: the latest closed score period (by its end date); top and bottom are the
  best and worst TOP partners, or each half when there are fewer than 2 × TOP;
- provinces: sell-through in the period by the province of the sale's region (the
  partner's location when the line has none);
- reconciliation: each partner × product whose latest count differs from the expected
  stock (the count before it + received − sold between the two counts).
"""

import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.channels.models import (
    Partner,
    PartnerScore,
    ReceiptLine,
    ScorePeriod,
    SellThroughLine,
    StockCount,
)
from crm.channels.selectors.inventory import percent_of, reconciliation_queryset
from crm.channels.selectors.partners_scope import of_visible_partners
from crm.core.errors import Invalid
from crm.core.periods import PeriodForm
from crm.core.scopes import authorize
from crm.customers.models import Region

SUM_FIELD = DecimalField(max_digits=30, decimal_places=6)
ZERO = Decimal("0")
MONEY_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("0.1")
TREND_MONTHS = 12
TOP = 10
ALERTS = 10


# Filters


class DashboardFilterForm(PeriodForm):
    """Period (a year, or from/to) and a province."""

    region = forms.ModelChoiceField(
        label=gettext_lazy("province"),
        queryset=Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"),
        to_field_name="code",
        required=False,
    )

    def __init__(self, data=None, *, today=None, **kwargs):
        super().__init__(data, today=today, **kwargs)
        self.fields["region"].label_from_instance = lambda r: r.name


@dataclass(frozen=True)
class DashboardFilters:
    date_from: datetime.date
    date_to: datetime.date
    region: Region | None = None
    today: datetime.date | None = None

    @property
    def as_of(self) -> datetime.date:
        """The last day the numbers can know: the period's end, or today if earlier."""
        today = self.today or timezone.localdate()
        return min(self.date_to, today)

    def as_dict(self) -> dict:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "region": self.region.code if self.region else None,
        }


def dashboard_filters(*, actor, params, today=None) -> DashboardFilters:
    """The filters from query parameters, or Invalid (400) naming the wrong ones."""
    authorize(actor, "channels.view_partner")
    form = DashboardFilterForm(
        {
            k: params.get(k)
            for k in ("year", "date_from", "date_to", "region")
            if params.get(k) not in (None, "")
        },
        today=today,
    )
    if not form.is_valid():
        fields = {name: [str(m) for m in msgs] for name, msgs in form.errors.items()}
        raise Invalid(_("Some filters are invalid."), fields=fields)
    data = form.cleaned_data
    return DashboardFilters(
        date_from=data["date_from"],
        date_to=data["date_to"],
        region=data.get("region"),
        today=form.today,
    )


# Shared pieces


def _scoped(queryset, actor, filters: DashboardFilters, field: str = "partner"):
    """Rows of the viewer's partners (and of the chosen province's partners)."""
    qs = of_visible_partners(queryset, actor, field)
    if filters.region is not None:
        qs = qs.filter(
            **{
                f"{field}__in": Partner.objects.filter(
                    region__path__startswith=filters.region.path
                ).values("pk")
            }
        )
    return qs.order_by()


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _months(filters: DashboardFilters) -> list[datetime.date]:
    last = _month_start(filters.as_of)
    return [_add_months(last, i) for i in range(-(TREND_MONTHS - 1), 1)]


def _key(value) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    return f"{value:%Y-%m}"


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def _qty(value) -> Decimal:
    return Decimal(value or 0).normalize() + Decimal("0")


def _rate(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(
        RATE_PLACES, rounding=ROUND_HALF_UP
    )


_VALUE = ExpressionWrapper(F("quantity") * F("product__list_price"), SUM_FIELD)


def _latest_in_month(actor, filters):
    """Stock counts that are the last of their partner × product in their month."""
    later = (
        StockCount.objects.filter(
            partner=OuterRef("partner"),
            product=OuterRef("product"),
            counted_on__gt=OuterRef("counted_on"),
        )
        .annotate(m=TruncMonth("counted_on"))
        .filter(m=OuterRef("month"))
    )
    return (
        _scoped(StockCount.objects, actor, filters)
        .annotate(month=TruncMonth("counted_on"))
        .filter(~Exists(later))
    )


def _latest_until(actor, filters, day: datetime.date):
    """Stock counts that are the last of their partner × product up to `day`."""
    later = StockCount.objects.filter(
        partner=OuterRef("partner"),
        product=OuterRef("product"),
        counted_on__gt=OuterRef("counted_on"),
        counted_on__lte=day,
    )
    return (
        _scoped(StockCount.objects, actor, filters)
        .filter(counted_on__lte=day)
        .filter(~Exists(later))
    )


# Sections


def kpis(*, actor, filters: DashboardFilters) -> dict:
    as_of = filters.as_of
    this_month = _month_start(as_of)
    last_month = _add_months(this_month, -1)
    # Like for like: the same days of the previous month (this month may be running).
    same_day = min(
        last_month + datetime.timedelta(days=as_of.day - 1),
        this_month - datetime.timedelta(days=1),
    )
    partners = _scoped(Partner.objects, actor, filters, field="pk").aggregate(
        active=Count("pk", filter=Q(status=Partner.Status.ACTIVE)),
        total=Count("pk"),
    )
    # The WHERE bounds the rows to the dates the sums look at: without it every line of
    # the partners was read (X6).
    through = (
        _scoped(SellThroughLine.objects, actor, filters)
        .filter(
            sold_on__range=(
                min(filters.date_from, last_month),
                max(filters.date_to, as_of),
            )
        )
        .aggregate(
            period=Sum(
                "amount", filter=Q(sold_on__range=(filters.date_from, filters.date_to))
            ),
            period_quantity=Sum(
                "quantity",
                filter=Q(sold_on__range=(filters.date_from, filters.date_to)),
            ),
            this_month=Sum("amount", filter=Q(sold_on__range=(this_month, as_of))),
            last_month=Sum("amount", filter=Q(sold_on__range=(last_month, same_day))),
        )
    )
    sell_in = (
        _scoped(ReceiptLine.objects, actor, filters)
        .filter(received_on__range=(filters.date_from, filters.date_to))
        .aggregate(amount=Sum("amount"), quantity=Sum("quantity"))
    )
    stock = _latest_until(actor, filters, as_of).aggregate(
        units=Sum("quantity"), value=Sum(_VALUE), pairs=Count("pk")
    )
    this, last = _money(through["this_month"]), _money(through["last_month"])
    return {
        "partners_active": partners["active"],
        "partners_total": partners["total"],
        "month": _key(this_month),
        "sell_through_this_month": this,
        "sell_through_last_month": last,
        "sell_through_change": (_rate(this - last, last) if last else None),
        "sell_through": _money(through["period"]),
        "sell_through_quantity": _qty(through["period_quantity"]),
        "sell_in": _money(sell_in["amount"]),
        "sell_in_quantity": _qty(sell_in["quantity"]),
        "stock_quantity": _qty(stock["units"]),
        "stock_value": _money(stock["value"]),
        "stock_as_of": as_of,
    }


def trend(*, actor, filters: DashboardFilters) -> list[dict]:
    months = _months(filters)
    start, end = months[0], filters.as_of
    sell_in = dict(
        _scoped(ReceiptLine.objects, actor, filters)
        .filter(received_on__range=(start, end))
        .annotate(month=TruncMonth("received_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    through = dict(
        _scoped(SellThroughLine.objects, actor, filters)
        .filter(sold_on__range=(start, end))
        .annotate(month=TruncMonth("sold_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    stock = {
        _key(row["month"]): row
        for row in _latest_in_month(actor, filters)
        .filter(counted_on__range=(start, end))
        .values("month")
        .annotate(units=Sum("quantity"), value=Sum(_VALUE))
    }
    sell_in = {_key(k): v for k, v in sell_in.items()}
    through = {_key(k): v for k, v in through.items()}
    rows = []
    for month in months:
        key = _key(month)
        counted = stock.get(key)
        rows.append(
            {
                "key": key,
                "sell_in": _money(sell_in.get(key)),
                "sell_through": _money(through.get(key)),
                "stock_quantity": _qty(counted["units"]) if counted else None,
                "stock_value": _money(counted["value"]) if counted else None,
            }
        )
    return rows


def scores(*, actor, filters: DashboardFilters) -> dict:
    period = (
        ScorePeriod.objects.filter(status=ScorePeriod.Status.CLOSED)
        .order_by("-ends_on", "-pk")
        .first()
    )
    if period is None:
        return {"period": None, "top": [], "bottom": [], "count": 0}
    rows = _scoped(PartnerScore.objects, actor, filters).filter(period=period)
    fields = ("partner_id", "partner__name", "total", "rank", "achievement_percent")

    def shape(row):
        return {
            "id": row["partner_id"],
            "name": row["partner__name"],
            "score": row["total"],
            "rank": row["rank"],
            "achievement": row["achievement_percent"],
        }

    count = rows.count()
    # Fewer than 2 × TOP partners: split them, so no partner is both top and bottom.
    size = min(TOP, math.ceil(count / 2))
    best = rows.order_by("-total", "partner_id").values(*fields)[:size]
    worst = rows.order_by("total", "-partner_id").values(*fields)[
        : min(TOP, count - size)
    ]
    top, bottom = [shape(r) for r in best], [shape(r) for r in worst]
    return {
        "period": {
            "id": period.pk,
            "name": period.name,
            "starts_on": period.starts_on,
            "ends_on": period.ends_on,
        },
        "top": top,
        "bottom": bottom,
        "count": count,
    }


def provinces(*, actor, filters: DashboardFilters) -> list[dict]:
    rows = list(
        _scoped(SellThroughLine.objects, actor, filters)
        .filter(sold_on__range=(filters.date_from, filters.date_to))
        .annotate(
            province=Substr(Coalesce("region__path", "partner__region__path"), 2, 6)
        )
        .values("province")
        .annotate(total=Sum("amount"), units=Sum("quantity"))
        .order_by("-total", "province")
    )
    codes = [row["province"] for row in rows if row["province"]]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        {
            "code": row["province"] or "",
            "name": names.get(row["province"]) or _("Unknown"),
            "amount": _money(row["total"]),
            "quantity": _qty(row["units"]),
        }
        for row in rows
    ]


def reconciliation(*, actor, filters: DashboardFilters) -> dict:
    """Partner × product pairs whose latest count (up to the period's end) differs from
    the expected stock: the count before it + received − sold in between (the
    reconciliation of crm.channels.selectors.inventory, on the viewer's counts)."""
    rows = reconciliation_queryset(
        _scoped(StockCount.objects, actor, filters),
        as_of=filters.as_of,
        only_mismatches=True,
    )
    count = rows.count()
    top = [
        {
            "partner_id": row["partner"],
            "partner": row["partner__name"],
            "product_id": row["product"],
            "product": row["product__name"],
            "counted_on": row["counted_on"],
            "counted": _qty(row["quantity"]),
            "expected": _qty(row["expected"]),
            "difference": _qty(row["difference"]),
            "percent": percent_of(row["difference"], row["expected"]),
        }
        for row in rows.order_by("-abs_difference", "partner__number", "product__code")[
            :ALERTS
        ]
    ]
    return {"count": count, "top": top}


SECTIONS = {
    "kpis": kpis,
    "trend": trend,
    "scores": scores,
    "provinces": provinces,
    "reconciliation": reconciliation,
}


def channel_dashboard(*, actor, filters: DashboardFilters) -> dict:
    authorize(actor, "channels.view_partner")
    data = {
        key: section(actor=actor, filters=filters) for key, section in SECTIONS.items()
    }
    data["filters"] = filters.as_dict()
    return data
