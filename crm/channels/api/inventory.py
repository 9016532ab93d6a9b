"""HQ API: channel inventory (D6) under /api/v1/channels/, over the same ListSpecs,
selectors and services as the pages, always inside the caller's channel scope:

- stock-counts/ (list, detail): the partners' counts;
- reconciliation/: expected vs reported stock per partner × product (see
  crm.channels.selectors.inventory for the arithmetic and the date rule);
- inventory/: latest stock per partner × product with days of inventory and alerts;
  inventory/groups/?group=partner|product|region: the same summed per group;
- stock-bounds/: list, detail, create, change, delete (unique per partner/product pair,
  empty ones included; bounds for all partners need a user who sees every partner).
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.routers import SimpleRouter

from crm.channels.models import Partner, StockBound, StockCount
from crm.channels.models.base import QUANTITY
from crm.channels.selectors import inventory as sel
from crm.channels.selectors.partners_scope import partners_visible
from crm.channels.services import inventory as services
from crm.core.api.pagination import CappedPageNumberPagination
from crm.core.api.schema import AutoSchema
from crm.core.api.serializers import IdRelatedField, ModelSerializer
from crm.core.api.viewsets import (
    ScopedViewSet,
    ServiceCreateMixin,
    ServiceDeleteMixin,
    ServiceUpdateMixin,
    SpecViewPermission,
)
from crm.core.errors import Invalid
from crm.core.lists import REGISTRY
from crm.products.models import Product

SUM = {"max_digits": 24, "decimal_places": 4}


# Stock counts


class StockCountOut(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = StockCount
        fields = [
            "id",
            "partner",
            "partner_name",
            "product",
            "product_code",
            "product_name",
            "counted_on",
            "quantity",
            "submitted_by",
            "created_at",
            "updated_at",
        ]


class StockCountViewSet(ScopedViewSet):
    """D6 stock counts the partners reported, in the caller's channel scope."""

    spec = REGISTRY["channels.stockcount"]
    serializer_class = StockCountOut

    def get_queryset(self):
        return super().get_queryset().select_related("partner", "product")


# Report endpoints (rows computed in SQL)


def _filters_valid(filterset) -> None:
    if filterset is not None and not filterset.is_valid():
        raise Invalid(
            _("Some filters are invalid."),
            fields={
                name: [str(m) for m in messages]
                for name, messages in filterset.errors.items()
            },
        )


COMMON = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Search text"),
    OpenApiParameter(
        "sort", OpenApiTypes.STR, description="Column to sort by; '-' for descending"
    ),
    OpenApiParameter("partner", OpenApiTypes.INT, description="Partner id"),
    OpenApiParameter("product", OpenApiTypes.INT, description="Product id"),
    OpenApiParameter(
        "region",
        OpenApiTypes.STR,
        description="Region code: partners located in it or below",
    ),
    OpenApiParameter(
        "as_of",
        OpenApiTypes.DATE,
        description="Use counts up to this date (default today)",
    ),
    OpenApiParameter("page", OpenApiTypes.INT),
    OpenApiParameter("page_size", OpenApiTypes.INT),
]


class ReportView(GenericAPIView):
    """A paged report over a ListSpec whose rows are dicts."""

    spec = None
    queryset = StockCount.objects.none()  # for the schema: rows come from the spec
    permission_classes = [SpecViewPermission]
    pagination_class = CappedPageNumberPagination
    schema = AutoSchema()

    def rows(self, request):
        qs, filterset = self.spec.queryset(request.user, request.query_params)
        _filters_valid(filterset)
        return qs

    def page_response(self, request, qs, shape):
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([shape(row) for row in page])


class ReconciliationRowOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The latest count's id")
    partner = serializers.IntegerField()
    partner_number = serializers.CharField()
    partner_name = serializers.CharField()
    product = serializers.IntegerField()
    product_code = serializers.CharField()
    product_name = serializers.CharField()
    previous_on = serializers.DateField()
    previous_quantity = serializers.DecimalField(**QUANTITY)
    sell_in = serializers.DecimalField(**SUM)
    sell_through = serializers.DecimalField(**SUM)
    expected = serializers.DecimalField(**SUM)
    counted_on = serializers.DateField()
    quantity = serializers.DecimalField(**QUANTITY, help_text="Reported stock")
    difference = serializers.DecimalField(**SUM, help_text="Reported − expected")
    percent = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        allow_null=True,
        help_text="Difference ÷ expected × 100; null when expected is 0",
    )
    flagged = serializers.BooleanField()


