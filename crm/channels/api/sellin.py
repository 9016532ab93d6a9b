"""D4 HQ sell-in API (/api/v1/channels/purchase-orders/): the purchase orders of the
partners in the caller's channel scope (404 outside it); approve (credit check: 409
with the numbers over the limit, unless a holder of
channels.override_credit_purchaseorder gives `override_reason`), reject with a note,
record goods received (400 naming the line for a quantity above what is open; 409
when the order is not approved)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.routers import SimpleRouter

from crm.channels.models import PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine
from crm.channels.models.base import QUANTITY
from crm.channels.services import sellin as services
from crm.core.api.serializers import FieldRightsMixin
from crm.core.api.viewsets import ScopedViewSet, ServiceOutputMixin
from crm.core.lists import REGISTRY


class PurchaseOrderLineOut(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id",
            "product",
            "product_code",
            "product_name",
            "quantity",
            "unit_price",
            "amount",
            "received_quantity",
        ]


class ReceiptLineOut(serializers.ModelSerializer):
    class Meta:
        model = ReceiptLine
        fields = ["id", "order_line", "product", "quantity", "amount"]


class ReceiptOut(serializers.ModelSerializer):
    lines = ReceiptLineOut(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = ["id", "received_on", "created_by", "created_at", "lines"]


STATUSES = ", ".join(value for value, _label in PurchaseOrder.Status.choices)


class PurchaseOrderOut(FieldRightsMixin, serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    # A plain string in the schema: an enum named "status" would collide with the
    # other models' status enums (drf-spectacular names enums by field).
    status = serializers.CharField(read_only=True, help_text=f"One of: {STATUSES}.")

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "partner",
            "partner_name",
            "status",
            "ordered_on",
            "wanted_on",
            "shipping_address",
            "notes",
            "total",
            "submitted_by",
            "decided_by",
            "decided_at",
            "decision_note",
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
        ]


class PurchaseOrderDetailOut(PurchaseOrderOut):
    """A purchase order with its lines and goods receipts."""

    lines = PurchaseOrderLineOut(many=True, read_only=True)
    receipts = serializers.SerializerMethodField()

    class Meta(PurchaseOrderOut.Meta):
        fields = [*PurchaseOrderOut.Meta.fields, "lines", "receipts"]

    @extend_schema_field(ReceiptOut(many=True))
    def get_receipts(self, obj):
        receipts = obj.receipts.prefetch_related("lines").order_by("received_on", "pk")
        return ReceiptOut(receipts, many=True).data


class ApproveIn(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    override_reason = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="Needed (with channels.override_credit_purchaseorder) only over "
        "the partner's credit limit.",
    )


class RejectIn(serializers.Serializer):
    note = serializers.CharField(max_length=255, help_text="Why it is rejected.")


class ReceiveQuantityIn(serializers.Serializer):
    line = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Purchase order line id."
    )
    quantity = serializers.DecimalField(**QUANTITY, min_value=0)


class ReceiveIn(serializers.Serializer):
    lines = ReceiveQuantityIn(
        many=True, help_text="Per order line, the quantity received now."
    )
    received_on = serializers.DateField(required=False)


def receive_quantities(rows) -> dict:
    result = {}
    for row in rows or []:
        result[row["line"]] = result.get(row["line"], 0) + row["quantity"]
    return result


DETAIL = {200: PurchaseOrderDetailOut, 409: None}


class PurchaseOrderViewSet(ServiceOutputMixin, ScopedViewSet):
    """D4 purchase orders of the partners in the caller's channel scope: list
    (filters partner, status, order dates; search number and partner), detail,
    approve, reject, receive."""

    spec = REGISTRY["channels.purchaseorder"]
    output_serializer_class = PurchaseOrderDetailOut

    def get_queryset(self):
        qs = super().get_queryset().select_related("partner")
        if self.action != "list":
            qs = qs.prefetch_related("lines__product")
        return qs

    def get_serializer_class(self):
        return PurchaseOrderOut if self.action == "list" else PurchaseOrderDetailOut

    def _detail(self, order):
        return self._out(self.get_queryset().get(pk=order.pk))

    @extend_schema(request=ApproveIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted order; the credit check applies."""
        order = self.get_object()
        serializer = ApproveIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.purchase_order_approve(
            actor=request.user,
            order=order,
            note=serializer.validated_data.get("note", ""),
            override_reason=serializer.validated_data.get("override_reason", ""),
        )
        return self._detail(order)

    @extend_schema(request=RejectIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a submitted order with a note."""
        order = self.get_object()
        serializer = RejectIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.purchase_order_reject(
            actor=request.user, order=order, note=serializer.validated_data["note"]
        )
        return self._detail(order)

    @extend_schema(request=ReceiveIn, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """Record goods received on an approved order, per line."""
        order = self.get_object()
        serializer = ReceiveIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.purchase_order_receive(
            actor=request.user,
            order=order,
            quantities=receive_quantities(serializer.validated_data["lines"]),
            received_on=serializer.validated_data.get("received_on"),
        )
        return self._detail(order)


router = SimpleRouter()
router.register(
    "purchase-orders", PurchaseOrderViewSet, basename="channels-purchaseorder"
)
urlpatterns = router.urls
