"""Shapes of the product API (Y6). Input serializers check the shape; services the rules."""

from rest_framework import serializers

from crm.core.api.serializers import FieldRightsMixin, VersionedUpdateMixin
from crm.products.models import Category, PriceList, PriceListItem, Product


class CategoryOut(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "code",
            "parent",
            "path",
            "depth",
            "sort_order",
            "is_active",
        ]


class CategoryIn(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["name", "parent", "code", "sort_order"]


class ProductOut(FieldRightsMixin, serializers.ModelSerializer):
    """Cost appears only for holders of products.view_cost; role field rights apply."""

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
        # Uniqueness (case-insensitive) is the service's rule, answered as a field error.
        extra_kwargs = {"code": {"validators": []}}


class ProductUpdate(VersionedUpdateMixin, ProductIn):
    class Meta(ProductIn.Meta):
        fields = [*ProductIn.Meta.fields, "version"]


class ProductCopyIn(serializers.Serializer):
    code = serializers.CharField(max_length=40)


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
            "owner",
            "department",
            "version",
            "created_at",
            "updated_at",
        ]


class PriceListIn(serializers.ModelSerializer):
    class Meta:
        model = PriceList
        fields = ["name", "currency", "valid_from", "valid_to", "is_active", "notes"]
        extra_kwargs = {"name": {"validators": []}}


class PriceListUpdate(VersionedUpdateMixin, PriceListIn):
    class Meta(PriceListIn.Meta):
        fields = [*PriceListIn.Meta.fields, "version"]


class PriceListItemOut(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = PriceListItem
        fields = [
            "id",
            "product",
            "product_code",
            "product_name",
            "price",
            "min_quantity",
        ]


class PriceSetIn(serializers.Serializer):
    """One price line: a product the caller may see, a price, a minimum quantity."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.none())
    price = serializers.DecimalField(max_digits=20, decimal_places=6)
    min_quantity = serializers.DecimalField(max_digits=14, decimal_places=3, default=1)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["product"].queryset = Product.objects.visible_to(request.user)
        return fields
