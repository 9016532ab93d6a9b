from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.core.api.viewsets import ScopedViewSet, ServiceWriteMixin
from crm.core.lists import REGISTRY
from crm.products import services
from crm.products.api.serializers import (
    CategoryOut,
    PriceListItemOut,
    PriceListOut,
    ProductIn,
    ProductOut,
    ProductUpdate,
)
from crm.products.models import Category
from crm.products.selectors import category_get, category_tree_list, pricelist_items


class ProductViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """Y6 products; cost appears only with products.view_cost."""

    spec = REGISTRY["products.product"]
    output_serializer_class = ProductOut
    create_service = services.product_create
    update_service = services.product_update

    def get_serializer_class(self):
        return {
            "create": ProductIn,
            "update": ProductUpdate,
            "partial_update": ProductUpdate,
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


class CategoryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = CategoryOut
    queryset = (
        Category.objects.none()
    )  # for the schema; get_queryset reads through the selector
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return category_tree_list(actor=self.request.user)

    def get_object(self):
        return category_get(actor=self.request.user, pk=self.kwargs["pk"])


class PriceListViewSet(ScopedViewSet):
    spec = REGISTRY["products.pricelist"]
    serializer_class = PriceListOut

    @extend_schema(responses={200: PriceListItemOut(many=True)})
    @action(detail=True, methods=["get"])
    def items(self, request, pk=None):
        items = pricelist_items(actor=request.user, price_list=self.get_object())
        return Response(PriceListItemOut(items, many=True).data)
