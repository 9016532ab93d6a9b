"""S5 sales orders API (/api/v1/sales/orders/): the same selectors, services and
permissions as the pages. Direct orders are created with POST, orders called off an
active contract with POST from-contract/; confirmation runs the credit check (409 over
the limit unless a holder of sales.override_credit gives `override_reason`)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.core.api.serializers import (
    FieldRightsMixin,
    IdRelatedField,
    ModelSerializer,
    VersionedUpdateMixin,
)
from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.sales.api.contracts import ContractLineIn, ContractLineUpdate, ScopedInput
from crm.sales.models import Contract, Instalment, SalesOrder, SalesOrderLine
from crm.sales.models.base import QUANTITY
from crm.sales.selectors.contracts import active_contract_choices
from crm.sales.selectors.orders import order_line_get
from crm.sales.services import orders as services

HEADER_FIELDS = [
    "customer",
    "contact",
    "ordered_on",
    "delivery_due_on",
    "payment_due_on",
    "shipping_address",
    "currency",
    "notes",
]


class OrderLineOut(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = SalesOrderLine
        fields = [
            "id",
            "product",
            "product_code",
            "product_name",
            "contract_line",
            "description",
            "quantity",
            "delivered_quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "amount",
            "tax_amount",
            "total",
            "sort_order",
        ]


class OrderInstalmentOut(serializers.ModelSerializer):
    class Meta:
        model = Instalment
        fields = ["id", "sequence", "due_on", "amount", "received", "is_open"]


class OrderOut(FieldRightsMixin, serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(
        source="contract.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "contact",
            "contract",
            "contract_number",
            "status",
            "delivery_status",
            "ordered_on",
            "delivery_due_on",
            "delivered_on",
            "payment_due_on",
            "shipping_address",
            "currency",
            "amount",
            "tax_amount",
            "total",
            "notes",
            "confirmed_at",
            "credit_override_by",
            "credit_override_at",
            "credit_override_reason",
            "cancel_reason",
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
        ]


class OrderDetailOut(OrderOut):
    """An order with its lines and (direct orders) its receivable."""

    lines = OrderLineOut(many=True, read_only=True)
    instalments = serializers.SerializerMethodField()

    class Meta(OrderOut.Meta):
        fields = [*OrderOut.Meta.fields, "lines", "instalments"]

    @extend_schema_field(OrderInstalmentOut(many=True))
    def get_instalments(self, obj):
        return OrderInstalmentOut(obj.instalments.order_by("sequence"), many=True).data


class OrderIn(ScopedInput, ModelSerializer):
    class Meta:
        model = SalesOrder
        fields = HEADER_FIELDS
        extra_kwargs = {"ordered_on": {"required": False}}


class OrderUpdate(VersionedUpdateMixin, OrderIn):
    class Meta(OrderIn.Meta):
        fields = [*HEADER_FIELDS, "version"]


class OrderQuantityIn(serializers.Serializer):
    line = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="Line id (of the contract or order).",
    )
    quantity = serializers.DecimalField(**QUANTITY, min_value=0)


class OrderFromContractIn(serializers.Serializer):
    contract = IdRelatedField(queryset=Contract.objects.all())
    quantities = OrderQuantityIn(
        many=True,
        required=False,
        help_text="Per contract line, how much to order (0 leaves it out). Without "
        "it: everything not yet ordered.",
    )
    ordered_on = serializers.DateField(required=False)
    delivery_due_on = serializers.DateField(required=False)
    shipping_address = serializers.CharField(
        max_length=255, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            fields["contract"].queryset = active_contract_choices(actor=request.user)
        return fields


class OrderConfirmIn(serializers.Serializer):
    override_reason = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="Needed (with sales.override_credit) only over the credit limit.",
    )


class OrderDeliverIn(serializers.Serializer):
    lines = OrderQuantityIn(
        many=True, help_text="Per order line, what was delivered now."
    )
    delivered_on = serializers.DateField(required=False)


class OrderCancelIn(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class OrderLineIn(ContractLineIn):
    pass


class OrderLineUpdate(ContractLineUpdate):
    pass


LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH)
DETAIL = {200: OrderDetailOut, 409: None}


def _quantities(rows) -> dict:
    result = {}
    for row in rows or []:
        result[row["line"]] = result.get(row["line"], 0) + row["quantity"]
    return result


class OrderViewSet(
    ServiceWriteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """S5 sales orders: drafts are changed or deleted; confirm, deliver and cancel
    are actions. Out of the caller's data scope: 404."""

    spec = REGISTRY["sales.order"]
    output_serializer_class = OrderDetailOut
    create_service = services.order_create
    update_service = services.order_update
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        qs = super().get_queryset().select_related("customer", "contract")
        if self.action != "list":
            qs = qs.prefetch_related("lines__product")
        return qs

    def get_serializer_class(self):
        return {
            "create": OrderIn,
            "update": OrderUpdate,
            "partial_update": OrderUpdate,
            "list": OrderOut,
        }.get(self.action, OrderDetailOut)

    def _detail(self, order, status=200):
        return self._out(self.get_queryset().get(pk=order.pk), status)

    @extend_schema(request=OrderIn, responses={201: OrderDetailOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=OrderUpdate, responses=DETAIL)
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=OrderUpdate, responses=DETAIL)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={204: None, 409: None})
    def destroy(self, request, *args, **kwargs):
        services.order_delete(actor=request.user, order=self.get_object())
        return Response(status=204)

    @extend_schema(
        request=OrderFromContractIn,
        responses={201: OrderDetailOut, 404: None, 409: None},
    )
    @action(detail=False, methods=["post"], url_path="from-contract")
    def from_contract(self, request):
        """A draft order called off an active contract (its lines, at most what is
        left of each)."""
        serializer = OrderFromContractIn(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contract = data.pop("contract")
        quantities = data.pop("quantities", None)
        order = services.order_create_from_contract(
            actor=request.user,
            contract=contract,
            quantities=None if quantities is None else _quantities(quantities),
            data=data,
        )
        return self._detail(order, 201)

    @extend_schema(request=OrderConfirmIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm a draft: credit check (409 with the numbers when over the limit),
        contract quantities; a direct order's total becomes a receivable."""
        order = self.get_object()
        serializer = OrderConfirmIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_confirm(
            actor=request.user,
            order=order,
            override_reason=serializer.validated_data.get("override_reason", ""),
        )
        return self._detail(order)

    @extend_schema(request=OrderDeliverIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        """Record quantities delivered now per line; all delivered: completed."""
        order = self.get_object()
        serializer = OrderDeliverIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_deliver(
            actor=request.user,
            order=order,
            quantities=_quantities(serializer.validated_data["lines"]),
            delivered_on=serializer.validated_data.get("delivered_on"),
        )
        return self._detail(order)

    @extend_schema(request=OrderCancelIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel with a reason while nothing is delivered or paid."""
        order = self.get_object()
        serializer = OrderCancelIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_cancel(
            actor=request.user, order=order, reason=serializer.validated_data["reason"]
        )
        return self._detail(order)

    @extend_schema(request=OrderLineIn, responses={201: OrderLineOut, 409: None})
    @action(detail=True, methods=["post"], url_path="lines")
    def lines(self, request, pk=None):
        """Add a line to a direct draft order."""
        order = self.get_object()
        serializer = OrderLineIn(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        line = services.order_line_add(
            actor=request.user, order=order, data=dict(serializer.validated_data)
        )
        return Response(OrderLineOut(line).data, status=201)

    @extend_schema(
        methods=["PATCH"],
        parameters=[LINE_ID],
        request=OrderLineUpdate,
        responses={200: OrderLineOut, 409: None},
    )
    @extend_schema(
        methods=["DELETE"], parameters=[LINE_ID], responses={204: None, 409: None}
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"lines/(?P<line_id>[0-9]+)",
    )
    def line(self, request, pk=None, line_id=None):
        """Change or remove a line of a draft order."""
        order = self.get_object()
        line = order_line_get(actor=request.user, order=order, pk=line_id)
        if request.method == "DELETE":
            services.order_line_remove(actor=request.user, line=line)
            return Response(status=204)
        serializer = OrderLineUpdate(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        line = services.order_line_update(
            actor=request.user, line=line, data=dict(serializer.validated_data)
        )
        return Response(OrderLineOut(line).data)


router = SimpleRouter()
router.register("orders", OrderViewSet, basename="sales-order")
urlpatterns = router.urls
