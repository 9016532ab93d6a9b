"""Y6 catalogue writes: rules, permissions and the audit trail (Y7)."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import ProtectedError

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.core.params import params_update
from crm.products import services
from crm.products.models import Category, PriceList, PriceListItem, Product
from crm.products.tests.conftest import VIEW
from crm.products.tests.factories import (
    CategoryFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def events_for(obj):
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    )


# Categories


def test_category_tree_of_any_depth(manager):
    """Y6: categories nest to any depth; each path is its parent's path plus its id."""
    parent = None
    chain = []
    for level in range(6):
        parent = services.category_create(
            actor=manager, data={"name": f"第{level}级", "parent": parent}
        )
        chain.append(parent)
    deepest = Category.objects.get(pk=chain[-1].pk)
    assert deepest.depth == 5
    assert deepest.path == "/" + "/".join(str(c.pk) for c in chain) + "/"
    assert events_for(deepest).get().action == AuditEvent.Action.CREATE


def test_category_create_under_inactive_parent_is_refused(manager):
    parent = CategoryFactory(is_active=False)
    with pytest.raises(Invalid) as exc:
        services.category_create(actor=manager, data={"name": "新类", "parent": parent})
    assert "parent" in exc.value.fields
    assert not Category.objects.filter(name="新类").exists()


def test_category_rename_is_audited(manager):
    category = CategoryFactory(name="旧名")
    services.category_update(
        actor=manager, obj=category, data={"name": "新名", "parent": None}
    )
    category.refresh_from_db()
    assert category.name == "新名"
    event = events_for(category).get()
    assert event.actor == manager
    assert event.changes["name"] == ["旧名", "新名"]


def test_category_move_takes_the_whole_subtree(manager):
    """Moving a category moves its descendants: paths and depths follow."""
    a = CategoryFactory(name="A")
    b = CategoryFactory(name="B", parent=a)
    c = CategoryFactory(name="C", parent=b)
    target = CategoryFactory(name="T")
    target_child = CategoryFactory(name="T1", parent=target)

    services.category_update(actor=manager, obj=b, data={"parent": target_child})

    b.refresh_from_db()
    c.refresh_from_db()
    assert b.parent == target_child
    assert b.path == f"{target_child.path}{b.pk}/"
    assert c.path == f"{target_child.path}{b.pk}/{c.pk}/"
    assert (b.depth, c.depth) == (2, 3)
    move = events_for(b).get(note="move")
    assert move.changes["parent"] == [a.pk, target_child.pk]


@pytest.mark.parametrize("target", ["itself", "child", "grandchild"])
def test_category_move_under_itself_or_a_descendant_is_refused(manager, target):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    grandchild = CategoryFactory(parent=child)
    new_parent = {"itself": root, "child": child, "grandchild": grandchild}[target]
    with pytest.raises(Invalid) as exc:
        services.category_update(actor=manager, obj=root, data={"parent": new_parent})
    assert "parent" in exc.value.fields
    root.refresh_from_db()
    assert root.parent is None
    assert not events_for(root).exists()


def test_category_move_under_an_inactive_category_is_refused(manager):
    category = CategoryFactory()
    inactive = CategoryFactory(is_active=False)
    with pytest.raises(Invalid) as exc:
        services.category_move(actor=manager, category=category, parent=inactive)
    assert "parent" in exc.value.fields


def test_category_deactivate(manager):
    category = CategoryFactory()
    ProductFactory(category=category, status=Product.Status.INACTIVE)
    CategoryFactory(parent=category, is_active=False)

    services.category_deactivate(actor=manager, category=category)

    category.refresh_from_db()
    assert category.is_active is False
    event = events_for(category).get(note="deactivate")
    assert event.changes["is_active"] == [True, False]


