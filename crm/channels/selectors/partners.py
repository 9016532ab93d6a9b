"""D1 partner reads, always through the channels data scope (partners_visible): the
partner list (search, filters, export), a partner with its territories, children and
portal users, the tiers, and the portal's own reads of its partner's users."""

import django_filters
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.channels.models import Partner, PartnerUser, Territory, Tier
from crm.channels.selectors.partners_scope import (
    of_visible_partners,
    partners_visible,
)
from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.customers.models import Region
from crm.org.models import User


class PartnerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=Partner.Kind.choices)
    tier = django_filters.ModelChoiceFilter(
        label=_("tier"), queryset=Tier.objects.all()
    )
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Partner.Status.choices
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("channel manager"),
        queryset=User.objects.filter(is_active=True, partner_membership__isnull=True),
    )
    region = django_filters.ModelChoiceFilter(
        label=_("region"),
        queryset=Region.objects.filter(level__lte=Region.Level.CITY).select_related(
            "parent"
        ),
        field_name="region",
        method="in_region",
    )

    class Meta:
        model = Partner
        fields = ["kind", "tier", "status", "owner"]

    def in_region(self, qs, name, value):
        """A province or city stands for everything inside it."""
        return qs.filter(region__path__startswith=value.path) if value else qs


@register
class PartnerList(ListSpec):
    key = "channels.partner"
    model = Partner
    title = _("Channel partners")
    columns = [
        Column("number", _("partner number"), sort="number", link=True),
        Column("name", _("name"), sort="name", link=True),
        Column("short_name", _("short name"), sort="short_name"),
        Column("kind", _("kind"), sort="kind", choices=True),
        Column("tier.name", _("tier"), sort="tier__rank", field="tier"),
        Column("status", _("status"), sort="status", choices=True),
        Column("region.name", _("location"), sort="region__code", field="region"),
        Column("parent.name", _("parent partner"), sort="parent__name", field="parent"),
        Column("credit_limit", _("credit limit"), sort="credit_limit"),
        Column("owner.name", _("channel manager"), sort="owner__name", field="owner"),
        Column("joined_on", _("joined on"), sort="joined_on"),
    ]
    search_fields = ("number", "name", "short_name")
    filterset_class = PartnerFilter
    default_sort = "number"
    select_related = ("tier", "region", "parent", "owner")
    detail_url_name = "channels:partner-detail"

    def base_queryset(self, user):
        return partners_visible(user)


@register
class TierList(ListSpec):
    key = "channels.tier"
    model = Tier
    title = _("Partner tiers")
    columns = [
        Column("rank", _("rank"), sort="rank"),
        Column("name", _("name"), sort="name", link=True),
        Column("description", _("description")),
    ]
    search_fields = ("name", "description")
    default_sort = "rank"
    detail_url_name = "channels:tier-edit"

    def base_queryset(self, user):
        return Tier.objects.all()


def partner_get(*, actor, pk) -> Partner:
    """A partner within the user's scope, else NotFound (404)."""
    if not is_id(pk):
        raise NotFound(_("Partner not found."))
    try:
        return (
            partners_visible(actor)
            .select_related(
                "tier", "region__parent__parent", "parent", "owner", "department"
            )
            .get(pk=pk)
        )
    except Partner.DoesNotExist:
        raise NotFound(_("Partner not found.")) from None


def partner_children(*, actor, partner: Partner) -> list[Partner]:
    """The partners that buy from this one (those the user may see)."""
    return list(
        partners_visible(actor)
        .filter(parent=partner)
        .select_related("tier", "region")
        .order_by("number")
    )


def partner_territories(*, partner: Partner) -> list[Territory]:
    return list(
        Territory.objects.filter(partner=partner)
        .select_related("region__parent__parent")
        .order_by("-exclusive", "region__code", "starts_on")
    )


def territory_list(*, actor) -> QuerySet[Territory]:
    """The territories of the partners within the user's scope."""
    return of_visible_partners(Territory.objects.all(), actor).select_related(
        "partner", "region"
    )


def territory_get(*, actor, pk) -> Territory:
    """A territory of a partner within the user's scope, else NotFound."""
    if not is_id(pk):
        raise NotFound(_("Territory not found."))
    try:
        return territory_list(actor=actor).get(pk=pk)
    except Territory.DoesNotExist:
        raise NotFound(_("Territory not found.")) from None


