"""D7 targets and D8 scores: reads.

Scope (Y5): targets and scores are read through the viewer's partners
(`of_visible_partners`); KPIs and score periods are configuration every holder of their
view permission sees. A period's scores are computed for ALL partners (ranks are global,
crm.channels.services.scores), but an HQ user only ever sees the rows of the partners in
their scope. Portal reads filter by the partner of the request and show scores of closed
periods only (an open period's scores are provisional and may still be recomputed).

Every actual on the target list is a SQL aggregate (correlated subqueries: one query for
a whole page)."""

import datetime
from calendar import monthrange
from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django import forms
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.channels.models import (
    Kpi,
    Partner,
    PartnerScore,
    PartnerTarget,
    PeriodKind,
    ScorePeriod,
    SellThroughLine,
)
from crm.channels.selectors.partners_scope import (
    of_visible_partners,
    partners_visible,
)
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import authorize

SUM_FIELD = DecimalField(max_digits=30, decimal_places=6)
ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
MONTHS_OF = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


# Periods


def is_period_start(kind: str, day: datetime.date) -> bool:
    """A month starts on the 1st, a quarter on 1 Jan/Apr/Jul/Oct, a year on 1 Jan."""
    if day.day != 1:
        return False
    if kind == PeriodKind.QUARTER:
        return day.month in (1, 4, 7, 10)
    if kind == PeriodKind.YEAR:
        return day.month == 1
    return kind == PeriodKind.MONTH


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_end(kind: str, starts_on: datetime.date) -> datetime.date:
    last = add_months(starts_on, MONTHS_OF[kind] - 1)
    return last.replace(day=monthrange(last.year, last.month)[1])


def previous_period(kind: str, starts_on: datetime.date):
    """The period of the same length just before (growth compares with it)."""
    start = add_months(starts_on, -MONTHS_OF[kind])
    return start, period_end(kind, start)


def period_name(kind: str, starts_on: datetime.date) -> str:
    """As people write it: 2026-03, 2026 Q1, 2026."""
    if kind == PeriodKind.MONTH:
        return f"{starts_on:%Y-%m}"
    if kind == PeriodKind.QUARTER:
        return f"{starts_on.year} Q{(starts_on.month - 1) // 3 + 1}"
    return str(starts_on.year)


def month_starts(starts_on: datetime.date, ends_on: datetime.date):
    day = starts_on.replace(day=1)
    while day <= ends_on:
        yield day
        day = add_months(day, 1)


