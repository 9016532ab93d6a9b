"""Writes for the product catalogue (Y6)."""

from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Invalid
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.scopes import authorize
from crm.core.services import record_create, record_update
from crm.core.trees import tree_move, tree_place
from crm.products.models import Category, PriceList, PriceListItem, Product


def _round_prices(data: dict) -> dict:
    for name in ("list_price", "cost", "price"):
        if data.get(name) is not None:
            data[name] = round_money(data[name], "product")
    return data


def _check_code(code: str | None, exclude_pk=None) -> None:
    if not code:
        return
    clash = Product.objects.filter(code__iexact=code.strip())
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise Invalid(
            _("Product code %(code)s is already used.") % {"code": code},
            fields={"code": [_("This code is already used by another product.")]},
        )


def product_create(*, actor, data: dict) -> Product:
    """Codes are unique (case-insensitive); prices are rounded to the product decimal places."""
    data = _round_prices(dict(data))
    _check_code(data.get("code"))
    return record_create(
        actor=actor, model=Product, data=data, perm="products.add_product"
    )


def product_update(*, actor, obj: Product, data: dict, version=None) -> Product:
    data = _round_prices(dict(data))
    _check_code(data.get("code"), exclude_pk=obj.pk)
    return record_update(
        actor=actor, obj=obj, data=data, perm="products.change_product", version=version
    )


def product_copy(*, actor, product: Product, code: str) -> Product:
    """A new product with the same data under a new code."""
    fields = [
        "name",
        "category",
        "type",
        "specification",
        "unit",
        "list_price",
        "cost",
        "description",
    ]
    data = {name: getattr(product, name) for name in fields}
    data.update(code=code, status=Product.Status.DRAFT)
    return product_create(actor=actor, data=data)


def category_create(*, actor, data: dict) -> Category:
    with transaction.atomic():
        category = record_create(
            actor=actor, model=Category, data=data, perm="products.add_category"
        )
        tree_place(category)
    return category


def category_update(*, actor, obj: Category, data: dict, version=None) -> Category:
    data = dict(data)
    new_parent = data.pop("parent", obj.parent)
    authorize(actor, "products.change_category")
    with transaction.atomic():
        if (new_parent.pk if new_parent else None) != obj.parent_id:
            locked = Category.objects.select_for_update().get(pk=obj.pk)
            before = snapshot(locked)
            tree_move(locked, new_parent)
            audit_record(
                actor=actor,
                obj=locked,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note="move",
            )
            obj.refresh_from_db()
        if data:
            obj = record_update(
                actor=actor, obj=obj, data=data, perm="products.change_category"
            )
    return obj


def pricelist_create(*, actor, data: dict) -> PriceList:
    return record_create(
        actor=actor, model=PriceList, data=data, perm="products.add_pricelist"
    )


def pricelist_update(*, actor, obj: PriceList, data: dict, version=None) -> PriceList:
    return record_update(
        actor=actor,
        obj=obj,
        data=data,
        perm="products.change_pricelist",
        version=version,
    )


def pricelist_set_price(
    *, actor, price_list: PriceList, product: Product, price, min_quantity=1
) -> PriceListItem:
    """Set (or change) one product's price in a price list."""
    authorize(actor, "products.change_pricelist")
    price = round_money(price, "product")
    if price < 0:
        raise Invalid(
            _("A price cannot be negative."),
            fields={"price": [_("Must be zero or more.")]},
        )
    with transaction.atomic():
        item = (
            PriceListItem.objects.select_for_update()
            .filter(price_list=price_list, product=product, min_quantity=min_quantity)
            .first()
        )
        before = snapshot(item) if item else {}
        if item is None:
            item = PriceListItem(
                price_list=price_list, product=product, min_quantity=min_quantity
            )
        item.price = price
        item.save()
        audit_record(
            actor=actor,
            obj=item,
            action=AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE,
            before=before,
        )
    return item


def pricelist_remove_price(*, actor, item: PriceListItem) -> None:
    authorize(actor, "products.change_pricelist")
    with transaction.atomic():
        audit_record(
            actor=actor,
            obj=item,
            action=AuditEvent.Action.DELETE,
            before=snapshot(item),
        )
        item.delete()


def price_for(*, product: Product, price_list: PriceList | None, quantity=1):
    """The price of a product in a price list for a quantity, else its list price."""
    if price_list is not None:
        item = (
            PriceListItem.objects.filter(
                price_list=price_list, product=product, min_quantity__lte=quantity
            )
            .order_by("-min_quantity")
            .first()
        )
        if item:
            return item.price
    return product.list_price
