"""Reads for opportunities (S2), the pipeline board, stages and competitors, always
through the sales data scope (Y5) where records are scoped."""

from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

import django_filters
from django import forms
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, check_query_params, register
from crm.org.models import Department, User
from crm.sales.models import (
    Competitor,
    Opportunity,
    OpportunityProduct,
    Stage,
    StageChange,
)

CARDS_PER_COLUMN = 50
SUM_FIELD = DecimalField(max_digits=32, decimal_places=6)
ZERO = Decimal("0")


def _date(label, name: str, lookup: str):
    return django_filters.DateFilter(
        label=label,
        field_name=name,
        lookup_expr=lookup,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _in_department(qs, name, value):
    """A department stands for its whole subtree."""
    return qs.filter(department__path__startswith=value.path) if value else qs


class OpportunityFilter(django_filters.FilterSet):
    stage = django_filters.ModelChoiceFilter(
        label=_("stage"), queryset=Stage.objects.all()
    )
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Opportunity.Status.choices
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"), queryset=Department.objects.all(), method="in_department"
    )
    close_from = _date(_("expected close from"), "expected_close_on", "gte")
    close_to = _date(_("expected close to"), "expected_close_on", "lte")
    min_amount = django_filters.NumberFilter(
        label=_("amount from"), field_name="amount", lookup_expr="gte"
    )
    max_amount = django_filters.NumberFilter(
        label=_("amount to"), field_name="amount", lookup_expr="lte"
    )
    competitor = django_filters.ModelChoiceFilter(
        label=_("competitor"),
        queryset=Competitor.objects.all(),
        method="met",
        field_name="competitors",  # for the API schema: an id of a competitor
    )

    class Meta:
        model = Opportunity
        fields = ["stage", "status"]

    def in_department(self, qs, name, value):
        return _in_department(qs, name, value)

    def met(self, qs, name, value):
        """Opportunities where the competitor appears or that were lost to it."""
        if not value:
            return qs
        return qs.filter(Q(competitors=value) | Q(lost_to=value)).distinct()


def opportunity_queryset(*, actor):
    """The opportunities the user may see."""
    return Opportunity.objects.visible_to(actor)