def _reconciliation_row(row: dict) -> dict:
    row = sel.with_percent(dict(row))
    return ReconciliationRowOut(
        {
            **row,
            "id": row["pk"],
            "partner_number": row["partner__number"],
            "partner_name": row["partner__name"],
            "product_code": row["product__code"],
            "product_name": row["product__name"],
        }
    ).data


class ReconciliationApi(ReportView):
    """D6 reconciliation: for every partner × product whose latest count (up to
    `as_of`) has an earlier count, expected = previous count + sell-in received −
    sell-through sold in (previous date, latest date]; difference = reported −
    expected; flagged when not 0 (or beyond `tolerance` % of expected). Sort by
    `difference` sorts by its absolute value."""

    spec = sel.RECONCILIATION

    @extend_schema(
        parameters=[
            *COMMON,
            OpenApiParameter(
                "mismatches", OpenApiTypes.BOOL, description="Only flagged rows"
            ),
            OpenApiParameter(
                "tolerance",
                OpenApiTypes.NUMBER,
                description="Flag only differences above this % of expected",
            ),
        ],
        responses={200: ReconciliationRowOut(many=True)},
    )
    def get(self, request):
        return self.page_response(request, self.rows(request), _reconciliation_row)


class InventoryRowOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The latest count's id")
    partner = serializers.IntegerField()
    partner_number = serializers.CharField()
    partner_name = serializers.CharField()
    product = serializers.IntegerField()
    product_code = serializers.CharField()
    product_name = serializers.CharField()
    counted_on = serializers.DateField()
    quantity = serializers.DecimalField(**QUANTITY, help_text="Stock")
    sold = serializers.DecimalField(**SUM, help_text="Sold in the window")
    days = serializers.DecimalField(
        max_digits=24,
        decimal_places=1,
        allow_null=True,
        help_text="Days of inventory; null without sales in the window",
    )
    no_sales = serializers.BooleanField(help_text="Stock but no sales: ∞ days")
    low_days = serializers.IntegerField()
    high_days = serializers.IntegerField()
    alert = serializers.ChoiceField(choices=["", "low", "over"])


def _days(row: dict, stock_key: str) -> dict:
    days = row.get("days")
    return {
        "days": None if days is None else sel.days_of(days),
        "no_sales": days is None and bool(row.get(stock_key)),
    }


def _inventory_row(row: dict) -> dict:
    return InventoryRowOut(
        {
            **row,
            **_days(row, "quantity"),
            "id": row["pk"],
            "partner_number": row["partner__number"],
            "partner_name": row["partner__name"],
            "product_code": row["product__code"],
            "product_name": row["product__name"],
        }
    ).data


INVENTORY_PARAMS = [
    *COMMON,
    OpenApiParameter(
        "window",
        OpenApiTypes.INT,
        enum=[30, 60, 90],
        description="Sales window in days (default 30)",
    ),
    OpenApiParameter(
        "alert",
        OpenApiTypes.STR,
        enum=["any", "low", "over"],
        description="Only rows with this alert",
    ),
]


class InventoryApi(ReportView):
    """D6 latest stock per partner × product, days of inventory (stock ÷ average daily
    sell-through over the window up to `as_of`) and low/over-stock alerts from the most
    specific bound."""

    spec = sel.INVENTORY

    def rows(self, request):
        params = request.query_params.copy()
        params.pop("group", None)
        qs, filterset = self.spec.queryset(request.user, params)
        _filters_valid(filterset)
        return qs

    @extend_schema(
        parameters=INVENTORY_PARAMS, responses={200: InventoryRowOut(many=True)}
    )
    def get(self, request):
        return self.page_response(request, self.rows(request), _inventory_row)


