"""D6 reads: stock counts, the reconciliation, the inventory view and stock bounds,
always inside the viewer's channel scope (HQ) or the partner's own rows (portal).

Reconciliation (computed in SQL, one query per page)
----------------------------------------------------
For every partner × product whose latest count (on or before the as-of date) has an
earlier count:

    expected   = previous count
                 + sell-in received  (ReceiptLine.received_on) in (previous date, latest date]
                 − sell-through sold (SellThroughLine.sold_on)  in (previous date, latest date]
    difference = reported (the latest count) − expected
    percent    = difference ÷ expected × 100   (expected 0: no percentage, "—")

The window is open at the previous count's date and closed at the latest count's date:
a count is the stock at the end of its day, so goods received or sold ON the previous
count's date are already inside that count (excluded), and those ON the latest count's
date are inside the latest count (included).

A row is flagged when the difference is not 0; with a tolerance of t %, only when
|difference| > t % of |expected| (an expected 0 is flagged by any nonzero difference).

Inventory (computed in SQL)
---------------------------
Stock is each partner × product's latest count on or before the as-of date. Days of
inventory = stock ÷ (sell-through quantity sold in (as-of − window, as-of] ÷ window days);
no sales in the window: no number (∞ when there is stock). Alerts use the most specific
StockBound: partner + product, else product (any partner), else partner (any product),
else the global row (neither), else DEFAULT_LOW_DAYS / DEFAULT_HIGH_DAYS. Low: days <
low_days; over-stock: days > high_days, or stock without any sales in the window.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django import forms
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Abs, Cast, Coalesce, Round
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.channels.models import (
    Partner,
    ReceiptLine,
    SellThroughLine,
    StockBound,
    StockCount,
)
from crm.channels.selectors.partners_scope import of_visible_partners, partners_visible
from crm.core.errors import NotFound
from crm.core.lists import REGISTRY, Column, ListSpec, register
from crm.core.scopes import DataScope, data_scopes
from crm.customers.models import Region
from crm.products.models import Product
from crm.sales.selectors.payments import scoped_choices_form

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
QTY = DecimalField(max_digits=24, decimal_places=4)
PLACES = (
    4  # QUANTITY's decimal places: sums are rounded to them (SQLite adds in floats)
)
ZERO = Decimal("0")
HUNDRED = Decimal("100")
DEFAULT_LOW_DAYS, DEFAULT_HIGH_DAYS = 7, 90
WINDOWS = (30, 60, 90)
DEFAULT_WINDOW = 30


class RowColumn(Column):
    """A column of an aggregated row (a dict)."""

    def value(self, obj):
        return obj.get(self.name)


def percent_of(difference, expected) -> Decimal | None:
    """difference ÷ expected × 100, one decimal, half up; None when expected is 0."""
    if expected is None or Decimal(expected) == 0:
        return None
    return (Decimal(difference) * HUNDRED / Decimal(expected)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


class PercentColumn(Column):
    def value(self, obj):
        return percent_of(obj.get("difference"), obj.get("expected"))


class FlagColumn(Column):
    def value(self, obj):
        return bool(obj.get("flagged"))


def _visible_products(user):
    return Product.objects.filter(
        pk__in=of_visible_partners(StockCount.objects.all(), user).values("product")
    ).order_by("code")


def _visible_partners(user):
    return partners_visible(user).order_by("number")


def _regions(user):
    # Their labels name the province too: read it along (343 queries a page before; X6).
    return (
        Region.objects.filter(level__lte=Region.Level.CITY)
        .select_related("parent")
        .order_by("path")
    )


def _in_region(qs, name, value):
    return qs.filter(partner__region__path__startswith=value.path) if value else qs


def _noop(qs, name, value):
    """Filters read by the spec itself (they change the query, not the counts)."""
    return qs


def _window_sum(model, date_field: str, start, end) -> Coalesce:
    """SUM(quantity) of `model` for the outer row's partner and product with
    start < date <= end (start/end: outer references or values)."""
    rows = (
        model.objects.filter(
            partner=OuterRef("partner"),
            product=OuterRef("product"),
            **{f"{date_field}__gt": start, f"{date_field}__lte": end},
        )
        .order_by()
        .values("partner")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=QTY), Value(ZERO), output_field=QTY)


def latest_counts(counts: QuerySet, as_of: datetime.date) -> QuerySet:
    """Of `counts`, each partner × product's latest count on or before `as_of`."""
    latest = (
        StockCount.objects.filter(
            partner=OuterRef("partner"),
            product=OuterRef("product"),
            counted_on__lte=as_of,
        )
        .order_by("-counted_on")
        .values("counted_on")[:1]
    )
    return counts.filter(counted_on__lte=as_of, counted_on=Subquery(latest))