def test_category_deactivate_refused_while_a_child_is_active(manager):
    category = CategoryFactory()
    CategoryFactory(parent=category)
    with pytest.raises(Invalid):
        services.category_deactivate(actor=manager, category=category)
    category.refresh_from_db()
    assert category.is_active is True


@pytest.mark.parametrize("status", [Product.Status.ACTIVE, Product.Status.DRAFT])
def test_category_deactivate_refused_while_it_has_live_products(manager, status):
    """Products on sale or in draft keep their category active (Y6)."""
    category = CategoryFactory()
    ProductFactory(category=category, status=status)
    with pytest.raises(Invalid):
        services.category_deactivate(actor=manager, category=category)
    category.refresh_from_db()
    assert category.is_active is True
    assert not events_for(category).exists()


def test_category_activate_needs_an_active_parent(manager):
    parent = CategoryFactory(is_active=False)
    child = CategoryFactory(parent=parent, is_active=False)
    with pytest.raises(Invalid):
        services.category_activate(actor=manager, category=child)
    services.category_activate(actor=manager, category=parent)
    services.category_activate(actor=manager, category=child)
    child.refresh_from_db()
    assert child.is_active is True


@pytest.mark.parametrize("action", ["create", "update", "move", "deactivate"])
def test_category_writes_need_permission(make_user, action):
    """Y5: viewing the catalogue does not allow changing its categories."""
    user = make_user(*VIEW)
    category = CategoryFactory()
    calls = {
        "create": lambda: services.category_create(actor=user, data={"name": "X"}),
        "update": lambda: services.category_update(
            actor=user, obj=category, data={"name": "X"}
        ),
        "move": lambda: services.category_move(
            actor=user, category=category, parent=CategoryFactory()
        ),
        "deactivate": lambda: services.category_deactivate(
            actor=user, category=category
        ),
    }
    with pytest.raises(Forbidden):
        calls[action]()


# Products


def product_data(category, **overrides):
    data = {
        "code": "KZQ-001",
        "name": "PLC可编程控制器",
        "category": category,
        "type": Product.Type.OWN,
        "specification": "32点",
        "unit": "台",
        "list_price": Decimal("3280.00"),
        "cost": Decimal("1890.00"),
        "status": Product.Status.ACTIVE,
    }
    return {**data, **overrides}


@pytest.mark.parametrize("kind", [t for t, _label in Product.Type.choices])
def test_product_create_every_type(manager, kind):
    """Y6: tangible and intangible products: own, outsourced, consignment, training…"""
    product = services.product_create(
        actor=manager, data=product_data(CategoryFactory(), type=kind)
    )
    product.refresh_from_db()
    assert product.type == kind
    assert product.owner == manager
    assert product.department == manager.department
    event = events_for(product).get()
    assert event.action == AuditEvent.Action.CREATE
    assert event.changes["code"] == [None, "KZQ-001"]


def test_product_prices_are_rounded_to_the_product_decimal_places(manager, org):
    """Y2: prices follow the product decimal-places parameter, ROUND_HALF_UP, as Decimal."""
    product = services.product_create(
        actor=manager,
        data=product_data(
            CategoryFactory(), list_price=Decimal("12.345"), cost=Decimal("7.004")
        ),
    )
    product.refresh_from_db()
    assert (product.list_price, product.cost) == (Decimal("12.35"), Decimal("7.00"))

    params_update(actor=org.admin, values={"decimals_product": 0})
    product = services.product_update(
        actor=manager,
        obj=product,
        data={"list_price": Decimal("12.5")},
        version=product.version,
    )
    product.refresh_from_db()
    assert product.list_price == Decimal("13")
    assert isinstance(product.list_price, Decimal)


@pytest.mark.parametrize("code", ["kzq-001", "KZQ-001", " Kzq-001 "])
def test_product_code_is_unique_whatever_its_case(manager, code):
    ProductFactory(code="KZQ-001")
    with pytest.raises(Invalid) as exc:
        services.product_create(
            actor=manager, data=product_data(CategoryFactory(), code=code)
        )
    assert "code" in exc.value.fields
    assert Product.objects.count() == 1