@register
class OpportunityList(ListSpec):
    key = "sales.opportunity"
    model = Opportunity
    title = _("Opportunities")
    columns = [
        Column("number", _("opportunity number"), sort="number", link=True),
        Column("name", _("opportunity name"), sort="name", link=True),
        Column("customer.name", _("customer"), sort="customer__name", field="customer"),
        Column("stage.name", _("stage"), sort="stage__sort_order", field="stage"),
        Column("status", _("status"), sort="status", choices=True),
        Column("amount", _("amount"), sort="amount"),
        Column("stage.probability", _("probability %"), field="stage"),
        Column("expected_close_on", _("expected close"), sort="expected_close_on"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("close_reason", _("win/loss reason")),
        Column("updated_at", _("updated at"), sort="updated_at"),
    ]
    search_fields = ("number", "name", "customer__name", "customer__number")
    filterset_class = OpportunityFilter
    default_sort = "-pk"
    select_related = ("customer", "stage", "owner", "department")
    detail_url_name = "sales:opportunity-detail"

    def base_queryset(self, user):
        return opportunity_queryset(actor=user)


def opportunity_get(*, actor, pk) -> Opportunity:
    """An opportunity within the user's scope, else NotFound (404)."""
    if not is_id(pk):
        raise NotFound(_("Opportunity not found."))
    try:
        return (
            opportunity_queryset(actor=actor)
            .select_related(
                "customer", "contact", "stage", "owner", "department", "lost_to"
            )
            .get(pk=pk)
        )
    except Opportunity.DoesNotExist:
        raise NotFound(_("Opportunity not found.")) from None


def product_lines():
    """Product lines with their amounts (quantity × unit price) computed in SQL."""
    return OpportunityProduct.objects.select_related("product").annotate(
        line_amount=ExpressionWrapper(
            F("quantity") * F("unit_price"), output_field=SUM_FIELD
        )
    )


def opportunity_products(*, opportunity: Opportunity):
    """An opportunity's product lines; whoever may see it sees its products."""
    return product_lines().filter(opportunity=opportunity)


def opportunity_stage_changes(*, opportunity: Opportunity) -> list[StageChange]:
    """The stage history, oldest first, with when each stay ended and how long it was."""
    changes = list(
        StageChange.objects.filter(opportunity=opportunity).select_related(
            "from_stage", "to_stage", "changed_by"
        )
    )
    now = timezone.now()
    for change, after in zip(changes, [*changes[1:], None], strict=True):
        end = after.changed_at if after else (opportunity.closed_at or now)
        change.ended_at = max(end, change.changed_at)
        change.duration = change.ended_at - change.changed_at
        change.current = after is None
    return changes


# Stages


def stage_list(*, active_only: bool = False):
    qs = Stage.objects.order_by("sort_order", "pk")
    return qs.filter(is_active=True) if active_only else qs


def stage_get(*, pk) -> Stage:
    if not is_id(pk):
        raise NotFound(_("Stage not found."))
    try:
        return Stage.objects.get(pk=pk)
    except Stage.DoesNotExist:
        raise NotFound(_("Stage not found.")) from None


def stage_usage() -> dict[int, dict]:
    """Per stage: how many opportunities are in it, and how many of them are open."""
    rows = Opportunity.objects.values("stage_id").annotate(
        total=Count("pk"), open=Count("pk", filter=Q(status=Opportunity.Status.OPEN))
    )
    return {r["stage_id"]: r for r in rows.order_by()}


@register
class StageList(ListSpec):
    """Pipeline stages for API clients: everybody who sees opportunities sees them."""

    key = "sales.stage"
    model = Stage
    title = _("Pipeline stages")
    columns = [
        Column("sort_order", _("sort order"), sort="sort_order"),
        Column("name", _("name"), sort="name"),
        Column("kind", _("kind"), sort="kind", choices=True),
        Column("probability", _("probability %"), sort="probability"),
        Column("is_active", _("active"), sort="is_active"),
    ]
    search_fields = ("name",)
    default_sort = "sort_order"

    @property
    def view_perm(self) -> str:
        return "sales.view_opportunity"

    def base_queryset(self, user):
        return Stage.objects.all()


# Pipeline board


def _departments_in_scope(user):
    """The departments a user can filter the board by: those of the opportunities they
    may see, and their own."""
    ids = (
        opportunity_queryset(actor=user)
        .exclude(department=None)
        .order_by()
        .values("department_id")
        .distinct()
    )
    q = Q(pk__in=ids)
    if user.department_id:
        q |= Q(pk=user.department_id)
    return Department.objects.filter(q).order_by("path")


def _owners_in_scope(user):
    ids = (
        opportunity_queryset(actor=user)
        .exclude(owner=None)
        .order_by()
        .values("owner_id")
        .distinct()
    )
    return User.objects.filter(Q(pk__in=ids) | Q(pk=user.pk)).order_by("name")


class PipelineFilter(django_filters.FilterSet):
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=lambda request: _owners_in_scope(request.user)
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"),
        queryset=lambda request: _departments_in_scope(request.user),
        method="in_department",
    )
    close_from = _date(_("expected close from"), "expected_close_on", "gte")
    close_to = _date(_("expected close to"), "expected_close_on", "lte")

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def in_department(self, qs, name, value):
        return _in_department(qs, name, value)


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO
    cards: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(self.count - len(self.cards), 0)


def stage_totals(qs) -> dict[int, dict]:
    """Count, amount and weighted amount (amount × probability / 100) per stage, computed
    by the database in one grouped query."""
    weighted = ExpressionWrapper(
        F("amount") * F("stage__probability") / Value(Decimal(100)),
        output_field=SUM_FIELD,
    )
    rows = (
        qs.order_by()
        .values("stage_id")
        .annotate(
            n=Count("pk"),
            total_amount=Sum("amount", output_field=SUM_FIELD),
            total_weighted=Sum(weighted, output_field=SUM_FIELD),
        )
    )
    return {
        r["stage_id"]: {
            "count": r["n"],
            "amount": r["total_amount"] or ZERO,
            "weighted": r["total_weighted"] or ZERO,
        }
        for r in rows
    }


