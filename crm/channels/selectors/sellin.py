"""D4 sell-in (进货) reads: purchase orders inside the viewer's channel scope (HQ) or of
the request's partner (portal), a partner's open credit exposure, and the received
sell-in (goods receipt lines) that inventory (D6) and scores (D7/D8) count.

Open exposure (the credit check of `purchase_order_approve`): the sum of the totals of
the partner's purchase orders that are *approved and not yet fully received* (status
`approved`; a partly received order counts in full, an order becomes `received` — and
stops counting — when every line is received). Drafts, submitted, rejected, cancelled
and received orders do not count."""

import datetime
from decimal import Decimal

import django_filters
from django.db.models import DecimalField, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from crm.channels.models import (
    Partner,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
)
from crm.channels.models.base import MONEY
from crm.channels.portal.access import user_partner
from crm.channels.selectors.partners_scope import of_visible_partners, partners_visible
from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.sales.selectors.payments import DATE, scoped_choices_form

ZERO = Decimal("0")
# The orders whose totals are the partner's open exposure.
EXPOSED = (PurchaseOrder.Status.APPROVED,)
MONEY_FIELD = DecimalField(**MONEY)


class PurchaseOrderFilter(django_filters.FilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("partner"), queryset=Partner.objects.all()
    )
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=PurchaseOrder.Status.choices
    )
    ordered_from = django_filters.DateFilter(
        label=_("order date from"),
        field_name="ordered_on",
        lookup_expr="gte",
        widget=DATE,
    )
    ordered_to = django_filters.DateFilter(
        label=_("order date to"),
        field_name="ordered_on",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = PurchaseOrder
        fields = ["partner", "status"]
        form = scoped_choices_form(partner=lambda user: partners_visible(user))


class PortalPurchaseOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=PurchaseOrder.Status.choices
    )
    ordered_from = django_filters.DateFilter(
        label=_("order date from"),
        field_name="ordered_on",
        lookup_expr="gte",
        widget=DATE,
    )
    ordered_to = django_filters.DateFilter(
        label=_("order date to"),
        field_name="ordered_on",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = PurchaseOrder
        fields = ["status"]


def purchase_order_queryset(*, actor) -> QuerySet[PurchaseOrder]:
    """HQ: the purchase orders of the partners the user may see."""
    return of_visible_partners(PurchaseOrder.objects.all(), actor)


def portal_order_queryset(*, partner) -> QuerySet[PurchaseOrder]:
    """Portal: the partner's own purchase orders, nobody else's."""
    return PurchaseOrder.objects.filter(partner=partner)


@register
class PurchaseOrderList(ListSpec):
    key = "channels.purchaseorder"
    model = PurchaseOrder
    title = _("Purchase orders")
    columns = [
        Column("number", _("purchase order number"), sort="number", link=True),
        Column("partner.name", _("partner"), sort="partner__name", field="partner"),
        Column("status", _("status"), sort="status", choices=True),
        Column("total", _("total"), sort="total"),
        Column("ordered_on", _("order date"), sort="ordered_on"),
        Column("wanted_on", _("wanted by"), sort="wanted_on"),
        Column("owner.name", _("channel manager"), sort="owner__name", field="owner"),
        Column("decided_at", _("decided at"), sort="decided_at"),
    ]
    search_fields = ("number", "partner__name", "partner__number")
    filterset_class = PurchaseOrderFilter
    default_sort = "-pk"
    select_related = ("partner", "owner")
    detail_url_name = "channels:purchaseorder-detail"

    def base_queryset(self, user):
        return purchase_order_queryset(actor=user)


@register
class PortalPurchaseOrderList(ListSpec):
    """The portal's list: only the user's own partner's orders (none for HQ users)."""

    key = "channels.portal_purchaseorder"
    model = PurchaseOrder
    title = _("Purchase orders")
    columns = [
        Column("number", _("purchase order number"), sort="number", link=True),
        Column("status", _("status"), sort="status", choices=True),
        Column("total", _("total"), sort="total"),
        Column("ordered_on", _("order date"), sort="ordered_on"),
        Column("wanted_on", _("wanted by"), sort="wanted_on"),
    ]
    search_fields = ("number",)
    filterset_class = PortalPurchaseOrderFilter
    default_sort = "-pk"
    detail_url_name = "portal:purchaseorder-detail"

    def base_queryset(self, user):
        partner = user_partner(user)
        if partner is None:
            return PurchaseOrder.objects.none()
        return portal_order_queryset(partner=partner)


def purchase_order_get(*, actor, pk) -> PurchaseOrder:
    """HQ: one purchase order inside the viewer's scope, else 404."""
    if not is_id(pk):
        raise NotFound(_g("Purchase order not found."))
    try:
        return (
            purchase_order_queryset(actor=actor)
            .select_related("partner", "owner", "decided_by", "submitted_by")
            .get(pk=int(pk))
        )
    except PurchaseOrder.DoesNotExist:
        raise NotFound(_g("Purchase order not found.")) from None


def portal_order_get(*, partner, pk) -> PurchaseOrder:
    """Portal: one of the partner's own purchase orders, else 404."""
    if not is_id(pk):
        raise NotFound(_g("Purchase order not found."))
    try:
        return (
            portal_order_queryset(partner=partner)
            .select_related("partner")
            .get(pk=int(pk))
        )
    except PurchaseOrder.DoesNotExist:
        raise NotFound(_g("Purchase order not found.")) from None


def order_lines(*, order) -> list[PurchaseOrderLine]:
    lines = list(order.lines.select_related("product").order_by("pk"))
    for line in lines:
        line.open_quantity = line.quantity - line.received_quantity
    return lines


def order_receipts(*, order) -> list[Receipt]:
    return list(
        order.receipts.select_related("created_by")
        .prefetch_related("lines__product")
        .order_by("received_on", "pk")
    )


def open_exposure(partner_id: int, *, exclude_order_id: int | None = None) -> Decimal:
    """The partner's open exposure: totals of its approved orders not yet fully
    received (see the module docstring)."""
    qs = PurchaseOrder.objects.filter(partner_id=partner_id, status__in=EXPOSED)
    if exclude_order_id:
        qs = qs.exclude(pk=exclude_order_id)
    return qs.aggregate(s=Coalesce(Sum("total"), ZERO, output_field=MONEY_FIELD))["s"]


# Received sell-in (D6 inventory, D7/D8 scores)


def sell_in_received(
    partner_ids,
    since: datetime.date | None,
    until: datetime.date | None,
    product=None,
) -> list[dict]:
    """Goods received per partner × product between `since` and `until` (both
    inclusive; None leaves that end open): [{"partner_id", "product_id", "quantity",
    "amount"}], one grouped query over the indexed receipt lines. `product`: a
    Product or its id, to narrow to one product."""
    qs = ReceiptLine.objects.filter(partner_id__in=list(partner_ids))
    if since is not None:
        qs = qs.filter(received_on__gte=since)
    if until is not None:
        qs = qs.filter(received_on__lte=until)
    if product is not None:
        qs = qs.filter(product_id=getattr(product, "pk", product))
    rows = (
        qs.values("partner_id", "product_id")
        .annotate(quantity=Sum("quantity"), amount=Sum("amount"))
        .order_by("partner_id", "product_id")
    )
    return [
        {
            "partner_id": row["partner_id"],
            "product_id": row["product_id"],
            "quantity": row["quantity"] or ZERO,
            "amount": row["amount"] or ZERO,
        }
        for row in rows
    ]


def sell_in_amount(
    partner, since: datetime.date | None, until: datetime.date | None
) -> Decimal:
    """The amount of goods the partner received between the dates (inclusive)."""
    qs = ReceiptLine.objects.filter(partner_id=getattr(partner, "pk", partner))
    if since is not None:
        qs = qs.filter(received_on__gte=since)
    if until is not None:
        qs = qs.filter(received_on__lte=until)
    return qs.aggregate(s=Coalesce(Sum("amount"), ZERO, output_field=MONEY_FIELD))["s"]