def test_product_code_clash_on_update_is_a_field_error(manager):
    ProductFactory(code="A-1")
    product = ProductFactory(code="B-1")
    with pytest.raises(Invalid) as exc:
        services.product_update(
            actor=manager, obj=product, data={"code": "a-1"}, version=product.version
        )
    assert "code" in exc.value.fields
    # A product may change the case of its own code.
    services.product_update(
        actor=manager, obj=product, data={"code": "b-1"}, version=product.version
    )
    product.refresh_from_db()
    assert product.code == "b-1"


def test_product_code_taken_by_a_concurrent_create_is_a_field_error(
    manager, monkeypatch
):
    """The database constraint backs the check: a race ends in a field error, not a 500."""
    ProductFactory(code="RACE-1")
    checks = iter([False])  # the first check misses the concurrent row
    real = services._code_taken
    monkeypatch.setattr(
        services, "_code_taken", lambda code, pk=None: next(checks, real(code, pk))
    )
    monkeypatch.setattr(
        Product, "validate_constraints", lambda self, exclude=None: None
    )
    with pytest.raises(Invalid) as exc:
        services.product_create(
            actor=manager, data=product_data(CategoryFactory(), code="race-1")
        )
    assert "code" in exc.value.fields
    assert Product.objects.count() == 1


@pytest.mark.parametrize("field", ["list_price", "cost"])
def test_negative_prices_are_refused_with_a_field_error(manager, field):
    with pytest.raises(Invalid) as exc:
        services.product_create(
            actor=manager,
            data=product_data(CategoryFactory(), **{field: Decimal("-0.01")}),
        )
    assert field in exc.value.fields
    product = ProductFactory()
    with pytest.raises(Invalid) as exc:
        services.product_update(
            actor=manager,
            obj=product,
            data={field: Decimal("-5")},
            version=product.version,
        )
    assert field in exc.value.fields


def test_product_in_an_inactive_category_is_refused(manager):
    inactive = CategoryFactory(is_active=False)
    with pytest.raises(Invalid) as exc:
        services.product_create(actor=manager, data=product_data(inactive))
    assert "category" in exc.value.fields
    # A product already there may still be edited.
    product = ProductFactory(category=inactive)
    services.product_update(
        actor=manager,
        obj=product,
        data={"name": "改名", "category": inactive},
        version=product.version,
    )


def test_product_update_with_a_stale_version_is_a_conflict(manager):
    product = ProductFactory()
    services.product_update(
        actor=manager, obj=product, data={"name": "第一次"}, version=1
    )
    with pytest.raises(Conflict):
        services.product_update(
            actor=manager, obj=product, data={"name": "第二次"}, version=1
        )
    product.refresh_from_db()
    assert (product.name, product.version) == ("第一次", 2)


def test_product_update_is_audited_with_before_and_after(manager):
    product = ProductFactory(list_price=Decimal("100.00"))
    services.product_update(
        actor=manager,
        obj=product,
        data={"list_price": Decimal("120"), "status": Product.Status.INACTIVE},
        version=product.version,
    )
    event = events_for(product).get()
    assert event.action == AuditEvent.Action.UPDATE
    before, after = event.changes["list_price"]
    assert (Decimal(before), Decimal(after)) == (Decimal("100"), Decimal("120"))
    assert event.changes["status"] == ["active", "inactive"]


def test_product_writes_need_permission(make_user):
    user = make_user(*VIEW)
    with pytest.raises(Forbidden):
        services.product_create(actor=user, data=product_data(CategoryFactory()))
    product = ProductFactory()
    with pytest.raises(Forbidden):
        services.product_update(
            actor=user, obj=product, data={"name": "X"}, version=product.version
        )
    with pytest.raises(Forbidden):
        services.product_copy(actor=user, product=product, code="X-1")


