"""Reads for sales orders (S5), always through the sales data scope (Y5)."""

from decimal import Decimal

import django_filters
from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from crm.core.api.serializers import is_id
from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import authorize
from crm.org.models import Department, User
from crm.sales.models import (
    Contract,
    ContractLine,
    Instalment,
    SalesOrder,
    SalesOrderLine,
)
from crm.sales.models.base import MONEY

# Orders whose quantities count against their contract: the binding ones.
BINDING = (SalesOrder.Status.CONFIRMED, SalesOrder.Status.COMPLETED)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=SalesOrder.Status.choices
    )
    delivery_status = django_filters.ChoiceFilter(
        label=_("delivery status"), choices=SalesOrder.Delivery.choices
    )
    kind = django_filters.ChoiceFilter(
        label=_("kind"),
        choices=(("contract", _("From a contract")), ("direct", _("Direct"))),
        method="of_kind",
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"), queryset=User.objects.filter(is_active=True)
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"), queryset=Department.objects.all(), method="in_department"
    )
    ordered_from = django_filters.DateFilter(
        label=_("order date from"), field_name="ordered_on", lookup_expr="gte"
    )
    ordered_to = django_filters.DateFilter(
        label=_("order date to"), field_name="ordered_on", lookup_expr="lte"
    )
    min_total = django_filters.NumberFilter(
        label=_("total from"), field_name="total", lookup_expr="gte"
    )
    max_total = django_filters.NumberFilter(
        label=_("total to"), field_name="total", lookup_expr="lte"
    )

    class Meta:
        model = SalesOrder
        fields = ["status", "delivery_status"]

    def in_department(self, qs, name, value):
        """A department stands for its whole subtree."""
        return qs.filter(department__path__startswith=value.path) if value else qs

    def of_kind(self, qs, name, value):
        if value == "contract":
            return qs.filter(contract__isnull=False)
        if value == "direct":
            return qs.filter(contract__isnull=True)
        return qs


def order_queryset(*, actor) -> QuerySet[SalesOrder]:
    """The sales orders the user may see."""
    return SalesOrder.objects.visible_to(actor)


@register
class OrderList(ListSpec):
    key = "sales.order"
    model = SalesOrder
    title = _("Sales orders")
    columns = [
        Column("number", _("order number"), sort="number", link=True),
        Column("customer.name", _("customer"), sort="customer__name", field="customer"),
        Column(
            "contract.number", _("contract"), sort="contract__number", field="contract"
        ),
        Column("status", _("status"), sort="status", choices=True),
        Column(
            "delivery_status",
            _("delivery status"),
            sort="delivery_status",
            choices=True,
        ),
        Column("total", _("total"), sort="total"),
        Column("ordered_on", _("order date"), sort="ordered_on"),
        Column("delivery_due_on", _("delivery due"), sort="delivery_due_on"),
        Column("delivered_on", _("delivered on"), sort="delivered_on"),
        Column("owner.name", _("owner"), sort="owner__name", field="owner"),
        Column(
            "department.name",
            _("department"),
            sort="department__path",
            field="department",
        ),
        Column("created_at", _("created at"), sort="created_at"),
    ]
    search_fields = ("number", "customer__name", "contract__number", "shipping_address")
    filterset_class = OrderFilter
    default_sort = "-pk"
    select_related = ("customer", "contract", "owner", "department")
    detail_url_name = "sales:order-detail"

    def base_queryset(self, user):
        return order_queryset(actor=user)


def order_get(*, actor, pk) -> SalesOrder:
    """One order within the user's scope (view permission needed); else 404."""
    authorize(actor, "sales.view_salesorder")
    if not is_id(pk):
        raise NotFound(_("Sales order not found."))
    try:
        return (
            order_queryset(actor=actor)
            .select_related(
                "customer",
                "contact",
                "contract",
                "owner",
                "department",
                "credit_override_by",
            )
            .get(pk=int(pk))
        )
    except SalesOrder.DoesNotExist:
        raise NotFound(_("Sales order not found.")) from None


def order_lines(*, order: SalesOrder) -> list[SalesOrderLine]:
    return list(order.lines.select_related("product", "contract_line"))


def order_line_get(*, actor, order: SalesOrder, pk) -> SalesOrderLine:
    if not is_id(pk):
        raise NotFound(_("Order line not found."))
    try:
        return order.lines.select_related("product").get(pk=int(pk))
    except SalesOrderLine.DoesNotExist:
        raise NotFound(_("Order line not found.")) from None


def order_instalments(*, order: SalesOrder) -> list[Instalment]:
    return list(order.instalments.order_by("sequence", "pk"))


OUTSTANDING = ExpressionWrapper(
    F("amount") - F("received"), output_field=DecimalField(**MONEY)
)


def open_receivables(customer_id: int) -> Decimal:
    """What a customer owes on open instalments (all of them, whoever's scope they are
    in: the credit limit is the company's, not one rep's)."""
    total = Instalment.objects.filter(customer_id=customer_id, is_open=True).aggregate(
        n=Sum(OUTSTANDING)
    )["n"]
    return total or Decimal(0)


def contract_remaining(
    contract: Contract, *, exclude_order: SalesOrder | None = None
) -> dict[int, Decimal]:
    """Per contract line, the quantity not yet on a confirmed or completed order."""
    ordered = SalesOrderLine.objects.filter(
        contract_line__contract=contract, order__status__in=BINDING
    )
    if exclude_order is not None:
        ordered = ordered.exclude(order=exclude_order)
    taken = dict(
        ordered.order_by()
        .values_list("contract_line")
        .annotate(n=Sum("quantity"))
        .values_list("contract_line", "n")
    )
    return {
        line.pk: line.quantity - taken.get(line.pk, Decimal(0))
        for line in ContractLine.objects.filter(contract=contract)
    }
