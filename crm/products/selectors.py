"""Reads for the product catalogue, through the products data scope (Y5, Y6)."""

from decimal import Decimal

import django_filters
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from crm.core.errors import NotFound
from crm.core.fieldrights import field_rights
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
    min_price = django_filters.NumberFilter(label=_("price from"), method="price_range")
    max_price = django_filters.NumberFilter(label=_("price to"), method="price_range")

    class Meta:
        model = Product
        fields = ["category", "type", "status"]

    def in_category(self, qs, name, value):
        """A category stands for its whole subtree."""
        return qs.filter(category__path__startswith=value.path) if value else qs

    def price_range(self, qs, name, value):
        """Filtering on a list price the user may not see would reveal it: ignored then."""
        user = getattr(self.form, "user", None)
        if value is None or user is None:
            return qs
        if "list_price" in field_rights(user, Product).hidden:
            return qs
        lookup = "gte" if name == "min_price" else "lte"
        return qs.filter(**{f"list_price__{lookup}": value})


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


class PriceListFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(label=_("active"))
    valid_on = django_filters.DateFilter(label=_("valid on"), method="valid_on_date")

    class Meta:
        model = PriceList
        fields = ["is_active", "currency"]

    def valid_on_date(self, qs, name, value):
        """Price lists whose validity (open ends allowed) includes the date."""
        if value is None:
            return qs
        return qs.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=value),
            Q(valid_to__isnull=True) | Q(valid_to__gte=value),
        )


@register
class PriceListList(ListSpec):
    key = "products.pricelist"
    model = PriceList
    title = _("Price lists")
    columns = [
        Column("name", _("name"), sort="name", link=True),
        Column("currency", _("currency"), sort="currency"),
        Column("valid_from", _("valid from"), sort="valid_from"),
        Column("valid_to", _("valid to"), sort="valid_to"),
        Column("is_active", _("active"), sort="is_active"),
        Column("notes", _("notes")),
    ]
    search_fields = ("name", "notes")
    filterset_class = PriceListFilter
    default_sort = "name"
    detail_url_name = "products:pricelist-detail"


@register
class CategoryList(ListSpec):
    """Backs the category pages (tree, record page, form): permission, title, export."""

    key = "products.category"
    model = Category
    title = _("Product categories")
    columns = [Column("name", _("name"), sort="path")]

    def base_queryset(self, user):
        return category_tree_list(actor=user)


CATEGORY_SPEC = CategoryList()


# Products


def product_get(*, actor, pk) -> Product:
    try:
        return Product.objects.visible_to(actor).select_related("category").get(pk=pk)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Product not found.")) from None


def product_price_items(*, actor, product: Product):
    """A product's prices in the price lists the user may see."""
    visible = PriceList.objects.visible_to(actor).values("pk")
    return (
        PriceListItem.objects.filter(product=product, price_list__in=visible)
        .select_related("price_list")
        .order_by("price_list__name", "min_quantity")
    )


# Categories (not scoped: the catalogue's structure is shared by everyone who may see it)


def category_tree_list(*, actor):
    authorize(actor, "products.view_category")
    return Category.objects.all()


def category_tree_with_counts(*, actor) -> list[Category]:
    """Every category with `product_count`: the products in it that the user may see."""
    nodes = list(category_tree_list(actor=actor))
    counts = dict(
        Product.objects.visible_to(actor)
        .order_by()
        .values_list("category")
        .annotate(n=Count("pk"))
    )
    for node in nodes:
        node.product_count = counts.get(node.pk, 0)
    return nodes


def category_get(*, actor, pk) -> Category:
    authorize(actor, "products.view_category")
    try:
        return Category.objects.get(pk=pk)
    except (Category.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Category not found.")) from None


# Price lists


def pricelist_get(*, actor, pk) -> PriceList:
    try:
        return PriceList.objects.visible_to(actor).get(pk=pk)
    except (PriceList.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Price list not found.")) from None


def pricelist_items(*, actor, price_list: PriceList):
    """A price list's lines; products outside the user's scope are not shown."""
    visible = Product.objects.visible_to(actor).values("pk")
    return (
        PriceListItem.objects.filter(price_list=price_list, product__in=visible)
        .select_related("product")
        .order_by("product__code", "min_quantity")
    )


def pricelist_item_get(*, actor, price_list: PriceList, pk) -> PriceListItem:
    try:
        return pricelist_items(actor=actor, price_list=price_list).get(pk=pk)
    except (PriceListItem.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Price not found.")) from None


def price_for(
    *, product: Product, price_list: PriceList | None, quantity=Decimal("1")
) -> Decimal:
    """A product's price for a quantity: the price list line with the highest minimum
    quantity not above it, else the product's list price."""
    if price_list is not None:
        item = (
            PriceListItem.objects.filter(
                price_list=price_list, product=product, min_quantity__lte=quantity
            )
            .order_by("-min_quantity")
            .first()
        )
        if item is not None:
            return item.price
    return product.list_price
