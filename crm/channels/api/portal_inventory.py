"""D6 portal stock API (/api/v1/portal/stock-counts/): a partner user lists its own
partner's counts and reports new ones. POST `counted_on` and `lines` (product id and
quantity); a product already counted that day gets the new quantity (replaced, not
added). Another partner's id is 404; HQ users are refused (403)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.channels.models import StockCount
from crm.channels.models.base import QUANTITY
from crm.channels.portal.access import IsPartnerUser, PortalAPIMixin
from crm.channels.selectors import inventory as _lists  # noqa: F401 (registers specs)
from crm.channels.services.inventory import stock_count_submit
from crm.core.api.viewsets import ScopedViewSet
from crm.core.errors import Invalid
from crm.core.lists import REGISTRY
from crm.products.models import Product


class PortalStockCountOut(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = StockCount
        fields = [
            "id",
            "product",
            "product_code",
            "product_name",
            "counted_on",
            "quantity",
            "created_at",
            "updated_at",
        ]


class CountLineIn(serializers.Serializer):
    product = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Product id"
    )
    quantity = serializers.DecimalField(**QUANTITY, help_text="0 or more")


class CountIn(serializers.Serializer):
    counted_on = serializers.DateField(
        help_text="The day whose end the stock was counted at; not in the future"
    )
    lines = CountLineIn(many=True, allow_empty=False, max_length=2000)


class PortalStockCountViewSet(PortalAPIMixin, mixins.CreateModelMixin, ScopedViewSet):
    """D6 the partner's stock counts: list (filter by product and date), detail,
    report."""

    spec = REGISTRY["channels.portal_stockcount"]
    serializer_class = PortalStockCountOut
    permission_classes = [IsPartnerUser]

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        return qs.filter(partner=self.partner).select_related("product")

    def get_serializer_class(self):
        return CountIn if self.action == "create" else PortalStockCountOut

    @extend_schema(request=CountIn, responses={201: PortalStockCountOut(many=True)})
    def create(self, request, *args, **kwargs):
        serializer = CountIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ids = [line["product"] for line in data["lines"]]
        products = Product.objects.in_bulk(ids)
        missing = {
            f"lines.{i}.product": [_("No such product.")]
            for i, pk in enumerate(ids)
            if pk not in products
        }
        if missing:
            raise Invalid(_("No such product."), fields=missing)
        saved = stock_count_submit(
            actor=request.user,
            partner=self.partner,
            counted_on=data["counted_on"],
            lines=[
                {"product": products[line["product"]], "quantity": line["quantity"]}
                for line in data["lines"]
            ],
        )
        return Response(
            PortalStockCountOut(
                saved, many=True, context=self.get_serializer_context()
            ).data,
            status=201,
        )


router = SimpleRouter()
router.register("stock-counts", PortalStockCountViewSet, basename="portal-stockcount")
urlpatterns = router.urls
