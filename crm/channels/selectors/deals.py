"""D10 reads: deal registrations (报备) for HQ (through the partner's scope) and for the
registering partner (its own only), and the registrations a new one collides with."""

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.channels.models import DealRegistration, Partner, Territory
from crm.channels.portal.access import membership
from crm.channels.selectors.agreements import PartnerScopedForm
from crm.channels.selectors.marketing import path_ids
from crm.channels.selectors.partners_scope import of_visible_partners
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register

# A registration still holds its customer while it is open or approved and protected.
HOLDING = (
    DealRegistration.Status.PENDING,
    DealRegistration.Status.CONFLICT,
    DealRegistration.Status.APPROVED,
)
OPEN = (DealRegistration.Status.PENDING, DealRegistration.Status.CONFLICT)


def deal_base() -> QuerySet[DealRegistration]:
    return DealRegistration.objects.select_related(
        "partner", "partner__owner", "region", "customer", "decided_by"
    )


def deal_queryset(*, actor) -> QuerySet[DealRegistration]:
    return of_visible_partners(deal_base(), actor)


def deal_get(*, actor, pk) -> DealRegistration:
    try:
        return deal_queryset(actor=actor).get(pk=pk)
    except (DealRegistration.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Deal registration not found.")) from None


def portal_deals(partner: Partner) -> QuerySet[DealRegistration]:
    return deal_base().filter(partner=partner)


def portal_deal_get(*, partner: Partner, pk) -> DealRegistration:
    try:
        return portal_deals(partner).get(pk=pk)
    except (DealRegistration.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Deal registration not found.")) from None


def same_customer_registrations(
    *, partner_id, customer_id, customer_key: str, today
) -> QuerySet[DealRegistration]:
    """Other partners' registrations of the same end customer (linked customer, or
    the same name key) that still hold it: open, or approved and not expired."""
    same = Q(customer_key=customer_key) if customer_key else Q(pk__in=[])
    if customer_id:
        same |= Q(customer_id=customer_id)
    return (
        DealRegistration.objects.filter(same, status__in=HOLDING)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .exclude(partner_id=partner_id)
        .select_related("partner")
        .order_by("created_at", "pk")
    )


def exclusive_territories_over(*, partner_id, region, today) -> QuerySet[Territory]:
    """Other partners' exclusive territories in force today that contain `region`
    (the same region or one of its ancestors)."""
    if region is None:
        return Territory.objects.none()
    return (
        Territory.objects.filter(
            exclusive=True,
            region_id__in=path_ids(region.path),
            starts_on__lte=today,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .exclude(partner_id=partner_id)
        .exclude(partner__status=Partner.Status.TERMINATED)
        .select_related("partner", "region")
        .order_by("partner__number", "pk")
    )


def competing(deal: DealRegistration) -> list[DealRegistration]:
    """The registrations `deal` conflicts with, either way round."""
    ids = set(deal.conflicts_with.values_list("pk", flat=True)) | set(
        DealRegistration.conflicts_with.through.objects.filter(
            to_dealregistration_id=deal.pk
        ).values_list("from_dealregistration_id", flat=True)
    )
    ids.discard(deal.pk)
    return list(deal_base().filter(pk__in=ids).order_by("created_at", "pk"))


class DealFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=DealRegistration.Status.choices
    )
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    open_only = django_filters.BooleanFilter(
        label=_("awaiting a decision"),
        field_name="status",
        method="awaiting",
    )

    class Meta:
        model = DealRegistration
        fields = ["status", "partner"]
        form = PartnerScopedForm

    def awaiting(self, qs, name, value):
        if value is True:
            return qs.filter(status__in=OPEN)
        if value is False:
            return qs.exclude(status__in=OPEN)
        return qs


@register
class DealList(ListSpec):
    key = "channels.dealregistration"
    model = DealRegistration
    title = _("Deal registrations")
    columns = [
        Column("number", _("registration number"), sort="number", link=True),
        Column("customer_name", _("end customer name"), sort="customer_name"),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column("region.name", _("region"), sort="region__path", field="region"),
        Column("project", _("project"), sort="project"),
        Column("expected_amount", _("expected amount"), sort="expected_amount"),
        Column("expected_close_on", _("expected close"), sort="expected_close_on"),
        Column("status", _("status"), sort="status", choices=True),
        Column("conflict_reason", _("conflict")),
        Column("valid_until", _("protected until"), sort="valid_until"),
        Column("created_at", _("created at"), sort="created_at"),
    ]
    search_fields = ("number", "customer_name", "project", "partner__name")
    filterset_class = DealFilter
    default_sort = "-created_at"
    detail_url_name = "channels:deal-detail"

    def base_queryset(self, user):
        return deal_queryset(actor=user)


class PortalDealFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=DealRegistration.Status.choices
    )

    class Meta:
        model = DealRegistration
        fields = ["status"]


@register
class PortalDealList(ListSpec):
    """The portal API's list: the caller's partner's registrations only."""

    key = "channels.portal_dealregistration"
    model = DealRegistration
    title = _("Deal registrations")
    columns = [c for c in DealList.columns if c.name != "partner.name"]
    search_fields = ("number", "customer_name", "project")
    filterset_class = PortalDealFilter
    default_sort = "-created_at"

    def base_queryset(self, user):
        member = membership(user)
        return deal_base().filter(partner_id=member.partner_id if member else None)