def percent_of(actual, target) -> Decimal | None:
    """actual ÷ target × 100, two decimals half up; None without a target."""
    if not target:
        return None
    return (Decimal(actual or 0) * HUNDRED / Decimal(target)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


# Actuals as SQL


def sum_of(qs: QuerySet, field: str):
    """SUM(field) of a correlated queryset as one scalar subquery (0 when empty)."""
    summed = qs.order_by().annotate(
        s=Func(F(field), function="SUM", output_field=SUM_FIELD)
    )
    return Coalesce(
        Subquery(summed.values("s")[:1], output_field=SUM_FIELD),
        Value(ZERO),
        output_field=SUM_FIELD,
    )


def count_distinct(qs: QuerySet, field: str):
    counted = qs.order_by().annotate(
        c=Func(
            F(field),
            function="COUNT",
            template="COUNT(DISTINCT %(expressions)s)",
            output_field=IntegerField(),
        )
    )
    return Coalesce(
        Subquery(counted.values("c")[:1], output_field=IntegerField()),
        Value(0),
        output_field=IntegerField(),
    )


def _deeper(value):
    """A reference to the outer query, seen from one subquery further in."""
    return OuterRef(value) if isinstance(value, OuterRef) else value


def new_customers_subquery(partner, starts_on, ends_on):
    """End customers whose first purchase from the partner falls in [starts_on, ends_on]:
    they bought in the period and never before it. Each argument is a value or an
    OuterRef to the outer query (a target, a partner)."""
    earlier = SellThroughLine.objects.filter(
        partner=_deeper(partner),
        end_customer=OuterRef("end_customer"),
        sold_on__lt=_deeper(starts_on),
    )
    in_period = SellThroughLine.objects.filter(
        partner=partner,
        sold_on__gte=starts_on,
        sold_on__lte=ends_on,
        end_customer__isnull=False,
    ).filter(~Exists(earlier))
    return count_distinct(in_period, "end_customer")


def with_achievement(qs: QuerySet) -> QuerySet:
    """Targets annotated with `sell_through_actual`, `new_customers_actual` and
    `achievement` (sell-through ÷ target × 100; NULL without a target)."""
    lines = SellThroughLine.objects.filter(
        partner=OuterRef("partner"),
        sold_on__gte=OuterRef("starts_on"),
        sold_on__lte=OuterRef("ends_on"),
    )
    return qs.annotate(
        sell_through_actual=sum_of(lines, "amount"),
        new_customers_actual=new_customers_subquery(
            OuterRef("partner"), OuterRef("starts_on"), OuterRef("ends_on")
        ),
    ).annotate(
        achievement=Case(
            When(sales_amount=0, then=Value(None)),
            default=F("sell_through_actual") * Value(HUNDRED) / F("sales_amount"),
            output_field=SUM_FIELD,
        )
    )


# Targets


def target_queryset(*, actor) -> QuerySet:
    return with_achievement(
        of_visible_partners(PartnerTarget.objects.all(), actor)
    ).select_related("partner")


def target_get(*, actor, pk) -> PartnerTarget:
    try:
        return target_queryset(actor=actor).get(pk=pk)
    except (PartnerTarget.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Target not found.")) from None


def target_is_locked(target: PartnerTarget) -> bool:
    """A target inside a closed score period is final (it was scored)."""
    return closed_period_covering(target.starts_on, target.ends_on) is not None


def closed_period_covering(starts_on, ends_on) -> ScorePeriod | None:
    return ScorePeriod.objects.filter(
        status=ScorePeriod.Status.CLOSED,
        starts_on__lte=starts_on,
        ends_on__gte=ends_on,
    ).first()


def target_line_progress(target: PartnerTarget) -> list[dict]:
    """Each product-line quantity target with the quantity sold in the line (its
    sub-categories included) during the target's period: one query per line."""
    rows = []
    for line in target.lines.select_related("category").order_by("category__path"):
        sold = (
            SellThroughLine.objects.filter(
                partner_id=target.partner_id,
                sold_on__gte=target.starts_on,
                sold_on__lte=target.ends_on,
                product__category__path__startswith=line.category.path,
            )
            .order_by()
            .aggregate(q=Sum("quantity"))["q"]
        )
        rows.append(
            {
                "line": line,
                "category": line.category,
                "target": line.quantity,
                "actual": Decimal(sold or 0),
                "rate": percent_of(sold, line.quantity),
            }
        )
    return rows


class YearFilter(django_filters.NumberFilter):
    """A calendar year (a whole number the database can compare: 1900–2200)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1900)
        kwargs.setdefault("max_value", 2200)
        super().__init__(*args, **kwargs)


class TargetFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    period_kind = django_filters.ChoiceFilter(
        label=_("period"), choices=PeriodKind.choices
    )
    year = YearFilter(label=_("year"), field_name="starts_on", lookup_expr="year")

    class Meta:
        model = PartnerTarget
        fields = ["partner", "period_kind", "year"]


def _visible_partner_choices(result, user):
    """The partner filter offers only the partners in the user's scope (the rows are
    scoped anyway; the choice list must not name other managers' partners)."""
    qs, filterset = result
    if filterset is not None and "partner" in filterset.form.fields:
        filterset.form.fields["partner"].queryset = partners_visible(user).order_by(
            "number"
        )
    return qs, filterset


class PercentColumn(Column):
    def value(self, obj):
        value = super().value(obj)
        if value is None:
            return None
        return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)}%"


class PeriodNameColumn(Column):
    def value(self, obj):
        return period_name(obj.period_kind, obj.starts_on)


