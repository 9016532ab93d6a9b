"""Writes for the product catalogue (Y6): categories, products, price lists, prices.

Every service authorises, validates (field errors a form or API client can show), runs in
one transaction and writes the audit trail (Y7).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Invalid, invalid_from_django
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.scopes import authorize
from crm.core.services import record_create, record_update
from crm.core.trees import tree_move
from crm.products.models import Category, PriceList, PriceListItem, Product

PRICE_FIELDS = ("list_price", "cost")
COPY_FIELDS = (
    "name",
    "category",
    "type",
    "specification",
    "unit",
    "list_price",
    "cost",
    "description",
)
QUANTITY = Decimal("0.001")


def _refuse(errors: dict[str, list[str]]) -> None:
    """Raise one Invalid carrying every field error found."""
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _full_clean(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


# Categories


def _check_parent(parent: Category | None) -> None:
    if parent is not None and not parent.is_active:
        _refuse({"parent": [_("The parent category is inactive.")]})


def category_create(*, actor, data: dict) -> Category:
    """A new category goes at the root or under an active category."""
    authorize(actor, "products.add_category")
    _check_parent(data.get("parent"))
    with transaction.atomic():
        category = record_create(
            actor=actor, model=Category, data=data, perm="products.add_category"
        )
    return category


def category_update(*, actor, obj: Category, data: dict, version=None) -> Category:
    """Rename or re-code a category; a new parent moves the whole subtree."""
    authorize(actor, "products.change_category")
    data = dict(data)
    with transaction.atomic():
        if "parent" in data:
            parent = data.pop("parent")
            if (parent.pk if parent else None) != obj.parent_id:
                obj = category_move(actor=actor, category=obj, parent=parent)
        if data:
            obj = record_update(
                actor=actor, obj=obj, data=data, perm="products.change_category"
            )
    return obj


def category_move(*, actor, category: Category, parent: Category | None) -> Category:
    """Move a category with its subtree; never under itself, a descendant or an inactive one."""
    authorize(actor, "products.change_category")
    with transaction.atomic():
        locked = Category.objects.select_for_update().get(pk=category.pk)
        if parent is not None:
            parent = Category.objects.get(pk=parent.pk)  # its current path
        _check_parent(parent)
        before = snapshot(locked)
        tree_move(locked, parent)
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="move",
        )
    return locked


def category_deactivate(*, actor, category: Category) -> Category:
    """A category with active sub-categories, or products on sale or in draft, stays active."""
    authorize(actor, "products.change_category")
    with transaction.atomic():
        locked = Category.objects.select_for_update().get(pk=category.pk)
        if not locked.is_active:
            return locked
        if Category.objects.filter(parent=locked, is_active=True).exists():
            raise Invalid(_("Deactivate or move its active sub-categories first."))
        live = Product.objects.filter(category=locked).exclude(
            status=Product.Status.INACTIVE
        )
        if live.exists():
            raise Invalid(_("Discontinue or move the products in this category first."))
        return record_update(
            actor=actor,
            obj=locked,
            data={"is_active": False},
            perm="products.change_category",
            note="deactivate",
        )


def category_activate(*, actor, category: Category) -> Category:
    """An inactive category becomes active again, if its parent is active."""
    authorize(actor, "products.change_category")
    with transaction.atomic():
        locked = Category.objects.select_for_update().get(pk=category.pk)
        if locked.is_active:
            return locked
        if locked.parent_id and not locked.parent.is_active:
            raise Invalid(_("Activate its parent category first."))
        return record_update(
            actor=actor,
            obj=locked,
            data={"is_active": True},
            perm="products.change_category",
            note="activate",
        )


# Products


def _code_taken(code: str, exclude_pk=None) -> bool:
    clash = Product.objects.filter(code__iexact=code)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    return clash.exists()


def _code_error() -> dict[str, list[str]]:
    return {"code": [_("This code is already used by another product.")]}


def _clean_product(data: dict, obj: Product | None = None) -> dict:
    """Trim the code, round prices to the product decimal places (Y2), check the rules."""
    data = dict(data)
    errors: dict[str, list[str]] = {}
    if isinstance(data.get("code"), str):
        data["code"] = data["code"].strip()
        if data["code"] and _code_taken(data["code"], obj.pk if obj else None):
            errors.update(_code_error())
    for name in PRICE_FIELDS:
        if data.get(name) is None:
            continue
        if Decimal(data[name]) < 0:
            errors[name] = [_("A price cannot be negative.")]
        else:
            data[name] = round_money(data[name], "product", field=name)
    category = data.get("category")
    if (
        category is not None
        and not category.is_active
        and (obj is None or obj.category_id != category.pk)
    ):
        errors["category"] = [_("This category is inactive.")]
    _refuse(errors)
    return data


def product_create(*, actor, data: dict) -> Product:
    """Codes are unique whatever their case; prices are rounded and never negative."""
    authorize(actor, "products.add_product")
    data = _clean_product(data)
    try:
        return record_create(
            actor=actor, model=Product, data=data, perm="products.add_product"
        )
    except IntegrityError:
        if _code_taken(data.get("code") or ""):  # taken by a concurrent create
            _refuse(_code_error())
        raise


def product_update(*, actor, obj: Product, data: dict, version=None) -> Product:
    """Change a product (versioned); discontinue it with status "inactive", never delete it."""
    authorize(actor, "products.change_product")
    data = _clean_product(data, obj)
    try:
        return record_update(
            actor=actor,
            obj=obj,
            data=data,
            perm="products.change_product",
            version=version,
        )
    except IntegrityError:
        if _code_taken(data.get("code") or "", obj.pk):
            _refuse(_code_error())
        raise


def product_copy(*, actor, product: Product, code: str) -> Product:
    """A copy under a new code starts as a draft.

    Every field is copied, cost included: the copy keeps the data even when the actor may
    not see or change some of it, and nothing hidden is shown to them.
    """
    authorize(actor, "products.add_product")
    data = _clean_product(
        {**{name: getattr(product, name) for name in COPY_FIELDS}, "code": code or ""}
    )
    copy = Product(
        **data,
        status=Product.Status.DRAFT,
        owner=actor,
        department_id=actor.department_id,
    )
    _full_clean(copy)
    try:
        with transaction.atomic():
            copy.save()
            audit_record(
                actor=actor,
                obj=copy,
                action=AuditEvent.Action.CREATE,
                note=f"copy of {product.code}"[:255],
            )
    except IntegrityError:
        if _code_taken(copy.code):
            _refuse(_code_error())
        raise
    return copy


# Price lists


def _clean_pricelist(data: dict, obj: PriceList | None = None) -> dict:
    data = dict(data)
    errors: dict[str, list[str]] = {}
    if isinstance(data.get("name"), str):
        data["name"] = data["name"].strip()
        clash = PriceList.objects.filter(name__iexact=data["name"])
        if obj is not None:
            clash = clash.exclude(pk=obj.pk)
        if data["name"] and clash.exists():
            errors["name"] = [_("This name is already used by another price list.")]
    valid_from = data.get("valid_from", obj.valid_from if obj else None)
    valid_to = data.get("valid_to", obj.valid_to if obj else None)
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = [_("The end date cannot be before the start date.")]
    _refuse(errors)
    return data


def pricelist_create(*, actor, data: dict) -> PriceList:
    """Price list names are unique whatever their case; valid_to is not before valid_from."""
    authorize(actor, "products.add_pricelist")
    data = _clean_pricelist(data)
    try:
        return record_create(
            actor=actor, model=PriceList, data=data, perm="products.add_pricelist"
        )
    except IntegrityError:
        _clean_pricelist(data)  # a concurrent create took the name
        raise


def pricelist_update(*, actor, obj: PriceList, data: dict, version=None) -> PriceList:
    """Change a price list's header; a stale version is refused (409)."""
    authorize(actor, "products.change_pricelist")
    data = _clean_pricelist(data, obj)
    try:
        return record_update(
            actor=actor,
            obj=obj,
            data=data,
            perm="products.change_pricelist",
            version=version,
        )
    except IntegrityError:
        _clean_pricelist(data, obj)
        raise


