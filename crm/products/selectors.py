"""Reads for the product catalogue, through the products data scope."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.core.errors import NotFound
from crm.core.lists import Column, ListSpec, register
from crm.core.scopes import authorize
from crm.products.models import Category, PriceList, PriceListItem, Product


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        label=_("category"), queryset=Category.objects.all(), method="in_category"
    )
    type = django_filters.ChoiceFilter(label=_("type"), choices=Product.Type.choices)
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Product.Status.choices
    )
    min_price = django_filters.NumberFilter(
        label=_("price from"), field_name="list_price", lookup_expr="gte"
    )
    max_price = django_filters.NumberFilter(
        label=_("price to"), field_name="list_price", lookup_expr="lte"
    )

    class Meta:
        model = Product
        fields = ["category", "type", "status"]

    def in_category(self, qs, name, value):
        return qs.filter(category__path__startswith=value.path) if value else qs


@register
class ProductList(ListSpec):
    key = "products.product"
    model = Product
    title = _("Products")
    columns = [
        Column("code", _("product code"), sort="code", link=True),
        Column("name", _("product name"), sort="name", link=True),
        Column("category.name", _("category"), sort="category__path", field="category"),
        Column("type", _("type"), sort="type", choices=True),
        Column("specification", _("specification")),
        Column("unit", _("unit")),
        Column("list_price", _("list price"), sort="list_price"),
        Column("cost", _("cost"), sort="cost"),
        Column("status", _("status"), sort="status", choices=True),
    ]
    search_fields = ("code", "name", "specification")
    filterset_class = ProductFilter
    default_sort = "code"
    select_related = ("category",)
    detail_url_name = "products:product-detail"


@register
class PriceListList(ListSpec):
    key = "products.pricelist"
    model = PriceList
    title = _("Price lists")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("currency", _("currency")),
        Column("valid_from", _("valid from"), sort="valid_from"),
        Column("valid_to", _("valid to"), sort="valid_to"),
        Column("is_active", _("active"), sort="is_active"),
    ]
    search_fields = ("name", "notes")
    default_sort = "name"
    detail_url_name = "products:pricelist-detail"


def product_get(*, actor, pk) -> Product:
    try:
        return Product.objects.visible_to(actor).select_related("category").get(pk=pk)
    except (Product.DoesNotExist, ValueError):
        raise NotFound(_("Product not found.")) from None


def category_tree_list(*, actor):
    authorize(actor, "products.view_category")
    return Category.objects.all()


def category_get(*, actor, pk) -> Category:
    authorize(actor, "products.view_category")
    try:
        return Category.objects.get(pk=pk)
    except (Category.DoesNotExist, ValueError):
        raise NotFound(_("Category not found.")) from None


def pricelist_items(*, actor, price_list: PriceList):
    """A price list's lines; products outside the user's scope are not shown."""
    visible = Product.objects.visible_to(actor).values("pk")
    return (
        PriceListItem.objects.filter(price_list=price_list, product__in=visible)
        .select_related("product")
        .order_by("product__code", "min_quantity")
    )