# Stock counts (HQ list, API, export)


class StockCountFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    product = django_filters.ModelChoiceFilter(
        label=_("product"), queryset=Product.objects.all()
    )
    counted_from = django_filters.DateFilter(
        label=_("counted from"),
        field_name="counted_on",
        lookup_expr="gte",
        widget=DATE,
    )
    counted_to = django_filters.DateFilter(
        label=_("counted until"),
        field_name="counted_on",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = StockCount
        fields = ["partner", "product"]
        form = scoped_choices_form(partner=_visible_partners, product=_visible_products)


@register
class StockCountList(ListSpec):
    key = "channels.stockcount"
    model = StockCount
    title = _("Stock counts")
    columns = [
        Column("counted_on", _("count date"), sort="counted_on"),
        Column("partner.number", _("partner number"), sort="partner__number"),
        Column("partner.name", _("partner"), sort="partner__name"),
        Column("product.code", _("product code"), sort="product__code"),
        Column("product.name", _("product"), sort="product__name"),
        Column("quantity", _("quantity"), sort="quantity"),
        Column("submitted_by", _("submitted by")),
    ]
    search_fields = (
        "partner__name",
        "partner__number",
        "product__code",
        "product__name",
    )
    filterset_class = StockCountFilter
    default_sort = "-counted_on"
    select_related = ("partner", "product", "submitted_by")

    def base_queryset(self, user):
        return of_visible_partners(StockCount.objects.all(), user)


def stock_count_list(*, actor, params=None) -> QuerySet[StockCount]:
    qs, _filterset = REGISTRY["channels.stockcount"].queryset(
        actor, params if params is not None else QueryDict()
    )
    return qs


def partner_stock_counts(
    *, partner: Partner, product=None, date_from=None, date_to=None
) -> QuerySet[StockCount]:
    """The portal's list: one partner's counts, latest first."""
    qs = StockCount.objects.filter(partner=partner).select_related(
        "product", "submitted_by"
    )
    if product is not None:
        qs = qs.filter(product=product)
    if date_from is not None:
        qs = qs.filter(counted_on__gte=date_from)
    if date_to is not None:
        qs = qs.filter(counted_on__lte=date_to)
    return qs.order_by("-counted_on", "product__code", "pk")


def partner_stock_count_get(*, partner: Partner, pk) -> StockCount:
    try:
        return StockCount.objects.select_related("product").get(partner=partner, pk=pk)
    except (StockCount.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Stock count not found.")) from None


# Reconciliation


class ReconciliationFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    product = django_filters.ModelChoiceFilter(
        label=_("product"), queryset=Product.objects.all()
    )
    region = django_filters.ModelChoiceFilter(
        label=_("region"),
        queryset=Region.objects.all(),
        method=_in_region,
        field_name="partner__region",
    )
    mismatches = django_filters.BooleanFilter(
        label=_("only mismatches"),
        method=_noop,
        field_name="quantity",
        widget=forms.CheckboxInput,
    )
    tolerance = django_filters.NumberFilter(
        label=_("tolerance (%)"),
        method=_noop,
        field_name="quantity",
        min_value=0,
        max_value=1000,
    )
    as_of = django_filters.DateFilter(
        label=_("as of"), method=_noop, field_name="counted_on", widget=DATE
    )

    class Meta:
        model = StockCount
        fields = ["partner", "product"]
        form = scoped_choices_form(
            partner=_visible_partners, product=_visible_products, region=_regions
        )


def reconciliation_queryset(
    counts: QuerySet,
    *,
    as_of: datetime.date | None = None,
    tolerance: Decimal | None = None,
    only_mismatches: bool = False,
) -> QuerySet:
    """Reconciliation rows (dicts) of the partners and products of `counts` (already
    scoped and filtered); see the module docstring for the arithmetic."""
    as_of = as_of or timezone.localdate()
    previous = StockCount.objects.filter(
        partner=OuterRef("partner"),
        product=OuterRef("product"),
        counted_on__lt=OuterRef("counted_on"),
    ).order_by("-counted_on")
    qs = (
        latest_counts(counts, as_of)
        .annotate(
            previous_on=Subquery(previous.values("counted_on")[:1]),
            previous_quantity=Subquery(
                previous.values("quantity")[:1], output_field=QTY
            ),
        )
        .filter(previous_on__isnull=False)
        .annotate(
            sell_in=_window_sum(
                ReceiptLine,
                "received_on",
                OuterRef("previous_on"),
                OuterRef("counted_on"),
            ),
            sell_through=_window_sum(
                SellThroughLine,
                "sold_on",
                OuterRef("previous_on"),
                OuterRef("counted_on"),
            ),
        )
        .annotate(
            expected=Round(
                F("previous_quantity") + F("sell_in") - F("sell_through"),
                PLACES,
                output_field=QTY,
            )
        )
        .annotate(
            difference=Round(F("quantity") - F("expected"), PLACES, output_field=QTY)
        )
        .annotate(abs_difference=Abs("difference", output_field=QTY))
    )
    if tolerance:
        # |difference| > tolerance% × |expected|, without a division (integer division
        # on SQLite): |difference| × 100 > |expected| × tolerance.
        over = Q(
            hundredfold__gt=ExpressionWrapper(
                Abs("expected") * Value(Decimal(tolerance)), output_field=QTY
            )
        )
        qs = qs.annotate(
            hundredfold=ExpressionWrapper(
                F("abs_difference") * Value(HUNDRED), output_field=QTY
            )
        )
        flag = ~Q(difference=0) & (Q(expected=0) | over)
    else:
        flag = ~Q(difference=0)
    qs = qs.annotate(
        flagged=Case(
            When(flag, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )
    if only_mismatches:
        qs = qs.filter(flagged=True)
    return qs.values(
        "pk",
        "partner",
        "partner__number",
        "partner__name",
        "partner__region__name",
        "product",
        "product__code",
        "product__name",
        "product__unit",
        "previous_on",
        "previous_quantity",
        "sell_in",
        "sell_through",
        "expected",
        "counted_on",
        "quantity",
        "difference",
        "abs_difference",
        "flagged",
    )


@register
class ReconciliationList(ListSpec):
    """D6 reconciliation: one row per partner × product with a latest and a previous
    count; sortable by |difference|; filters apply to the counts before the rows are
    built; as-of date, tolerance and "only mismatches" shape the rows."""

    key = "channels.reconciliation"
    model = StockCount
    title = _("Stock reconciliation")
    columns = [
        RowColumn(
            "partner__number",
            _("partner number"),
            sort="partner__number",
            field="partner",
        ),
        RowColumn("partner__name", _("partner"), sort="partner__name", field="partner"),
        RowColumn("partner__region__name", _("location"), field="partner"),
        RowColumn(
            "product__code", _("product code"), sort="product__code", field="product"
        ),
        RowColumn("product__name", _("product"), sort="product__name", field="product"),
        RowColumn(
            "previous_on",
            _("previous count date"),
            sort="previous_on",
            field="counted_on",
        ),
        RowColumn("previous_quantity", _("previous count"), field="quantity"),
        RowColumn("sell_in", _("sell-in received"), sort="sell_in", field="quantity"),
        RowColumn(
            "sell_through", _("sell-through"), sort="sell_through", field="quantity"
        ),
        RowColumn("expected", _("expected stock"), sort="expected", field="quantity"),
        RowColumn("counted_on", _("count date"), sort="counted_on"),
        RowColumn("quantity", _("reported stock"), sort="quantity"),
        RowColumn(
            "difference", _("difference"), sort="abs_difference", field="quantity"
        ),
        PercentColumn("percent", _("difference %"), field="quantity"),
        FlagColumn("flagged", _("mismatch"), sort="flagged", field="quantity"),
    ]
    search_fields = (
        "partner__name",
        "partner__number",
        "product__code",
        "product__name",
    )
    filterset_class = ReconciliationFilter
    default_sort = "pk"

    def base_queryset(self, user):
        return of_visible_partners(StockCount.objects.all(), user)

    def queryset(self, user, params, base=None):
        plain = params.copy() if hasattr(params, "copy") else dict(params)
        plain.pop("sort", None)
        counts, filterset = super().queryset(user, plain, base)
        data = (
            filterset.form.cleaned_data
            if filterset is not None and filterset.is_valid()
            else {}
        )
        qs = reconciliation_queryset(
            counts.order_by(),
            as_of=data.get("as_of"),
            tolerance=data.get("tolerance"),
            only_mismatches=bool(data.get("mismatches")),
        )
        sort = params.get("sort") or ""
        expr = self.sort_options(user).get(sort.lstrip("-"))
        if expr:
            desc = sort.startswith("-")
            qs = qs.order_by(f"-{expr}" if desc else expr, "-pk" if desc else "pk")
        else:
            qs = qs.order_by("-abs_difference", "partner__number", "product__code")
        return qs, filterset


RECONCILIATION: ReconciliationList = REGISTRY["channels.reconciliation"]


def reconciliation_rows(
    user,
    *,
    partner=None,
    product=None,
    region=None,
    only_mismatches: bool = False,
    as_of: datetime.date | None = None,
    tolerance: Decimal | None = None,
    sort: str = "-difference",
    limit: int | None = None,
) -> list[dict]:
    """Reconciliation rows in `user`'s channel scope, as dicts with `percent` added
    (None when expected is 0). For the dashboard and other callers that want rows, not
    a page. Arguments take records or ids; `sort` is a column name ("difference" sorts
    by its absolute value, "-difference" largest first).

    expected = previous count + sell-in received − sell-through sold, both summed over
    (previous count's date, latest count's date]: what moved ON the previous count's
    date is already inside that count (excluded); what moved ON the latest count's date
    is inside the latest count (included). difference = reported − expected."""
    params = QueryDict(mutable=True)
    for name, value in (
        ("partner", partner),
        ("product", product),
        ("region", region),
        ("tolerance", tolerance),
    ):
        if value is not None:
            params[name] = str(getattr(value, "pk", value))
    if only_mismatches:
        params["mismatches"] = "true"
    if as_of is not None:
        params["as_of"] = as_of.isoformat()
    params["sort"] = sort
    qs, _filterset = RECONCILIATION.queryset(user, params)
    if limit is not None:
        qs = qs[:limit]
    return [with_percent(row) for row in qs]


def with_percent(row: dict) -> dict:
    row["percent"] = percent_of(row["difference"], row["expected"])
    return row


# Inventory


def _bound(field: str, default: int):
    """The most specific bound's `field` for the outer row's partner and product."""
    bounds = StockBound.objects.order_by()
    levels = (
        bounds.filter(partner=OuterRef("partner"), product=OuterRef("product")),
        bounds.filter(partner__isnull=True, product=OuterRef("product")),
        bounds.filter(partner=OuterRef("partner"), product__isnull=True),
        bounds.filter(partner__isnull=True, product__isnull=True),
    )
    return Coalesce(
        *(Subquery(level.values(field)[:1]) for level in levels),
        Value(default),
        output_field=IntegerField(),
    )


def _days(stock: str, sold: str, window: int):
    """stock ÷ (sold ÷ window) as a float (NULL without sales), for showing and sorting."""
    return Case(
        When(
            **{f"{sold}__gt": 0},
            then=ExpressionWrapper(
                Cast(stock, FloatField()) * Value(float(window)) / F(sold),
                output_field=FloatField(),
            ),
        ),
        default=None,
        output_field=FloatField(),
    )


ALERT_LOW, ALERT_OVER, ALERT_NONE = "low", "over", ""
ALERT_LABELS = {ALERT_LOW: _("Low stock"), ALERT_OVER: _("Over-stock")}
GROUPS = {
    "partner": _("partner"),
    "product": _("product"),
    "region": _("region"),
}


class InventoryFilter(django_filters.FilterSet):
    group = django_filters.ChoiceFilter(
        label=_("group by"),
        choices=[("", _("no grouping")), *GROUPS.items()],
        method=_noop,
        field_name="partner",
        empty_label=None,
    )
    window = django_filters.ChoiceFilter(
        label=_("sales window (days)"),
        choices=[(str(w), str(w)) for w in WINDOWS],
        method=_noop,
        field_name="quantity",
        empty_label=None,
    )
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    product = django_filters.ModelChoiceFilter(
        label=_("product"), queryset=Product.objects.all()
    )
    region = django_filters.ModelChoiceFilter(
        label=_("region"),
        queryset=Region.objects.all(),
        method=_in_region,
        field_name="partner__region",
    )
    alert = django_filters.ChoiceFilter(
        label=_("alert"),
        choices=[("any", _("any alert")), *ALERT_LABELS.items()],
        method=_noop,
        field_name="partner",
    )
    as_of = django_filters.DateFilter(
        label=_("as of"), method=_noop, field_name="counted_on", widget=DATE
    )

    class Meta:
        model = StockCount
        fields = ["partner", "product"]
        form = scoped_choices_form(
            partner=_visible_partners, product=_visible_products, region=_regions
        )


def inventory_queryset(
    counts: QuerySet,
    *,
    as_of: datetime.date | None = None,
    window: int = DEFAULT_WINDOW,
    alert: str = "",
) -> QuerySet:
    """Partner × product rows (dicts): latest stock, quantity sold in the window, days of
    inventory, the bound that applies and the alert. See the module docstring."""
    as_of = as_of or timezone.localdate()
    start = as_of - datetime.timedelta(days=window)
    sold = F("sold")
    qs = (
        latest_counts(counts, as_of)
        .annotate(
            sold=_window_sum(SellThroughLine, "sold_on", start, as_of),
            low_days=_bound("low_days", DEFAULT_LOW_DAYS),
            high_days=_bound("high_days", DEFAULT_HIGH_DAYS),
            # days < low  ⇔  stock × window < low × sold (no division: SQLite divides
            # integers as integers)
            windowed=ExpressionWrapper(F("quantity") * Value(window), output_field=QTY),
        )
        .annotate(
            days=_days("quantity", "sold", window),
            alert=Case(
                When(Q(sold=0, quantity__gt=0), then=Value(ALERT_OVER)),
                When(
                    Q(sold__gt=0) & Q(windowed__lt=F("low_days") * sold),
                    then=Value(ALERT_LOW),
                ),
                When(
                    Q(sold__gt=0) & Q(windowed__gt=F("high_days") * sold),
                    then=Value(ALERT_OVER),
                ),
                default=Value(ALERT_NONE),
                output_field=CharField(),
            ),
        )
    )
    if alert == "any":
        qs = qs.exclude(alert=ALERT_NONE)
    elif alert in ALERT_LABELS:
        qs = qs.filter(alert=alert)
    return qs


DETAIL_FIELDS = (
    "pk",
    "partner",
    "partner__number",
    "partner__name",
    "partner__region__name",
    "product",
    "product__code",
    "product__name",
    "product__unit",
    "counted_on",
    "quantity",
    "sold",
    "days",
    "low_days",
    "high_days",
    "alert",
)
GROUP_FIELDS = {
    "partner": ("partner", "partner__number", "partner__name"),
    "product": ("product", "product__code", "product__name", "product__unit"),
    "region": ("partner__region", "partner__region__name"),
}


def inventory_grouped(qs: QuerySet, group: str, window: int) -> QuerySet:
    """Detail rows summed per partner, product or region (the partner's location):
    stock, sold, days of inventory of the sums, and how many rows are low / over."""
    return (
        qs.order_by()
        .values(*GROUP_FIELDS[group])
        .annotate(
            stock=Sum("quantity"),
            sold_total=Sum("sold"),
            rows=Count("pk"),
            low=Count("pk", filter=Q(alert=ALERT_LOW)),
            over=Count("pk", filter=Q(alert=ALERT_OVER)),
        )
        .annotate(days=_days("stock", "sold_total", window))
    )


def days_of(days: float) -> Decimal:
    return Decimal(str(round(days, 6))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class DaysColumn(Column):
    """Days of inventory; ∞ with stock but no sales, — with neither."""

    def value(self, obj):
        days = obj.get("days")
        if days is not None:
            return days_of(days)
        stock = obj.get("quantity", obj.get("stock"))
        return "∞" if stock else "—"


class AlertColumn(Column):
    def value(self, obj):
        label = ALERT_LABELS.get(obj.get("alert") or "")
        return str(label) if label else ""


@register
class InventoryList(ListSpec):
    """D6 inventory: latest stock per partner × product (or summed per partner, product
    or region) with days of inventory and low/over-stock alerts."""

    key = "channels.inventory"
    model = StockCount
    title = _("Channel inventory")
    columns = [
        RowColumn(
            "partner__number",
            _("partner number"),
            sort="partner__number",
            field="partner",
        ),
        RowColumn("partner__name", _("partner"), sort="partner__name", field="partner"),
        RowColumn(
            "partner__region__name",
            _("location"),
            sort="partner__region__name",
            field="partner",
        ),
        RowColumn(
            "product__code", _("product code"), sort="product__code", field="product"
        ),
        RowColumn("product__name", _("product"), sort="product__name", field="product"),
        RowColumn("counted_on", _("count date"), sort="counted_on"),
        RowColumn("quantity", _("stock"), sort="quantity"),
        RowColumn("sold", _("sold in window"), sort="sold", field="quantity"),
        DaysColumn("days", _("days of inventory"), sort="days", field="quantity"),
        RowColumn("low_days", _("low below (days)"), field="quantity"),
        RowColumn("high_days", _("over above (days)"), field="quantity"),
        AlertColumn("alert", _("alert"), sort="alert", field="quantity"),
    ]
    group_columns = {
        "partner": [
            RowColumn("partner__number", _("partner number"), sort="partner__number"),
            RowColumn("partner__name", _("partner"), sort="partner__name"),
        ],
        "product": [
            RowColumn("product__code", _("product code"), sort="product__code"),
            RowColumn("product__name", _("product"), sort="product__name"),
        ],
        "region": [
            RowColumn(
                "partner__region__name", _("region"), sort="partner__region__name"
            ),
        ],
    }
    summary_columns = [
        RowColumn("stock", _("stock"), sort="stock"),
        RowColumn("sold_total", _("sold in window"), sort="sold_total"),
        DaysColumn("days", _("days of inventory"), sort="days"),
        RowColumn("low", _("low-stock items"), sort="low"),
        RowColumn("over", _("over-stock items"), sort="over"),
    ]
    search_fields = (
        "partner__name",
        "partner__number",
        "product__code",
        "product__name",
    )
    filterset_class = InventoryFilter
    default_sort = "pk"

    def base_queryset(self, user):
        return of_visible_partners(StockCount.objects.all(), user)

    @staticmethod
    def options(filterset) -> dict:
        data = (
            filterset.form.cleaned_data
            if filterset is not None and filterset.is_valid()
            else {}
        )
        return {
            "group": data.get("group") or "",
            "window": int(data.get("window") or DEFAULT_WINDOW),
            "as_of": data.get("as_of") or timezone.localdate(),
            "alert": data.get("alert") or "",
        }

    def _group_of(self, params) -> str:
        group = params.get("group") or ""
        return group if group in GROUPS else ""

    def columns_for(self, user, group: str = ""):
        if group:
            return [*self.group_columns[group], *self.summary_columns]
        return super().columns_for(user)

    def queryset(self, user, params, base=None):
        plain = params.copy() if hasattr(params, "copy") else dict(params)
        plain.pop("sort", None)
        counts, filterset = super().queryset(user, plain, base)
        opts = self.options(filterset)
        qs = inventory_queryset(
            counts.order_by(),
            as_of=opts["as_of"],
            window=opts["window"],
            alert=opts["alert"],
        )
        group = opts["group"]
        if group:
            qs = inventory_grouped(qs, group, opts["window"])
            default = ("-stock", *GROUP_FIELDS[group][:1])
        else:
            qs = qs.values(*DETAIL_FIELDS)
            default = ("partner__number", "product__code")
        sort = params.get("sort") or ""
        options = {c.name: c.sort for c in self.columns_for(user, group) if c.sort}
        expr = options.get(sort.lstrip("-"))
        if expr:
            desc = sort.startswith("-")
            key = GROUP_FIELDS[group][0] if group else "pk"
            qs = qs.order_by(f"-{expr}" if desc else expr, f"-{key}" if desc else key)
        else:
            qs = qs.order_by(*default)
        return qs, filterset

    def export_rows(self, user, qs):
        group = ""
        if qs.query.values_select and "stock" in qs.query.annotations:
            group = next(
                (g for g, f in GROUP_FIELDS.items() if f[0] in qs.query.values_select),
                "",
            )
        columns = self.columns_for(user, group)
        from crm.core.lists import export_value

        yield [str(c.label) for c in columns]
        for obj in qs.iterator(chunk_size=2000):
            yield [export_value(c.value(obj)) for c in columns]


INVENTORY: InventoryList = REGISTRY["channels.inventory"]


def inventory_rows(
    user,
    *,
    group: str = "",
    window: int = DEFAULT_WINDOW,
    as_of: datetime.date | None = None,
    alert: str = "",
    partner=None,
    product=None,
    region=None,
    limit: int | None = None,
) -> list[dict]:
    """Inventory rows in `user`'s channel scope (see InventoryList), as dicts."""
    params = QueryDict(mutable=True)
    for name, value in (
        ("group", group),
        ("window", window),
        ("alert", alert),
        ("partner", partner),
        ("product", product),
        ("region", region),
    ):
        if value not in (None, ""):
            params[name] = str(getattr(value, "pk", value))
    if as_of is not None:
        params["as_of"] = as_of.isoformat()
    qs, _filterset = INVENTORY.queryset(user, params)
    if limit is not None:
        qs = qs[:limit]
    return list(qs)


# Stock bounds


def bounds_visible(user) -> QuerySet[StockBound]:
    """Bounds for all partners, and those of the partners the user sees."""
    return StockBound.objects.filter(
        Q(partner__isnull=True) | Q(partner__in=partners_visible(user).values("pk"))
    ).select_related("partner", "product")


def sees_all_partners(user) -> bool:
    return DataScope.ALL in data_scopes(user, "channels")


class StockBoundFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    product = django_filters.ModelChoiceFilter(
        label=_("product"), queryset=Product.objects.all()
    )

    class Meta:
        model = StockBound
        fields = ["partner", "product"]
        form = scoped_choices_form(partner=_visible_partners)


class BlankColumn(Column):
    """A partner/product column: empty means all."""

    def value(self, obj):
        value = super().value(obj)
        return value if value is not None else str(_("(all)"))


@register
class StockBoundList(ListSpec):
    key = "channels.stockbound"
    model = StockBound
    title = _("Stock bounds")
    columns = [
        BlankColumn("partner", _("partner"), sort="partner__number", link=True),
        BlankColumn("product", _("product"), sort="product__code"),
        Column("low_days", _("low stock below (days)"), sort="low_days"),
        Column("high_days", _("over-stock above (days)"), sort="high_days"),
    ]
    search_fields = (
        "partner__name",
        "partner__number",
        "product__code",
        "product__name",
    )
    filterset_class = StockBoundFilter
    default_sort = "pk"
    detail_url_name = "channels:stockbound-edit"

    def base_queryset(self, user):
        return bounds_visible(user)


def stock_bound_get(*, actor, pk) -> StockBound:
    try:
        return bounds_visible(actor).get(pk=pk)
    except (StockBound.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Stock bound not found.")) from None


# Portal


class PortalStockCountFilter(django_filters.FilterSet):
    product = django_filters.ModelChoiceFilter(
        label=_("product"), queryset=Product.objects.all()
    )
    counted_from = django_filters.DateFilter(
        label=_("counted from"), field_name="counted_on", lookup_expr="gte"
    )
    counted_to = django_filters.DateFilter(
        label=_("counted until"), field_name="counted_on", lookup_expr="lte"
    )

    class Meta:
        model = StockCount
        fields = ["product"]


@register
class PortalStockCountList(ListSpec):
    """The portal API's list: the partner user's own partner's counts only."""

    key = "channels.portal_stockcount"
    model = StockCount
    title = _("Stock counts")
    columns = [
        Column("counted_on", _("count date"), sort="counted_on"),
        Column("product.code", _("product code"), sort="product__code"),
        Column("quantity", _("quantity"), sort="quantity"),
    ]
    search_fields = ("product__code", "product__name")
    filterset_class = PortalStockCountFilter
    default_sort = "-counted_on"
    select_related = ("product",)

    def base_queryset(self, user):
        from crm.channels.portal.access import user_partner

        partner = user_partner(user)
        if partner is None:
            return StockCount.objects.none()
        return StockCount.objects.filter(partner=partner)
