from rest_framework import serializers

from crm.core.api.serializers import FieldRightsMixin, VersionedUpdateMixin
from crm.products.models import Category, PriceList, PriceListItem, Product


class CategoryOut(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "code", "parent", "path", "depth", "is_active"]


class ProductOut(FieldRightsMixin, serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "category",
            "category_name",
            "type",
            "specification",
            "unit",
            "list_price",
            "cost",
            "status",
            "description",
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
        ]


class ProductIn(FieldRightsMixin, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "category",
            "type",
            "specification",
            "unit",
            "list_price",
            "cost",
            "status",
            "description",
        ]
        extra_kwargs = {"code": {"validators": []}}


class ProductUpdate(VersionedUpdateMixin, ProductIn):
    class Meta(ProductIn.Meta):
        fields = [*ProductIn.Meta.fields, "version"]


class PriceListItemOut(serializers.ModelSerializer):
    class Meta:
        model = PriceListItem
        fields = ["id", "product", "price", "min_quantity"]


class PriceListOut(serializers.ModelSerializer):
    class Meta:
        model = PriceList
        fields = [
            "id",
            "name",
            "currency",
            "valid_from",
            "valid_to",
            "is_active",
            "notes",
            "version",
        ]
