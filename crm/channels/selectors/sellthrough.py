"""D5 sell-through reads: reports and lines inside the viewer's channel scope (HQ) or of
the request's partner (portal), a partner's end customers, and the totals other areas
(inventory, scores, dashboard) count: `sell_through_totals`, one SQL aggregation."""

import datetime
from decimal import Decimal

import django_filters
from django.db.models import Count, DecimalField, Max, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.channels.models import ApiKey, Partner, SellThroughLine, SellThroughReport
from crm.channels.models.base import MONEY, QUANTITY
from crm.channels.portal.access import user_partner
from crm.channels.selectors.partners_scope import of_visible_partners, partners_visible
from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.customers.models import Region
from crm.products.models import Product
from crm.sales.selectors.payments import DATE, scoped_choices_form

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(**MONEY)
QUANTITY_FIELD = DecimalField(**QUANTITY)
# What `sell_through_totals` may group by, and the column each name stands for.
GROUPS = {
    "partner": "partner_id",
    "product": "product_id",
    "region": "region_id",
    "end_customer": "end_customer_id",
    "sold_on": "sold_on",
}


def _id(value) -> int | None:
    return int(value) if is_id(str(value)) else None


# HQ: reports


class ReportFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    source = django_filters.ChoiceFilter(
        label=_("source"), choices=SellThroughReport.Source.choices
    )
    sold_from = django_filters.DateFilter(
        label=_("sales from"), field_name="period_end", lookup_expr="gte", widget=DATE
    )
    sold_until = django_filters.DateFilter(
        label=_("sales until"),
        field_name="period_start",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = SellThroughReport
        fields = ["partner", "source"]
        form = scoped_choices_form(partner=lambda user: partners_visible(user))


def reports_visible(user) -> QuerySet[SellThroughReport]:
    return of_visible_partners(SellThroughReport.objects.all(), user)


@register
class SellThroughReportList(ListSpec):
    key = "channels.sellthroughreport"
    model = SellThroughReport
    title = _("Sell-through reports")
    columns = [
        Column("reference", _("report id"), sort="reference", link=True),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column("source", _("source"), sort="source", choices=True),
        Column("period_start", _("from"), sort="period_start"),
        Column("period_end", _("until"), sort="period_end"),
        Column("line_count", _("lines"), sort="line_count"),
        Column("total_quantity", _("quantity"), sort="total_quantity"),
        Column("total_amount", _("amount"), sort="total_amount"),
        Column("created_at", _("submitted at"), sort="created_at"),
    ]
    search_fields = ("reference", "partner__name", "partner__number")
    filterset_class = ReportFilter
    default_sort = "-created_at"
    select_related = ("partner",)
    detail_url_name = "channels:sellthrough-detail"

    def base_queryset(self, user):
        return reports_visible(user)


def report_get(*, actor, pk) -> SellThroughReport:
    """A report of a partner the HQ user may see; any other is not found (404)."""
    try:
        return (
            reports_visible(actor)
            .select_related("partner", "submitted_by", "api_key")
            .get(pk=_id(pk))
        )
    except SellThroughReport.DoesNotExist:
        raise NotFound(_("Not found, or outside your data scope.")) from None


# HQ: lines


class LineFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    product = django_filters.ModelChoiceFilter(
        label=_("product"), queryset=Product.objects.all()
    )
    region = django_filters.ModelChoiceFilter(
        label=_("region"),
        queryset=Region.objects.filter(level__lte=Region.Level.CITY),
        method="in_region",
        field_name="region",
    )
    sold_from = django_filters.DateFilter(
        label=_("sales from"), field_name="sold_on", lookup_expr="gte", widget=DATE
    )
    sold_until = django_filters.DateFilter(
        label=_("sales until"), field_name="sold_on", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = SellThroughLine
        fields = ["partner", "product"]
        form = scoped_choices_form(partner=lambda user: partners_visible(user))

    def in_region(self, queryset, name, value):
        """A province or city includes the districts under it."""
        if not value:
            return queryset
        return queryset.filter(region__path__startswith=value.path)


def lines_visible(user) -> QuerySet[SellThroughLine]:
    return of_visible_partners(SellThroughLine.objects.all(), user)


@register
class SellThroughLineList(ListSpec):
    key = "channels.sellthroughline"
    model = SellThroughLine
    title = _("Sell-through lines")
    columns = [
        Column("sold_on", _("sale date"), sort="sold_on"),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column("report.reference", _("report id"), field="report"),
        Column(
            "product.code", _("product code"), sort="product__code", field="product"
        ),
        Column("product.name", _("product"), sort="product__name", field="product"),
        Column("quantity", _("quantity"), sort="quantity"),
        Column("amount", _("amount"), sort="amount"),
        Column("end_customer_name", _("end customer"), sort="end_customer_name"),
        Column("region.full_name", _("region"), field="region"),
    ]
    search_fields = ("end_customer_name", "product__code", "product__name")
    filterset_class = LineFilter
    default_sort = "-sold_on"
    select_related = (
        "partner",
        "report",
        "product",
        "region__parent__parent",
    )

    @property
    def view_perm(self) -> str:
        return "channels.view_sellthroughreport"

    def base_queryset(self, user):
        return lines_visible(user)


def line_totals(qs: QuerySet) -> dict:
    """Quantity, amount and line count of a (filtered) line queryset, in one query."""
    return qs.order_by().aggregate(
        quantity=Coalesce(Sum("quantity"), Value(ZERO), output_field=QUANTITY_FIELD),
        amount=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY_FIELD),
        lines=Count("pk"),
    )


# Portal


class PortalReportFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(
        label=_("source"), choices=SellThroughReport.Source.choices
    )
    sold_from = django_filters.DateFilter(
        label=_("sales from"), field_name="period_end", lookup_expr="gte", widget=DATE
    )
    sold_until = django_filters.DateFilter(
        label=_("sales until"),
        field_name="period_start",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = SellThroughReport
        fields = ["source"]


@register
class PortalSellThroughReportList(ListSpec):
    """The portal's list and API list: only the user's own partner's reports."""

    key = "channels.portal_sellthroughreport"
    model = SellThroughReport
    title = _("Sales reports")
    columns = [
        Column("reference", _("report id"), sort="reference", link=True),
        Column("source", _("source"), sort="source", choices=True),
        Column("period_start", _("from"), sort="period_start"),
        Column("period_end", _("until"), sort="period_end"),
        Column("line_count", _("lines"), sort="line_count"),
        Column("total_quantity", _("quantity"), sort="total_quantity"),
        Column("total_amount", _("amount"), sort="total_amount"),
        Column("created_at", _("submitted at"), sort="created_at"),
    ]
    search_fields = ("reference",)
    filterset_class = PortalReportFilter
    default_sort = "-created_at"
    detail_url_name = "portal:sellthrough-detail"

    def base_queryset(self, user):
        partner = user_partner(user)
        if partner is None:
            return SellThroughReport.objects.none()
        return portal_reports(partner)


def portal_reports(partner: Partner) -> QuerySet[SellThroughReport]:
    return SellThroughReport.objects.filter(partner=partner).select_related(
        "submitted_by"
    )


def portal_report_get(*, partner: Partner, pk) -> SellThroughReport:
    """One of the partner's own reports; another partner's id is not found (404)."""
    try:
        return portal_reports(partner).get(pk=_id(pk))
    except SellThroughReport.DoesNotExist:
        raise NotFound(_("Not found.")) from None


def report_lines(report: SellThroughReport) -> QuerySet[SellThroughLine]:
    return (
        SellThroughLine.objects.filter(report=report)
        .select_related("product", "region__parent__parent", "end_customer")
        .order_by("pk")
    )


def portal_end_customer_rows(partner: Partner, q: str = "") -> QuerySet:
    """One row per end customer of the partner: name, region, lines, quantity, amount,
    last sale; grouped in SQL."""
    qs = SellThroughLine.objects.filter(partner=partner, end_customer__isnull=False)
    if q:
        qs = qs.filter(end_customer__name__icontains=q)
    return (
        qs.values("end_customer", "end_customer__name", "end_customer__number")
        .annotate(
            lines=Count("pk"),
            quantity=Sum("quantity"),
            amount=Sum("amount"),
            last_sale=Max("sold_on"),
        )
        .order_by("-amount", "end_customer__name")
    )


def portal_api_keys(partner: Partner) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(partner=partner).select_related("created_by")


def portal_api_key_get(*, partner: Partner, pk) -> ApiKey:
    try:
        return portal_api_keys(partner).get(pk=_id(pk))
    except ApiKey.DoesNotExist:
        raise NotFound(_("Not found.")) from None


# For other areas


def sell_through_totals(
    partner_ids,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    by=("partner", "product"),
) -> list[dict]:
    """Sold quantity and amount per group (keys `partner`, `product`, `region`,
    `end_customer`, `sold_on` as ids/dates), for the given partners and sale dates
    (inclusive); one GROUP BY query. `partner_ids` None means every partner — callers
    pass ids already narrowed to the viewer's scope."""
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group sell-through by {sorted(unknown)}")
    qs = SellThroughLine.objects.all()
    if partner_ids is not None:
        qs = qs.filter(partner_id__in=partner_ids)
    if since is not None:
        qs = qs.filter(sold_on__gte=since)
    if until is not None:
        qs = qs.filter(sold_on__lte=until)
    columns = [GROUPS[name] for name in by]
    rows = (
        qs.order_by()
        .values(*columns)
        .annotate(
            quantity=Sum("quantity", output_field=QUANTITY_FIELD),
            amount=Sum("amount", output_field=MONEY_FIELD),
        )
        .order_by(*columns)
    )
    renamed = dict(zip(columns, by, strict=True))
    return [
        {**{renamed.get(k, k): v for k, v in row.items()}} for row in rows.iterator()
    ]
