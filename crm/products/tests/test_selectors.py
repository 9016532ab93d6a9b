"""Y6 catalogue reads: scope (Y5), list filters (X1), prices for a quantity."""

from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from crm.core.errors import NotFound
from crm.core.lists import REGISTRY
from crm.core.scopes import DataScope
from crm.products.models import Product
from crm.products.selectors import (
    category_tree_with_counts,
    price_for,
    pricelist_get,
    pricelist_items,
    product_get,
    product_price_items,
)
from crm.products.tests.conftest import VIEW
from crm.products.tests.factories import (
    CategoryFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)

PRODUCTS = REGISTRY["products.product"]
PRICE_LISTS = REGISTRY["products.pricelist"]

pytestmark = pytest.mark.django_db


def codes(user, **params):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = value
    qs, _filterset = PRODUCTS.queryset(user, query)
    return [p.code for p in qs]


# Data scope (Y5): products are domain "products"


@pytest.fixture
def owned(org):
    """One product per employee of the shared organisation."""
    return {
        name: ProductFactory(
            code=name,
            owner=getattr(org, name),
            department=getattr(org, name).department,
        )
        for name in ["manager", "rep_a", "rep_b", "rep_c"]
    }


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (DataScope.OWN, {"manager"}),
        (DataScope.SUBORDINATES, {"manager", "rep_a", "rep_b"}),
        (DataScope.DEPARTMENT, {"manager", "rep_a"}),
        (DataScope.DEPARTMENT_TREE, {"manager", "rep_a", "rep_b"}),
        (DataScope.ALL, {"manager", "rep_a", "rep_b", "rep_c"}),
    ],
)
def test_product_scope_matrix(org, owned, scope, expected):
    """Y5: the manager of the east branch sees exactly the products his scope grants."""
    from crm.org.tests.factories import make_role

    org.manager.groups.set([make_role("看产品", *VIEW, scope=scope)])
    assert set(codes(org.manager)) == expected
    for name, product in owned.items():
        if name in expected:
            assert product_get(actor=org.manager, pk=product.pk) == product
        else:
            with pytest.raises(NotFound):
                product_get(actor=org.manager, pk=product.pk)


def test_no_role_sees_no_product(org, owned):
    assert codes(org.rep_c) == []


def test_price_lists_and_their_lines_follow_the_scope(org, make_user):
    """A price list outside the scope is not found; lines of hidden products are left out."""
    user = make_user(*VIEW, scope=DataScope.OWN, department=org.south)
    mine = PriceListFactory(owner=user)
    theirs = PriceListFactory(owner=org.rep_a)
    my_product = ProductFactory(owner=user)
    their_product = ProductFactory(owner=org.rep_a)
    PriceListItemFactory(price_list=mine, product=my_product)
    PriceListItemFactory(price_list=mine, product=their_product)
    PriceListItemFactory(price_list=theirs, product=my_product)

    assert pricelist_get(actor=user, pk=mine.pk) == mine
    with pytest.raises(NotFound):
        pricelist_get(actor=user, pk=theirs.pk)
    assert [i.product for i in pricelist_items(actor=user, price_list=mine)] == [
        my_product
    ]
    assert [
        i.price_list for i in product_price_items(actor=user, product=my_product)
    ] == [mine]
    qs, _ = PRICE_LISTS.queryset(user, QueryDict())
    assert list(qs) == [mine]


def test_category_counts_only_visible_products(org, make_user):
    user = make_user(*VIEW, scope=DataScope.OWN)
    category = CategoryFactory()
    ProductFactory(category=category, owner=user)
    ProductFactory(category=category, owner=org.rep_c)
    counts = {c.pk: c.product_count for c in category_tree_with_counts(actor=user)}
    assert counts[category.pk] == 1


# Search, filters, sort (X1)


def test_category_filter_includes_the_whole_subtree(manager):
    """Y6: filtering by a category lists the products of all its descendants too."""
    top = CategoryFactory(name="智能装备")
    middle = CategoryFactory(name="控制器", parent=top)
    leaf = CategoryFactory(name="PLC", parent=middle)
    sibling = CategoryFactory(name="耗材")
    ProductFactory(code="TOP", category=top)
    ProductFactory(code="MID", category=middle)
    ProductFactory(code="LEAF", category=leaf)
    ProductFactory(code="OTHER", category=sibling)
    assert codes(manager, category=top.pk) == ["LEAF", "MID", "TOP"]
    assert codes(manager, category=middle.pk) == ["LEAF", "MID"]
    assert codes(manager, category=leaf.pk) == ["LEAF"]


