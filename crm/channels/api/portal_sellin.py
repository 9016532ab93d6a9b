"""D4 portal sell-in API (/api/v1/portal/purchase-orders/): a partner user's own
partner's purchase orders only (another partner's id: 404; HQ users: 403). Create a
draft (unit prices from the agreement in force: 400 naming a product outside its
scope), submit it to HQ (409 unless draft), record goods received on an approved
order (400 naming a line received above what is open); PATCH a draft with its
version (409 when stale or no longer a draft); cancel a draft or submitted order."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.routers import SimpleRouter

from crm.channels.api.sellin import (
    DETAIL,
    PurchaseOrderDetailOut,
    PurchaseOrderOut,
    ReceiveIn,
    receive_quantities,
)
from crm.channels.models.base import QUANTITY
from crm.channels.portal.access import IsPartnerUser, PortalAPIMixin
from crm.channels.services import sellin as services
from crm.core.api.serializers import IdRelatedField
from crm.core.api.viewsets import ScopedViewSet, ServiceOutputMixin
from crm.core.lists import REGISTRY
from crm.products.models import Product


class PortalLineIn(serializers.Serializer):
    product = IdRelatedField(queryset=Product.objects.all())
    quantity = serializers.DecimalField(**QUANTITY)


class PortalOrderIn(serializers.Serializer):
    wanted_on = serializers.DateField(required=False, allow_null=True)
    shipping_address = serializers.CharField(
        max_length=255, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    lines = PortalLineIn(
        many=True,
        help_text="Products and quantities; unit prices come from the agreement in "
        "force (its discount off the price list), else the list price.",
    )


class PortalOrderUpdate(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    wanted_on = serializers.DateField(required=False, allow_null=True)
    shipping_address = serializers.CharField(
        max_length=255, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    lines = PortalLineIn(
        many=True,
        required=False,
        help_text="When given, replaces all lines (priced again).",
    )


class PortalPurchaseOrderViewSet(
    PortalAPIMixin,
    ServiceOutputMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """D4 the partner's purchase orders to HQ: list, create (draft), detail, change
    a draft (PATCH with its version: 409 when stale), submit, cancel, receive."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    spec = REGISTRY["channels.portal_purchaseorder"]
    permission_classes = [IsPartnerUser]
    output_serializer_class = PurchaseOrderDetailOut

    def get_queryset(self):
        qs = super().get_queryset().select_related("partner")
        if getattr(self, "swagger_fake_view", False):
            return qs
        qs = qs.filter(partner=self.partner)
        if self.action != "list":
            qs = qs.prefetch_related("lines__product")
        return qs

    def get_serializer_class(self):
        return {
            "list": PurchaseOrderOut,
            "create": PortalOrderIn,
            "partial_update": PortalOrderUpdate,
        }.get(self.action, PurchaseOrderDetailOut)

    def _detail(self, order, status=200):
        return self._out(self.get_queryset().get(pk=order.pk), status)

    @extend_schema(request=PortalOrderIn, responses={201: PurchaseOrderDetailOut})
    def create(self, request, *args, **kwargs):
        serializer = PortalOrderIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = [dict(row) for row in data.pop("lines")]
        order = services.purchase_order_create(
            actor=request.user, partner=self.partner, data=data, lines=lines
        )
        return self._detail(order, 201)

    @extend_schema(request=PortalOrderUpdate, responses=DETAIL)
    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = PortalOrderUpdate(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        lines = data.pop("lines", None)
        order = services.purchase_order_update(
            actor=request.user,
            order=order,
            data=data,
            lines=None if lines is None else [dict(row) for row in lines],
            version=version,
        )
        return self._detail(order)

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw a draft or submitted order."""
        order = services.purchase_order_cancel(
            actor=request.user, order=self.get_object()
        )
        return self._detail(order)

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft to HQ for approval."""
        order = services.purchase_order_submit(
            actor=request.user, order=self.get_object()
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
    "purchase-orders", PortalPurchaseOrderViewSet, basename="portal-purchaseorder"
)
urlpatterns = router.urls
