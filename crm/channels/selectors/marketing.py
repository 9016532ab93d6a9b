"""D9 reads: promotions (HQ calendar and the ones addressed to a partner), partner plans,
fund requests and execution reports, each through the reader's scope.

HQ: a published promotion is the company's public calendar, so every holder of
view_promotion sees it; drafts and cancelled ones follow the "channels" data scope of
their owner. Plans, fund requests and reports are seen through their partner
(`of_visible_partners`). Portal: a partner sees only published promotions addressed to
it (its tier among the promotion's tiers, its location or a served region inside one of
the promotion's regions; none chosen means all) and only its own plans.
"""

import datetime
from decimal import Decimal

import django_filters
from django.db.models import (
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.channels.models import (
    ExecutionReport,
    FundRequest,
    Partner,
    PartnerPlan,
    Promotion,
)
from crm.channels.portal.access import membership, user_partner
from crm.channels.selectors.agreements import PartnerScopedForm
from crm.channels.selectors.partners_scope import of_visible_partners
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import scope_q

SUM_FIELD = DecimalField(max_digits=30, decimal_places=6)
ZERO = Decimal("0")


def path_ids(path: str) -> set[int]:
    """The ids of a tree node and its ancestors, read from its materialised path."""
    return {int(part) for part in (path or "").strip("/").split("/") if part}


def within(node, allowed) -> bool:
    """Whether `node` is one of the `allowed` nodes or below one of them."""
    return bool(path_ids(node.path) & {n.pk for n in allowed})


# Promotions (HQ)


def promotion_queryset(*, actor) -> QuerySet[Promotion]:
    """Published promotions for every reader; drafts and cancelled ones in scope."""
    qs = Promotion.objects.all()
    q = scope_q(actor, "channels")
    if q is not None:
        qs = qs.filter(q | Q(status=Promotion.Status.PUBLISHED))
    return qs.select_related("owner")


def promotion_get(*, actor, pk) -> Promotion:
    try:
        return promotion_queryset(actor=actor).get(pk=pk)
    except (Promotion.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Promotion not found.")) from None


def fund_approved_sum(promotion_id) -> Decimal:
    """Co-marketing funds approved so far over all plans of a promotion."""
    total = FundRequest.objects.filter(
        plan__promotion_id=promotion_id, status=FundRequest.Status.APPROVED
    ).aggregate(s=Sum("approved_amount"))["s"]
    return total or ZERO


def with_fund_used(qs: QuerySet) -> QuerySet:
    """Promotions annotated with `fund_used`: approved funds, one scalar subquery."""
    approved = (
        FundRequest.objects.filter(
            plan__promotion=OuterRef("pk"), status=FundRequest.Status.APPROVED
        )
        .order_by()
        .annotate(s=Func(F("approved_amount"), function="SUM", output_field=SUM_FIELD))
        .values("s")[:1]
    )
    plans = (
        PartnerPlan.objects.filter(promotion=OuterRef("pk"))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")[:1]
    )
    return qs.annotate(
        fund_used=Coalesce(
            Subquery(approved, output_field=SUM_FIELD),
            Value(ZERO),
            output_field=SUM_FIELD,
        ),
        plan_count=Coalesce(Subquery(plans, output_field=IntegerField()), Value(0)),
    )


class PromotionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Promotion.Status.choices
    )
    date_from = django_filters.DateFilter(
        label=_("running from"),
        field_name="ends_on",
        lookup_expr="gte",
    )
    date_to = django_filters.DateFilter(
        label=_("running until"),
        field_name="starts_on",
        lookup_expr="lte",
    )

    class Meta:
        model = Promotion
        fields = ["status"]


class BudgetLeftColumn(Column):
    def value(self, obj):
        used = getattr(obj, "fund_used", None)
        return None if used is None else obj.fund_budget - used


@register
class PromotionList(ListSpec):
    key = "channels.promotion"
    model = Promotion
    title = _("Promotions")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("status", _("status"), sort="status", choices=True),
        Column("starts_on", _("from"), sort="starts_on"),
        Column("ends_on", _("until"), sort="ends_on"),
        Column("fund_budget", _("co-marketing fund budget"), sort="fund_budget"),
        Column("fund_used", _("funds approved"), sort="fund_used", field="fund_budget"),
        BudgetLeftColumn("budget_left", _("budget left"), field="fund_budget"),
        Column("plan_count", _("plans"), sort="plan_count", field="name"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
    ]
    search_fields = ("name", "description")
    filterset_class = PromotionFilter
    default_sort = "-starts_on"
    detail_url_name = "channels:promotion-detail"

    def base_queryset(self, user):
        return with_fund_used(promotion_queryset(actor=user))


def promotion_calendar(*, actor, year: int) -> list[Promotion]:
    """The promotions running at some time in `year` (not cancelled), by start date."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return list(
        with_fund_used(
            promotion_queryset(actor=actor)
            .exclude(status=Promotion.Status.CANCELLED)
            .filter(starts_on__lte=end, ends_on__gte=start)
        ).order_by("starts_on", "pk")
    )


# Promotions addressed to a partner (portal)


def partner_region_ids(partner: Partner) -> set[int]:
    """Ids of the partner's location and served regions and all their ancestors."""
    ids: set[int] = set()
    if partner.region_id:
        ids |= path_ids(partner.region.path)
    for region in partner.regions_served.all():
        ids |= path_ids(region.path)
    return ids


def promotions_for_partner(partner: Partner) -> QuerySet[Promotion]:
    """Published promotions whose tiers include the partner's (none: every tier) and
    whose regions contain its location or a served region (none: everywhere)."""
    tiers = Promotion.tiers.through.objects.filter(promotion_id=OuterRef("pk"))
    regions = Promotion.regions.through.objects.filter(promotion_id=OuterRef("pk"))
    tier_ok = ~Exists(tiers)
    if partner.tier_id:
        tier_ok |= Exists(tiers.filter(tier_id=partner.tier_id))
    region_ok = ~Exists(regions) | Exists(
        regions.filter(region_id__in=partner_region_ids(partner))
    )
    return (
        Promotion.objects.filter(status=Promotion.Status.PUBLISHED)
        .filter(tier_ok)
        .filter(region_ok)
    )


def portal_promotion_get(*, partner: Partner, pk) -> Promotion:
    try:
        return promotions_for_partner(partner).get(pk=pk)
    except (Promotion.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Promotion not found.")) from None


# Partner plans


def plan_base():
    return PartnerPlan.objects.select_related("partner", "promotion", "created_by")


def plan_queryset(*, actor) -> QuerySet[PartnerPlan]:
    """HQ: the plans of the partners the actor may see."""
    return of_visible_partners(plan_base(), actor)


def plan_get(*, actor, pk) -> PartnerPlan:
    try:
        return plan_queryset(actor=actor).get(pk=pk)
    except (PartnerPlan.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Plan not found.")) from None


def portal_plans(partner: Partner) -> QuerySet[PartnerPlan]:
    return plan_base().filter(partner=partner)


def portal_plan_get(*, partner: Partner, pk) -> PartnerPlan:
    try:
        return portal_plans(partner).get(pk=pk)
    except (PartnerPlan.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Plan not found.")) from None


class PlanScopedForm(PartnerScopedForm):
    """Partner and promotion choices shrink to what the user may see."""

    @PartnerScopedForm.user.setter
    def user(self, user):
        PartnerScopedForm.user.fset(self, user)
        if "promotion" in self.fields:
            self.fields["promotion"].queryset = promotion_queryset(actor=user)
        if "plan" in self.fields:
            self.fields["plan"].queryset = plan_queryset(actor=user)


class PlanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=PartnerPlan.Status.choices
    )
    promotion = django_filters.ModelChoiceFilter(
        label=_("promotion"), queryset=Promotion.objects.all()
    )
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )

    class Meta:
        model = PartnerPlan
        fields = ["status", "promotion", "partner"]
        form = PlanScopedForm


@register
class PlanList(ListSpec):
    key = "channels.partnerplan"
    model = PartnerPlan
    title = _("Partner plans")
    columns = [
        Column("title", _("title"), sort="title", link=True),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column(
            "promotion.name", _("promotion"), sort="promotion__name", field="promotion"
        ),
        Column("status", _("status"), sort="status", choices=True),
        Column("starts_on", _("from"), sort="starts_on"),
        Column("ends_on", _("until"), sort="ends_on"),
        Column("updated_at", _("updated at"), sort="updated_at"),
    ]
    search_fields = ("title", "partner__name", "promotion__name")
    filterset_class = PlanFilter
    default_sort = "-starts_on"
    detail_url_name = "channels:plan-detail"

    def base_queryset(self, user):
        return plan_queryset(actor=user)


def plan_totals(plan: PartnerPlan) -> dict:
    """What a plan asked for, was granted and achieved: funds requested and approved,
    spent, leads and sales from its execution reports (two aggregate queries)."""
    funds = plan.fund_requests.aggregate(
        requested=Sum("amount"),
        approved=Sum("approved_amount", filter=Q(status=FundRequest.Status.APPROVED)),
    )
    results = plan.executions.aggregate(
        spent=Sum("spent"), leads=Sum("leads"), sales=Sum("sales_amount")
    )
    approved = funds["approved"] or ZERO
    spent = results["spent"] or ZERO
    return {
        "requested": funds["requested"] or ZERO,
        "approved": approved,
        "spent": spent,
        "leads": results["leads"] or 0,
        "sales": results["sales"] or ZERO,
        "unspent": approved - spent,
    }


def plan_fund_requests(plan: PartnerPlan) -> QuerySet[FundRequest]:
    return plan.fund_requests.select_related("requested_by", "decided_by").order_by(
        "created_at", "pk"
    )


def plan_executions(plan: PartnerPlan) -> QuerySet[ExecutionReport]:
    return plan.executions.select_related("submitted_by").order_by("reported_on", "pk")


def fundrequest_get(*, actor, pk) -> FundRequest:
    """HQ: a fund request of a partner the actor may see."""
    qs = of_visible_partners(
        FundRequest.objects.select_related("plan", "plan__promotion", "plan__partner"),
        actor,
        field="plan__partner",
    )
    try:
        return qs.get(pk=pk)
    except (FundRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Fund request not found.")) from None


def portal_fundrequest_get(*, partner: Partner, pk) -> FundRequest:
    try:
        return FundRequest.objects.select_related("plan").get(
            pk=pk, plan__partner=partner
        )
    except (FundRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Fund request not found.")) from None


class FundRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=FundRequest.Status.choices
    )
    plan = django_filters.ModelChoiceFilter(
        label=_("plan"), queryset=PartnerPlan.objects.all()
    )

    class Meta:
        model = FundRequest
        fields = ["status", "plan"]
        form = PlanScopedForm


@register
class FundRequestList(ListSpec):
    """HQ: co-marketing fund requests of the partners in scope (the API's list)."""

    key = "channels.fundrequest"
    model = FundRequest
    title = _("Co-marketing fund requests")
    columns = [
        Column("plan.title", _("plan"), sort="plan__title", field="plan"),
        Column(
            "plan.partner.name", _("partner"), sort="plan__partner__name", field="plan"
        ),
        Column("purpose", _("purpose")),
        Column("amount", _("amount requested"), sort="amount"),
        Column("approved_amount", _("amount approved"), sort="approved_amount"),
        Column("status", _("status"), sort="status", choices=True),
        Column("created_at", _("created at"), sort="created_at"),
    ]
    search_fields = ("purpose", "plan__title", "plan__partner__name")
    filterset_class = FundRequestFilter
    default_sort = "-created_at"

    def base_queryset(self, user):
        return of_visible_partners(
            FundRequest.objects.select_related("plan", "plan__partner"),
            user,
            field="plan__partner",
        )


# The portal's lists (the portal API reads through them): the caller's partner only.


def _caller_partner_id(user):
    member = membership(user)
    return member.partner_id if member else None


@register
class PortalPromotionList(ListSpec):
    key = "channels.portal_promotion"
    model = Promotion
    title = _("Promotions")
    columns = PromotionList.columns[:4]
    search_fields = ("name", "description")
    filterset_class = PromotionFilter
    default_sort = "-starts_on"

    def base_queryset(self, user):
        partner = user_partner(user)
        if partner is None:
            return Promotion.objects.none()
        return promotions_for_partner(partner)


class PortalPlanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=PartnerPlan.Status.choices
    )

    class Meta:
        model = PartnerPlan
        fields = ["status"]


@register
class PortalPlanList(ListSpec):
    key = "channels.portal_partnerplan"
    model = PartnerPlan
    title = _("Partner plans")
    columns = [c for c in PlanList.columns if c.name != "partner.name"]
    search_fields = ("title", "promotion__name")
    filterset_class = PortalPlanFilter
    default_sort = "-starts_on"

    def base_queryset(self, user):
        return plan_base().filter(partner_id=_caller_partner_id(user))