def test_search_type_status_and_price_filters(manager):
    ProductFactory(
        code="KZQ-1", name="运动控制器", type=Product.Type.OWN, list_price=100
    )
    ProductFactory(
        code="PX-1",
        name="PLC编程培训",
        type=Product.Type.TRAINING,
        list_price=2000,
        specification="高级",
    )
    ProductFactory(code="FW-1", name="维保", status=Product.Status.INACTIVE)
    assert codes(manager, q="控制") == ["KZQ-1"]
    assert codes(manager, q="高级") == ["PX-1"]
    assert codes(manager, q="kzq") == ["KZQ-1"]
    assert codes(manager, type="training") == ["PX-1"]
    assert codes(manager, status="inactive") == ["FW-1"]
    assert codes(manager, min_price="500") == ["PX-1"]
    assert codes(manager, max_price="150") == ["FW-1", "KZQ-1"]


def test_sort_by_price_and_by_cost(manager):
    ProductFactory(code="A", list_price=300, cost=10)
    ProductFactory(code="B", list_price=100, cost=30)
    ProductFactory(code="C", list_price=200, cost=20)
    assert codes(manager) == ["A", "B", "C"]
    assert codes(manager, sort="list_price") == ["B", "C", "A"]
    assert codes(manager, sort="-list_price") == ["A", "C", "B"]
    assert codes(manager, sort="-cost") == ["B", "C", "A"]


def test_sorting_by_cost_is_ignored_without_view_cost(clerk):
    """Y5: the order of rows would reveal the hidden cost."""
    ProductFactory(code="A", cost=10)
    ProductFactory(code="B", cost=30)
    ProductFactory(code="C", cost=20)
    assert codes(clerk, sort="-cost") == ["A", "B", "C"]


def test_price_filter_is_ignored_when_list_price_is_hidden(make_user):
    user = make_user(*VIEW, field_rights={"products.product": {"list_price": "hidden"}})
    ProductFactory(code="CHEAP", list_price=10)
    ProductFactory(code="DEAR", list_price=1000)
    assert codes(user, min_price="500") == ["CHEAP", "DEAR"]


def test_pricelist_filters(manager):
    import datetime

    PriceListFactory(name="旧价", is_active=False)
    PriceListFactory(
        name="夏季价",
        valid_from=datetime.date(2026, 6, 1),
        valid_to=datetime.date(2026, 8, 31),
    )
    PriceListFactory(name="标准价")

    def names(**params):
        query = QueryDict(mutable=True)
        query.update(params)
        return [p.name for p in PRICE_LISTS.queryset(manager, query)[0]]

    assert names(is_active="false") == ["旧价"]
    assert set(names(valid_on="2026-07-01")) == {"旧价", "夏季价", "标准价"}
    assert set(names(valid_on="2026-09-01")) == {"旧价", "标准价"}
    assert names(q="夏季") == ["夏季价"]


# Exports (Y5): cost only with products.view_cost


def test_export_rows_show_cost_only_with_view_cost(manager, clerk):
    ProductFactory(code="X-1", cost=Decimal("4321.98"))
    for user, has_cost in [(manager, True), (clerk, False)]:
        qs, _ = PRODUCTS.queryset(user, QueryDict())
        header, row = list(PRODUCTS.export_rows(user, qs))
        assert (Decimal("4321.980000") in row) is has_cost
        assert len(header) == len(row) == (9 if has_cost else 8)


# Queries per page are constant (no N+1)


def test_product_list_page_costs_constant_queries(manager):
    def page_queries():
        qs, _ = PRODUCTS.queryset(manager, QueryDict())
        with CaptureQueriesContext(connection) as ctx:
            page, _paginator = PRODUCTS.paginate(qs, QueryDict("size=100"))
            for product in page:
                [c.value(product) for c in PRODUCTS.columns_for(manager)]
        return len(ctx.captured_queries)

    ProductFactory.create_batch(3)
    few = page_queries()
    ProductFactory.create_batch(40, category=CategoryFactory())
    assert page_queries() == few


# Price for a quantity


@pytest.fixture
def tiers():
    product = ProductFactory(list_price=Decimal("100.00"))
    price_list = PriceListFactory()
    for quantity, price in [("1", "95"), ("10", "90"), ("50", "80")]:
        PriceListItemFactory(
            price_list=price_list,
            product=product,
            min_quantity=Decimal(quantity),
            price=Decimal(price),
        )
    return product, price_list


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("0.5", "100.00"),  # below the smallest minimum: list price
        ("1", "95"),
        ("9.999", "95"),
        ("10", "90"),
        ("49", "90"),
        ("50", "80"),
        ("5000", "80"),
    ],
)
def test_price_for_picks_the_highest_minimum_quantity_reached(
    tiers, quantity, expected
):
    product, price_list = tiers
    price = price_for(
        product=product, price_list=price_list, quantity=Decimal(quantity)
    )
    assert price == Decimal(expected)
    assert isinstance(price, Decimal)


def test_price_for_falls_back_to_the_list_price(tiers):
    product, _price_list = tiers
    other_list = PriceListFactory()
    PriceListItemFactory(price_list=other_list, price=Decimal("1"))  # other product
    assert price_for(product=product, price_list=None) == Decimal("100.00")
    assert price_for(product=product, price_list=other_list) == Decimal("100.00")