def test_cost_cannot_be_written_without_view_cost(clerk):
    """Y5: a field the user may not see cannot be changed either."""
    product = ProductFactory(cost=Decimal("60.00"))
    with pytest.raises(Forbidden) as exc:
        services.product_update(
            actor=clerk, obj=product, data={"cost": Decimal("1")}, version=1
        )
    assert "cost" in exc.value.fields


def test_readonly_list_price_from_a_role_is_enforced(make_user):
    """Y5: a role may make list_price read-only; the service refuses a change."""
    from crm.products.tests.conftest import EDIT

    user = make_user(
        *EDIT, field_rights={"products.product": {"list_price": "readonly"}}
    )
    product = ProductFactory(list_price=Decimal("100.00"))
    with pytest.raises(Forbidden) as exc:
        services.product_update(
            actor=user, obj=product, data={"list_price": Decimal("1")}, version=1
        )
    assert "list_price" in exc.value.fields
    services.product_update(actor=user, obj=product, data={"name": "可以"}, version=1)


def test_product_copy_is_a_draft_with_a_new_code(manager):
    original = ProductFactory(
        code="FW-001", cost=Decimal("40.00"), specification="金牌", unit="次"
    )
    copy = services.product_copy(actor=manager, product=original, code="FW-002")
    copy.refresh_from_db()
    assert copy.pk != original.pk
    assert copy.code == "FW-002"
    assert copy.status == Product.Status.DRAFT
    assert (copy.name, copy.specification, copy.unit, copy.cost) == (
        original.name,
        "金牌",
        "次",
        Decimal("40.00"),
    )
    assert copy.owner == manager
    assert events_for(copy).get().note == "copy of FW-001"


def test_product_copy_keeps_the_cost_the_actor_cannot_see(clerk):
    original = ProductFactory(cost=Decimal("40.00"))
    copy = services.product_copy(actor=clerk, product=original, code="NEW-1")
    copy.refresh_from_db()
    assert copy.cost == Decimal("40.00")


def test_product_copy_needs_a_free_code(manager):
    original = ProductFactory(code="FW-001")
    for code in ["fw-001", ""]:
        with pytest.raises(Invalid) as exc:
            services.product_copy(actor=manager, product=original, code=code)
        assert "code" in exc.value.fields
    assert Product.objects.count() == 1


def test_a_product_in_a_price_list_cannot_be_deleted():
    """Products are discontinued, never deleted: price lists keep referring to them."""
    item = PriceListItemFactory()
    with pytest.raises(ProtectedError):
        item.product.delete()


# Price lists


def test_pricelist_create_is_audited(manager):
    price_list = services.pricelist_create(
        actor=manager, data={"name": "2026年经销商价", "notes": "经销商"}
    )
    assert price_list.owner == manager
    assert events_for(price_list).get().action == AuditEvent.Action.CREATE


@pytest.mark.parametrize("name", ["2026年经销商价", "  2026年经销商价 "])
def test_pricelist_name_is_unique(manager, name):
    PriceListFactory(name="2026年经销商价")
    with pytest.raises(Invalid) as exc:
        services.pricelist_create(actor=manager, data={"name": name})
    assert "name" in exc.value.fields


def test_pricelist_name_is_unique_whatever_its_case(manager):
    PriceListFactory(name="Dealer 2026")
    with pytest.raises(Invalid) as exc:
        services.pricelist_create(actor=manager, data={"name": "DEALER 2026"})
    assert "name" in exc.value.fields