def partner_members(*, partner: Partner) -> QuerySet[PartnerUser]:
    """A partner's portal users (for HQ after partner_get, or the portal's own partner)."""
    return (
        PartnerUser.objects.filter(partner=partner)
        .select_related("user")
        .order_by("-user__is_active", "user__username")
    )


def member_get(*, partner: Partner, pk) -> PartnerUser:
    """One of this partner's portal users; another partner's id is NotFound (404)."""
    if not is_id(pk):
        raise NotFound(_("User not found."))
    try:
        return PartnerUser.objects.select_related("user", "partner").get(
            pk=pk, partner=partner
        )
    except PartnerUser.DoesNotExist:
        raise NotFound(_("User not found.")) from None


def hq_member_list(*, actor) -> QuerySet[PartnerUser]:
    """The portal users of the partners within the HQ user's scope."""
    return of_visible_partners(PartnerUser.objects.all(), actor).select_related(
        "user", "partner"
    )


def hq_member_get(*, actor, pk) -> PartnerUser:
    """A portal user of a partner within the HQ user's scope, else NotFound."""
    if not is_id(pk):
        raise NotFound(_("User not found."))
    try:
        return hq_member_list(actor=actor).get(pk=pk)
    except PartnerUser.DoesNotExist:
        raise NotFound(_("User not found.")) from None


def tier_get(pk) -> Tier:
    if not is_id(pk):
        raise NotFound(_("Tier not found."))
    try:
        return Tier.objects.get(pk=pk)
    except Tier.DoesNotExist:
        raise NotFound(_("Tier not found.")) from None


def tiers_with_counts() -> QuerySet[Tier]:
    return Tier.objects.annotate(partner_count=Count("partners")).order_by(
        "rank", "name"
    )


# The portal's overview (D3): one partner's key numbers, read by request.partner only.


def portal_overview(*, partner: Partner, today=None) -> dict:
    """This month's and this year's sell-through, purchase orders awaiting approval,
    the latest stock count, the agreement in force and the latest score — every number
    of `partner` alone; empty data gives zeros and Nones."""
    import datetime
    from decimal import Decimal

    from django.db.models import Max, Sum
    from django.utils import timezone

    from crm.channels.models import (
        Agreement,
        PartnerScore,
        PurchaseOrder,
        SellThroughLine,
        StockCount,
    )

    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    year_start = datetime.date(today.year, 1, 1)
    lines = SellThroughLine.objects.filter(partner=partner)
    zero = Decimal("0")
    month = lines.filter(sold_on__gte=month_start, sold_on__lte=today).aggregate(
        amount=Sum("amount"), quantity=Sum("quantity")
    )
    year = lines.filter(sold_on__gte=year_start, sold_on__lte=today).aggregate(
        amount=Sum("amount"), quantity=Sum("quantity")
    )
    waiting = PurchaseOrder.objects.filter(
        partner=partner, status=PurchaseOrder.Status.SUBMITTED
    ).aggregate(count=Count("pk"), total=Sum("total"))
    agreement = (
        Agreement.objects.filter(
            partner=partner,
            status=Agreement.Status.ACTIVE,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .order_by("-ends_on")
        .first()
    )
    score = (
        PartnerScore.objects.filter(partner=partner)
        .select_related("period")
        .order_by("-period__ends_on", "-pk")
        .first()
    )
    return {
        "today": today,
        "month_start": month_start,
        "sell_through_month": month["amount"] or zero,
        "sell_through_month_quantity": month["quantity"] or zero,
        "sell_through_year": year["amount"] or zero,
        "orders_waiting": waiting["count"] or 0,
        "orders_waiting_total": waiting["total"] or zero,
        "last_stock_count": StockCount.objects.filter(partner=partner).aggregate(
            last=Max("counted_on")
        )["last"],
        "agreement": agreement,
        "agreement_days_left": (agreement.ends_on - today).days if agreement else None,
        "score": score,
        "recent_orders": list(
            PurchaseOrder.objects.filter(partner=partner).order_by(
                "-ordered_on", "-pk"
            )[:5]
        ),
        "members": PartnerUser.objects.filter(
            partner=partner, user__is_active=True
        ).count(),
    }