@register
class TargetList(ListSpec):
    key = "channels.partnertarget"
    model = PartnerTarget
    title = _("Partner targets")
    columns = [
        PeriodNameColumn("period_name", _("period"), sort="starts_on", link=True),
        Column("period_kind", _("period type"), sort="period_kind", choices=True),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column("sales_amount", _("sell-through target"), sort="sales_amount"),
        Column(
            "sell_through_actual",
            _("sell-through"),
            sort="sell_through_actual",
            field="sales_amount",
        ),
        PercentColumn(
            "achievement", _("achievement %"), sort="achievement", field="sales_amount"
        ),
        Column("new_customers", _("new end customers target"), sort="new_customers"),
        Column(
            "new_customers_actual",
            _("new end customers"),
            sort="new_customers_actual",
            field="new_customers",
        ),
        Column("service_level", _("service level target %"), sort="service_level"),
        Column(
            "service_level_actual",
            _("service level achieved %"),
            sort="service_level_actual",
        ),
    ]
    search_fields = ("partner__name", "partner__number", "partner__short_name")
    filterset_class = TargetFilter
    default_sort = "-starts_on"
    detail_url_name = "channels:target-detail"

    def base_queryset(self, user):
        return target_queryset(actor=user)

    def queryset(self, user, params, base=None):
        return _visible_partner_choices(super().queryset(user, params, base), user)


# KPIs


@register
class KpiList(ListSpec):
    key = "channels.kpi"
    model = Kpi
    title = _("KPIs")
    columns = [
        Column("code", _("code"), sort="code"),
        Column("name", _("name"), sort="name"),
        Column("measure", _("measure"), sort="measure", choices=True),
        Column("weight", _("weight"), sort="weight"),
        Column("active", _("active"), sort="active"),
    ]
    search_fields = ("code", "name")
    default_sort = "sort_order"

    def base_queryset(self, user):
        return Kpi.objects.all()


def kpi_list() -> QuerySet:
    return Kpi.objects.order_by("sort_order", "code")


def kpi_get(*, actor, pk) -> Kpi:
    authorize(actor, "channels.view_kpi")
    try:
        return Kpi.objects.get(pk=pk)
    except (Kpi.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("KPI not found.")) from None


# Score periods


class PeriodFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("period"), choices=PeriodKind.choices)
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=ScorePeriod.Status.choices
    )
    year = YearFilter(label=_("year"), field_name="starts_on", lookup_expr="year")

    class Meta:
        model = ScorePeriod
        fields = ["kind", "status", "year"]


@register
class ScorePeriodList(ListSpec):
    key = "channels.scoreperiod"
    model = ScorePeriod
    title = _("Score periods")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("kind", _("period"), sort="kind", choices=True),
        Column("starts_on", _("period start"), sort="starts_on"),
        Column("ends_on", _("period end"), sort="ends_on"),
        Column("status", _("status"), sort="status", choices=True),
        Column("computed_at", _("computed at"), sort="computed_at"),
        Column("closed_at", _("closed at"), sort="closed_at"),
    ]
    search_fields = ("name",)
    filterset_class = PeriodFilter
    default_sort = "-starts_on"
    detail_url_name = "channels:scoreperiod-detail"

    def base_queryset(self, user):
        return ScorePeriod.objects.all()