class InventoryGroupOut(serializers.Serializer):
    group = serializers.ChoiceField(choices=list(sel.GROUPS))
    key = serializers.CharField(
        allow_null=True, help_text="Partner id, product id or region code"
    )
    code = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    stock = serializers.DecimalField(**SUM)
    sold = serializers.DecimalField(**SUM)
    days = serializers.DecimalField(max_digits=24, decimal_places=1, allow_null=True)
    no_sales = serializers.BooleanField()
    low = serializers.IntegerField(help_text="Partner × product rows low on stock")
    over = serializers.IntegerField(help_text="Partner × product rows over-stocked")


def _group_row(group: str):
    key, code, name = {
        "partner": ("partner", "partner__number", "partner__name"),
        "product": ("product", "product__code", "product__name"),
        "region": ("partner__region", "partner__region", "partner__region__name"),
    }[group]

    def shape(row: dict) -> dict:
        return InventoryGroupOut(
            {
                "group": group,
                "key": None if row[key] is None else str(row[key]),
                "code": None if row[code] is None else str(row[code]),
                "name": row[name],
                "stock": row["stock"],
                "sold": row["sold_total"],
                **_days(row, "stock"),
                "low": row["low"],
                "over": row["over"],
            }
        ).data

    return shape


class InventoryGroupsApi(InventoryApi):
    """D6 stock summed per partner, product or region (the partner's location), with
    days of inventory of the sums and how many partner × product rows are low/over."""

    def rows(self, request):
        params = request.query_params.copy()
        group = params.get("group") or "partner"
        if group not in sel.GROUPS:
            raise Invalid(
                _("Some filters are invalid."),
                fields={"group": [_("Choose partner, product or region.")]},
            )
        params["group"] = group
        qs, filterset = self.spec.queryset(request.user, params)
        _filters_valid(filterset)
        return qs, group

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "group",
                OpenApiTypes.STR,
                enum=list(sel.GROUPS),
                description="Sum per partner (default), product or region",
            ),
            *INVENTORY_PARAMS,
        ],
        responses={200: InventoryGroupOut(many=True)},
    )
    def get(self, request):
        qs, group = self.rows(request)
        return self.page_response(request, qs, _group_row(group))


# Bounds


class StockBoundOut(serializers.ModelSerializer):
    class Meta:
        model = StockBound
        fields = ["id", "partner", "product", "low_days", "high_days"]


class StockBoundIn(ModelSerializer):
    partner = IdRelatedField(
        queryset=Partner.objects.all(),
        required=False,
        allow_null=True,
        help_text="Empty: every partner",
    )
    product = IdRelatedField(
        queryset=Product.objects.all(),
        required=False,
        allow_null=True,
        help_text="Empty: every product",
    )
    low_days = serializers.IntegerField(min_value=0, max_value=services.MAX_DAYS)
    high_days = serializers.IntegerField(min_value=1, max_value=services.MAX_DAYS)

    class Meta:
        model = StockBound
        fields = ["partner", "product", "low_days", "high_days"]
        validators = []  # uniqueness is the service's (empty ones included)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not getattr(
            self.context.get("view"), "swagger_fake_view", False
        ):
            fields["partner"].queryset = partners_visible(request.user)
        return fields


class StockBoundViewSet(
    ServiceCreateMixin,
    ServiceUpdateMixin,
    ServiceDeleteMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """D6 low/over-stock bounds in days of inventory. The most specific bound applies:
    partner + product, product, partner, then the one for all (defaults 7 and 90)."""

    spec = REGISTRY["channels.stockbound"]
    output_serializer_class = StockBoundOut
    create_service = services.stock_bound_create
    update_service = services.stock_bound_update
    delete_service = services.stock_bound_delete

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return StockBoundIn
        return StockBoundOut

    @extend_schema(request=StockBoundIn, responses={201: StockBoundOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=StockBoundIn, responses={200: StockBoundOut})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=StockBoundIn, responses={200: StockBoundOut})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


router = SimpleRouter()
router.register("stock-counts", StockCountViewSet, basename="channels-stockcount")
router.register("stock-bounds", StockBoundViewSet, basename="channels-stockbound")
urlpatterns = [
    *router.urls,
    path(
        "reconciliation/",
        ReconciliationApi.as_view(),
        name="channels-reconciliation",
    ),
    path("inventory/", InventoryApi.as_view(), name="channels-inventory"),
    path(
        "inventory/groups/",
        InventoryGroupsApi.as_view(),
        name="channels-inventory-groups",
    ),
]
