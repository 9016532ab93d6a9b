"""Product catalogue API (Y6, X2): the same selectors, services and permissions as the UI."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.products import services
from crm.products.api.serializers import (
    CategoryIn,
    CategoryOut,
    PriceListIn,
    PriceListItemOut,
    PriceListOut,
    PriceListUpdate,
    PriceSetIn,
    ProductCopyIn,
    ProductIn,
    ProductOut,
    ProductUpdate,
)
from crm.products.models import Category
from crm.products.selectors import (
    category_get,
    category_tree_list,
    pricelist_items,
)


class ProductViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """Y6 products; cost appears only with products.view_cost. No delete: discontinue."""

    spec = REGISTRY["products.product"]
    output_serializer_class = ProductOut
    create_service = services.product_create
    update_service = services.product_update
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().select_related("category")

    def get_serializer_class(self):
        return {
            "create": ProductIn,
            "update": ProductUpdate,
            "partial_update": ProductUpdate,
            "copy": ProductCopyIn,
        }.get(self.action, ProductOut)

    @extend_schema(request=ProductIn, responses={201: ProductOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ProductUpdate, responses={200: ProductOut, 409: None})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=ProductUpdate, responses={200: ProductOut, 409: None})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(request=ProductCopyIn, responses={201: ProductOut})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        """Copy a product under a new code; the copy is a draft."""
        product = self.get_object()
        serializer = ProductCopyIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = services.product_copy(
            actor=request.user,
            product=product,
            code=serializer.validated_data["code"],
        )
        return self._out(copy, 201)


class CategoryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Y6 category tree: create, rename, move (parent), deactivate, activate."""

    serializer_class = CategoryOut
    queryset = Category.objects.none()  # for the schema; reads go through selectors
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Category.objects.none()
        return category_tree_list(actor=self.request.user)

    def get_object(self):
        return category_get(actor=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=CategoryIn, responses={201: CategoryOut})
    def create(self, request):
        serializer = CategoryIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(
            actor=request.user, data=dict(serializer.validated_data)
        )
        return Response(CategoryOut(category).data, status=201)

    @extend_schema(request=CategoryIn, responses={200: CategoryOut})
    def partial_update(self, request, pk=None):
        category = self.get_object()
        serializer = CategoryIn(category, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        category = services.category_update(
            actor=request.user, obj=category, data=dict(serializer.validated_data)
        )
        return Response(CategoryOut(category).data)

    @extend_schema(request=None, responses={200: CategoryOut})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Refused while the category has active sub-categories or live products."""
        category = services.category_deactivate(
            actor=request.user, category=self.get_object()
        )
        return Response(CategoryOut(category).data)

    @extend_schema(request=None, responses={200: CategoryOut})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        category = services.category_activate(
            actor=request.user, category=self.get_object()
        )
        return Response(CategoryOut(category).data)


class PriceListViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """Price lists with per-product prices; an update carries its version (stale: 409)."""

    spec = REGISTRY["products.pricelist"]
    output_serializer_class = PriceListOut
    create_service = services.pricelist_create
    update_service = services.pricelist_update
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        return {
            "create": PriceListIn,
            "update": PriceListUpdate,
            "partial_update": PriceListUpdate,
            "prices": PriceSetIn,
            "items": PriceListItemOut,
        }.get(self.action, PriceListOut)

    @extend_schema(request=PriceListIn, responses={201: PriceListOut})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PriceListUpdate, responses={200: PriceListOut, 409: None})
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=PriceListUpdate, responses={200: PriceListOut, 409: None})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(responses={200: PriceListItemOut(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[])
    def items(self, request, pk=None):
        """The price list's lines for the products the caller may see, paginated."""
        items = pricelist_items(actor=request.user, price_list=self.get_object())
        page = self.paginate_queryset(items)
        return self.get_paginated_response(PriceListItemOut(page, many=True).data)

    @extend_schema(request=PriceSetIn, responses={200: PriceListItemOut})
    @action(detail=True, methods=["post"])
    def prices(self, request, pk=None):
        """Set (or change) one product's price from a minimum quantity on."""
        price_list = self.get_object()
        serializer = PriceSetIn(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        item = services.pricelist_set_price(
            actor=request.user, price_list=price_list, **serializer.validated_data
        )
        return Response(PriceListItemOut(item).data)