def period_get(*, actor, pk) -> ScorePeriod:
    authorize(actor, "channels.view_scoreperiod")
    try:
        return ScorePeriod.objects.get(pk=pk)
    except (ScorePeriod.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Score period not found.")) from None


# Scores


def score_queryset(*, actor) -> QuerySet:
    return of_visible_partners(PartnerScore.objects.all(), actor).select_related(
        "partner", "period"
    )


def period_scores(*, actor, period: ScorePeriod) -> QuerySet:
    """The period's scores of the partners in the viewer's scope, best first."""
    return score_queryset(actor=actor).filter(period=period).order_by("rank", "pk")


def score_get(*, actor, pk) -> PartnerScore:
    try:
        return score_queryset(actor=actor).get(pk=pk)
    except (PartnerScore.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Score not found.")) from None


class ScoreFilter(django_filters.FilterSet):
    period = django_filters.ModelChoiceFilter(
        label=_("period"), queryset=ScorePeriod.objects.all()
    )
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )

    class Meta:
        model = PartnerScore
        fields = ["period", "partner"]


@register
class PartnerScoreList(ListSpec):
    key = "channels.partnerscore"
    model = PartnerScore
    title = _("Partner scores")
    columns = [
        Column("period.name", _("period"), sort="period__starts_on", field="period"),
        Column("rank", _("rank"), sort="rank"),
        Column("partner.number", _("partner number"), field="partner"),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column("total", _("score"), sort="total"),
        Column("sell_through_amount", _("sell-through"), sort="sell_through_amount"),
        Column("achievement_percent", _("achievement %"), sort="achievement_percent"),
        Column("sell_in_amount", _("sell-in"), sort="sell_in_amount"),
        Column("rebate_amount", _("rebate"), sort="rebate_amount"),
        Column("penalty_amount", _("penalty"), sort="penalty_amount"),
        Column("outcome", _("outcome")),
    ]
    search_fields = ("partner__name", "partner__number")
    filterset_class = ScoreFilter
    default_sort = "rank"

    def base_queryset(self, user):
        return score_queryset(actor=user)

    def queryset(self, user, params, base=None):
        return _visible_partner_choices(super().queryset(user, params, base), user)


# Portal (always the request's partner)


def portal_targets(partner: Partner) -> QuerySet:
    return with_achievement(PartnerTarget.objects.filter(partner=partner)).order_by(
        "-starts_on", "period_kind"
    )


def portal_scores(partner: Partner) -> QuerySet:
    """The partner's scores of closed periods (open ones are provisional)."""
    return (
        PartnerScore.objects.filter(
            partner=partner, period__status=ScorePeriod.Status.CLOSED
        )
        .select_related("period")
        .order_by("-period__starts_on", "pk")
    )


def portal_score_get(partner: Partner, pk) -> PartnerScore:
    try:
        return portal_scores(partner).get(pk=pk)
    except (PartnerScore.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Score not found.")) from None


def portal_target_get(partner: Partner, pk) -> PartnerTarget:
    try:
        return portal_targets(partner).get(pk=pk)
    except (PartnerTarget.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Target not found.")) from None


# Explaining a score (HQ period page and portal alike)

INPUT_LABELS = {
    "sell_through": _("Sell-through in the period"),
    "target": _("Target"),
    "targets": _("Targets added up"),
    "achievement": _("Achievement %"),
    "previous": _("Sell-through in the previous period"),
    "growth": _("Growth %"),
    "products": _("Products stocked or sold"),
    "inside": _("Inside the stock bounds"),
    "window_days": _("Sales window (days)"),
    "months": _("Months"),
    "on_time": _("Months reported on time"),
    "deadline_day": _("Report deadline (day of next month)"),
    "actual": _("Actual"),
}
NOT_APPLICABLE = {
    "no_target": _("No target set for this period: not counted."),
    "no_previous": _("No sales in the previous period: neutral 50 points."),
    "no_stock": _("No stock reported: not counted."),
    "no_service_level": _("No service level target or result: not counted."),
    "no_lines": _("No product-line targets: not counted."),
}


def breakdown_rows(score: PartnerScore) -> list[dict]:
    """The score's KPI entries, ready to show: labelled inputs, the formula or the
    reason it does not count, and the detail items (products, months, lines)."""
    rows = []
    for entry in score.breakdown or []:
        inputs = entry.get("inputs") or {}
        formula = entry.get("formula") or ""
        rows.append(
            {
                **entry,
                "label": entry.get("name") or entry.get("kpi"),
                "inputs_display": [
                    (INPUT_LABELS.get(key, key), value)
                    for key, value in inputs.items()
                    if key != "items"
                ],
                "items": inputs.get("items") or [],
                "formula_display": NOT_APPLICABLE.get(formula, formula),
            }
        )
    return rows