def test_pricelist_validity_end_is_not_before_its_start(manager):
    import datetime

    start, end = datetime.date(2026, 7, 1), datetime.date(2026, 6, 30)
    with pytest.raises(Invalid) as exc:
        services.pricelist_create(
            actor=manager, data={"name": "X", "valid_from": start, "valid_to": end}
        )
    assert "valid_to" in exc.value.fields
    # A partial update is checked against the stored start date.
    price_list = PriceListFactory(valid_from=start)
    with pytest.raises(Invalid) as exc:
        services.pricelist_update(
            actor=manager, obj=price_list, data={"valid_to": end}, version=1
        )
    assert "valid_to" in exc.value.fields
    services.pricelist_update(
        actor=manager, obj=price_list, data={"valid_to": start}, version=1
    )


def test_pricelist_update_with_a_stale_version_is_a_conflict(manager):
    price_list = PriceListFactory()
    services.pricelist_update(
        actor=manager, obj=price_list, data={"notes": "一"}, version=1
    )
    with pytest.raises(Conflict):
        services.pricelist_update(
            actor=manager, obj=price_list, data={"notes": "二"}, version=1
        )


def test_set_change_and_remove_a_price_are_audited(manager):
    """Y7: the price list's history shows each price set, changed and removed."""
    price_list = PriceListFactory()
    product = ProductFactory(code="CGQ-007")

    item = services.pricelist_set_price(
        actor=manager, price_list=price_list, product=product, price=Decimal("88.888")
    )
    assert item.price == Decimal("88.89")
    services.pricelist_set_price(
        actor=manager, price_list=price_list, product=product, price=Decimal("80")
    )
    assert PriceListItem.objects.get().price == Decimal("80.00")
    services.pricelist_remove_price(
        actor=manager, item=PriceListItem.objects.get(pk=item.pk)
    )
    assert not PriceListItem.objects.exists()

    events = list(events_for(price_list).order_by("id"))
    assert [e.note for e in events] == ["price set", "price set", "price removed"]
    assert [e.changes for e in events] == [
        {"CGQ-007 ≥ 1": [None, "88.89"]},
        {"CGQ-007 ≥ 1": ["88.89", "80.00"]},
        {"CGQ-007 ≥ 1": ["80.00", None]},
    ]
    assert all(e.actor == manager for e in events)


def test_prices_per_minimum_quantity_are_separate_lines(manager):
    price_list = PriceListFactory()
    product = ProductFactory()
    for quantity, price in [(1, "100"), (10, "90"), (Decimal("10.000"), "85")]:
        services.pricelist_set_price(
            actor=manager,
            price_list=price_list,
            product=product,
            price=Decimal(price),
            min_quantity=quantity,
        )
    lines = dict(
        PriceListItem.objects.values_list("min_quantity", "price").order_by(
            "min_quantity"
        )
    )
    assert lines == {Decimal("1"): Decimal("100"), Decimal("10"): Decimal("85")}


@pytest.mark.parametrize(
    ("field", "values"),
    [("price", {"price": Decimal("-1")}), ("min_quantity", {"min_quantity": -1})],
)
def test_set_price_refuses_negative_values(manager, field, values):
    arguments = {"price": Decimal("1"), "min_quantity": 1, **values}
    with pytest.raises(Invalid) as exc:
        services.pricelist_set_price(
            actor=manager,
            price_list=PriceListFactory(),
            product=ProductFactory(),
            **arguments,
        )
    assert field in exc.value.fields
    assert not PriceListItem.objects.exists()


def test_price_writes_need_permission(make_user):
    user = make_user(*VIEW)
    price_list = PriceListFactory()
    with pytest.raises(Forbidden):
        services.pricelist_create(actor=user, data={"name": "X"})
    with pytest.raises(Forbidden):
        services.pricelist_update(
            actor=user, obj=price_list, data={"name": "Y"}, version=1
        )
    with pytest.raises(Forbidden):
        services.pricelist_set_price(
            actor=user, price_list=price_list, product=ProductFactory(), price=1
        )
    with pytest.raises(Forbidden):
        services.pricelist_remove_price(
            actor=user, item=PriceListItemFactory(price_list=price_list)
        )
    assert PriceList.objects.get(pk=price_list.pk).name == price_list.name