def pipeline_board(*, actor, params) -> dict:
    """The board: a column per active open stage with its open opportunities (the first
    CARDS_PER_COLUMN by expected close) and totals; won and lost drop zones with what was
    closed into them this month. Only opportunities in the viewer's scope."""
    check_query_params(params, PipelineFilter)
    base = opportunity_queryset(actor=actor)
    # The filter's choices (owners, departments) depend on the viewer only.
    filterset = PipelineFilter(
        params, queryset=base, request=SimpleNamespace(user=actor)
    )
    qs = filterset.qs if filterset.is_valid() else base.none()
    stages = list(stage_list(active_only=True))
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    closed_stages = [s for s in stages if s.kind != Stage.Kind.OPEN]
    open_qs = qs.filter(status=Opportunity.Status.OPEN, stage__in=open_stages)
    totals = stage_totals(open_qs)
    columns = {s.pk: BoardColumn(stage=s, **totals.get(s.pk, {})) for s in open_stages}
    cards = (
        open_qs.select_related("customer", "owner")
        .annotate(
            row=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[
                    F("expected_close_on").asc(nulls_last=True),
                    F("pk").asc(),
                ],
            )
        )
        .filter(row__lte=CARDS_PER_COLUMN)
        .order_by("stage_id", "row")
    )
    for card in cards:
        columns[card.stage_id].cards.append(card)
    month_start = timezone.localtime().replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    closed_totals = stage_totals(
        qs.filter(stage__in=closed_stages, closed_at__gte=month_start).exclude(
            status=Opportunity.Status.OPEN
        )
    )
    zones = [BoardColumn(stage=s, **closed_totals.get(s.pk, {})) for s in closed_stages]
    summary = {
        "count": sum(c.count for c in columns.values()),
        "amount": sum((c.amount for c in columns.values()), ZERO),
        "weighted": sum((c.weighted for c in columns.values()), ZERO),
    }
    return {
        "columns": list(columns.values()),
        "zones": zones,
        "summary": summary,
        "filterset": filterset,
    }


# Competitors


@register
class CompetitorList(ListSpec):
    key = "sales.competitor"
    model = Competitor
    title = _("Competitors")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("website", _("website")),
        Column("strengths", _("strengths")),
        Column("weaknesses", _("weaknesses")),
        Column("is_active", _("active"), sort="is_active"),
        Column("updated_at", _("updated at"), sort="updated_at"),
    ]
    search_fields = ("name", "strengths", "weaknesses", "notes")
    default_sort = "name"
    detail_url_name = "sales:competitor-detail"

    def base_queryset(self, user):
        return Competitor.objects.all()


def competitor_get(*, pk) -> Competitor:
    """Competitors are shared reference data: whoever may read them sees every one."""
    if not is_id(pk):
        raise NotFound(_("Competitor not found."))
    try:
        return Competitor.objects.get(pk=pk)
    except Competitor.DoesNotExist:
        raise NotFound(_("Competitor not found.")) from None


def competitor_opportunities(*, actor, competitor: Competitor, limit: int = 100):
    """The opportunities in the user's scope where the competitor appears, and those lost
    to it, with their counts and amounts."""
    visible = opportunity_queryset(actor=actor).select_related(
        "customer", "stage", "owner"
    )
    met = visible.filter(competitors=competitor)
    lost = visible.filter(lost_to=competitor)

    def stats(qs):
        return qs.order_by().aggregate(
            count=Count("pk"), amount=Sum("amount", output_field=SUM_FIELD)
        )

    return {
        "met": list(met.order_by("-updated_at", "-pk")[:limit]),
        "met_stats": stats(met),
        "lost": list(lost.order_by("-closed_at", "-pk")[:limit]),
        "lost_stats": stats(lost),
        "won_against": met.filter(status=Opportunity.Status.WON).count(),
    }