def _price_text(price) -> str | None:
    """A price as users write it: the product decimal places, unless that would lose digits."""
    if price is None:
        return None
    rounded = round_money(price, "product", field="price")
    return str(rounded if rounded == price else Decimal(price).normalize())


def _audit_price(*, actor, price_list, item, before, after, note) -> AuditEvent:
    """Price changes are recorded on the price list, so its history tab shows them."""
    event = audit_record(
        actor=actor,
        obj=price_list,
        action=AuditEvent.Action.UPDATE,
        before=snapshot(price_list),
        note=note,
    )
    key = f"{item.product.code} ≥ {item.min_quantity.normalize():f}"
    event.changes = {key: [_price_text(before), _price_text(after)]}
    event.save(update_fields=["changes"])
    return event


def pricelist_set_price(
    *,
    actor,
    price_list: PriceList,
    product: Product,
    price,
    min_quantity=Decimal("1"),
) -> PriceListItem:
    """Set or change a product's price from a minimum quantity on; never negative."""
    authorize(actor, "products.change_pricelist")
    errors: dict[str, list[str]] = {}
    if Decimal(price) < 0:
        errors["price"] = [_("A price cannot be negative.")]
    if Decimal(min_quantity) < 0:
        errors["min_quantity"] = [_("The minimum quantity cannot be negative.")]
    _refuse(errors)
    price = round_money(price, "product", field="price")
    min_quantity = Decimal(min_quantity).quantize(QUANTITY)
    with transaction.atomic():
        # One writer per price list at a time: no duplicate lines under concurrency.
        price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
        item = PriceListItem.objects.filter(
            price_list=price_list, product=product, min_quantity=min_quantity
        ).first()
        before = item.price if item else None
        if item is None:
            item = PriceListItem(
                price_list=price_list, product=product, min_quantity=min_quantity
            )
        item.price = price
        item.save()
        _audit_price(
            actor=actor,
            price_list=price_list,
            item=item,
            before=before,
            after=price,
            note="price set",
        )
    return item


def pricelist_remove_price(*, actor, item: PriceListItem) -> None:
    """Remove one price line; the product's list price applies again."""
    authorize(actor, "products.change_pricelist")
    with transaction.atomic():
        price_list = PriceList.objects.select_for_update().get(pk=item.price_list_id)
        _audit_price(
            actor=actor,
            price_list=price_list,
            item=item,
            before=item.price,
            after=None,
            note="price removed",
        )
        item.delete()
