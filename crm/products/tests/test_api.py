"""Y6 product API (X2): same rules, permissions, scope and field rights as the UI."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.core.models import AuditEvent
from crm.core.scopes import DataScope
from crm.products.models import Category, PriceList, PriceListItem, Product
from crm.products.tests.conftest import EDIT, VIEW
from crm.products.tests.factories import (
    CategoryFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/products/"
CATEGORIES = "/api/v1/products/categories/"
PRICE_LISTS = "/api/v1/products/price-lists/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def codes(response):
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


# Product list and detail


def test_product_list_filters_search_sort_and_paginates(manager):
    """X1/X2: q, sort, category (its subtree), type and status, like the UI list."""
    top = CategoryFactory()
    leaf = CategoryFactory(parent=top)
    ProductFactory(code="A", category=leaf, list_price=300, name="伺服电机")
    ProductFactory(code="B", category=top, list_price=100, type="training")
    ProductFactory(code="C", list_price=200, status="inactive")
    client = api(manager)

    assert codes(client.get(PRODUCTS)) == ["A", "B", "C"]
    assert codes(client.get(PRODUCTS, {"q": "伺服"})) == ["A"]
    assert codes(client.get(PRODUCTS, {"sort": "-list_price"})) == ["A", "C", "B"]
    assert codes(client.get(PRODUCTS, {"category": top.pk})) == ["A", "B"]
    assert codes(client.get(PRODUCTS, {"type": "training"})) == ["B"]
    assert codes(client.get(PRODUCTS, {"status": "inactive"})) == ["C"]
    page = client.get(PRODUCTS, {"page_size": 2}).json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (
        3,
        2,
        True,
    )


@pytest.mark.parametrize(
    ("fixture", "sees_cost"), [("manager", True), ("clerk", False)]
)
def test_cost_in_list_and_detail_only_with_view_cost(request, fixture, sees_cost):
    """Y5/Y6: cost is in the API only for holders of products.view_cost."""
    user = request.getfixturevalue(fixture)
    product = ProductFactory(cost=Decimal("4321.98"))
    client = api(user)
    row = client.get(PRODUCTS).json()["results"][0]
    detail = client.get(f"{PRODUCTS}{product.pk}/").json()
    assert ("cost" in row) is sees_cost
    assert ("cost" in detail) is sees_cost
    if sees_cost:
        assert Decimal(detail["cost"]) == Decimal("4321.98")
    assert "4321.98" not in str(row) or sees_cost


def test_product_outside_the_scope_is_not_found(org, make_user):
    """Y5: another rep's product answers 404 for a user with scope "own", for every verb."""
    user = make_user(*EDIT, scope=DataScope.OWN)
    theirs = ProductFactory(owner=org.rep_c)
    client = api(user)
    url = f"{PRODUCTS}{theirs.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"name": "X", "version": 1}).status_code == 404
    assert client.post(f"{url}copy/", {"code": "Z"}).status_code == 404
    assert codes(client.get(PRODUCTS)) == []


def test_reading_products_needs_the_view_permission(make_user):
    product = ProductFactory()
    client = api(make_user("products.view_category"))
    assert client.get(PRODUCTS).status_code == 403
    assert client.get(f"{PRODUCTS}{product.pk}/").status_code == 403


# Product create and update


def create_body(category, **overrides):
    body = {
        "code": "KZQ-001",
        "name": "PLC可编程控制器",
        "category": category.pk,
        "type": "own",
        "unit": "台",
        "list_price": "3280.125",
        "cost": "1890",
    }
    return {**body, **overrides}


@pytest.mark.parametrize(
    ("fixture", "sees_cost"), [("manager", True), ("clerk", False)]
)
def test_product_create(request, fixture, sees_cost):
    user = request.getfixturevalue(fixture)
    response = api(user).post(PRODUCTS, create_body(CategoryFactory()), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert Decimal(body["list_price"]) == Decimal("3280.13")  # product decimal places
    assert ("cost" in body) is sees_cost
    product = Product.objects.get(code="KZQ-001")
    # Without view_cost the cost sent is ignored, as the field is not theirs to set.
    assert product.cost == (Decimal("1890") if sees_cost else Decimal("0"))
    assert AuditEvent.objects.filter(
        object_id=str(product.pk), action="create"
    ).exists()


@pytest.mark.parametrize("code", ["KZQ-001", "kzq-001"])
def test_duplicate_code_is_a_field_error_not_a_500(manager, code):
    ProductFactory(code="KZQ-001")
    response = api(manager).post(
        PRODUCTS, create_body(CategoryFactory(), code=code), format="json"
    )
    assert response.status_code == 400
    assert "code" in response.json()["fields"]


@pytest.mark.parametrize("field", ["list_price", "cost"])
def test_negative_price_is_a_field_error(manager, field):
    response = api(manager).post(
        PRODUCTS, create_body(CategoryFactory(), **{field: "-1"}), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_product_create_needs_permission(make_user):
    response = api(make_user(*VIEW)).post(
        PRODUCTS, create_body(CategoryFactory()), format="json"
    )
    assert response.status_code == 403
    assert not Product.objects.exists()


def test_product_update_with_version(manager):
    product = ProductFactory(name="旧名")
    client = api(manager)
    url = f"{PRODUCTS}{product.pk}/"
    response = client.patch(url, {"name": "新名", "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert "cost" in response.json()
    stale = client.patch(url, {"name": "再改", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    product.refresh_from_db()
    assert product.name == "新名"


def test_product_update_response_hides_cost_without_view_cost(clerk):
    product = ProductFactory()
    response = api(clerk).patch(
        f"{PRODUCTS}{product.pk}/", {"name": "新名", "version": 1}, format="json"
    )
    assert response.status_code == 200
    assert "cost" not in response.json()


def test_readonly_list_price_is_honoured(make_user):
    """Y5: a role's read-only list_price cannot be changed through the API."""
    user = make_user(
        *EDIT, field_rights={"products.product": {"list_price": "readonly"}}
    )
    product = ProductFactory(list_price=Decimal("100.00"))
    response = api(user).patch(
        f"{PRODUCTS}{product.pk}/",
        {"list_price": "1.00", "name": "改名", "version": 1},
        format="json",
    )
    assert response.status_code == 200
    assert Decimal(response.json()["list_price"]) == Decimal("100.00")
    product.refresh_from_db()
    assert (product.list_price, product.name) == (Decimal("100.00"), "改名")


def test_products_cannot_be_deleted(manager):
    """Y6: products are discontinued (status inactive), never deleted."""
    product = ProductFactory()
    response = api(manager).delete(f"{PRODUCTS}{product.pk}/")
    assert response.status_code == 405
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_copy(manager):
    product = ProductFactory(code="FW-001")
    client = api(manager)
    response = client.post(f"{PRODUCTS}{product.pk}/copy/", {"code": "FW-002"})
    assert response.status_code == 201
    assert (response.json()["code"], response.json()["status"]) == ("FW-002", "draft")
    again = client.post(f"{PRODUCTS}{product.pk}/copy/", {"code": "fw-002"})
    assert again.status_code == 400
    assert "code" in again.json()["fields"]


# Categories


def test_category_create_rename_move(manager):
    client = api(manager)
    root = client.post(CATEGORIES, {"name": "智能装备"}, format="json").json()
    child = client.post(
        CATEGORIES, {"name": "控制器", "parent": root["id"]}, format="json"
    ).json()
    assert child["path"] == f"/{root['id']}/{child['id']}/"
    other = CategoryFactory()

    renamed = client.patch(f"{CATEGORIES}{child['id']}/", {"name": "工业控制器"})
    assert renamed.json()["name"] == "工业控制器"
    moved = client.patch(
        f"{CATEGORIES}{root['id']}/", {"parent": other.pk}, format="json"
    )
    assert moved.status_code == 200
    assert Category.objects.get(pk=child["id"]).path == (
        f"{other.path}{root['id']}/{child['id']}/"
    )
    listing = client.get(CATEGORIES).json()
    assert {c["id"] for c in listing} == {root["id"], child["id"], other.pk}


def test_category_move_under_its_descendant_is_a_field_error(manager):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    response = api(manager).patch(
        f"{CATEGORIES}{root.pk}/", {"parent": child.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]


def test_category_deactivate_action(manager):
    busy = CategoryFactory()
    ProductFactory(category=busy)
    idle = CategoryFactory()
    client = api(manager)
    refused = client.post(f"{CATEGORIES}{busy.pk}/deactivate/")
    assert refused.status_code == 400
    done = client.post(f"{CATEGORIES}{idle.pk}/deactivate/")
    assert done.status_code == 200
    assert done.json()["is_active"] is False
    back = client.post(f"{CATEGORIES}{idle.pk}/activate/")
    assert back.json()["is_active"] is True


def test_category_writes_and_reads_need_permission(make_user):
    category = CategoryFactory()
    viewer = api(make_user("products.view_category"))
    assert viewer.get(CATEGORIES).status_code == 200
    assert viewer.post(CATEGORIES, {"name": "X"}).status_code == 403
    assert viewer.patch(f"{CATEGORIES}{category.pk}/", {"name": "X"}).status_code == 403
    assert viewer.post(f"{CATEGORIES}{category.pk}/deactivate/").status_code == 403
    stranger = api(make_user("products.view_product"))
    assert stranger.get(CATEGORIES).status_code == 403
    assert api(make_user()).get(f"{CATEGORIES}{category.pk}/").status_code == 403
    assert viewer.get(f"{CATEGORIES}999999/").status_code == 404


# Price lists


def test_price_list_list_retrieve_and_items(manager):
    price_list = PriceListFactory(name="2026年经销商价")
    PriceListItemFactory.create_batch(3, price_list=price_list)
    client = api(manager)
    names = [p["name"] for p in client.get(PRICE_LISTS).json()["results"]]
    assert names == ["2026年经销商价"]
    assert client.get(f"{PRICE_LISTS}{price_list.pk}/").json()["version"] == 1
    items = client.get(f"{PRICE_LISTS}{price_list.pk}/items/", {"page_size": 2})
    assert items.status_code == 200
    assert items.json()["count"] == 3
    assert len(items.json()["results"]) == 2


def test_price_list_create_and_its_rules(manager):
    client = api(manager)
    created = client.post(PRICE_LISTS, {"name": "大客户价"}, format="json")
    assert created.status_code == 201
    duplicate = client.post(PRICE_LISTS, {"name": "大客户价"}, format="json")
    assert duplicate.status_code == 400
    assert "name" in duplicate.json()["fields"]
    dates = client.post(
        PRICE_LISTS,
        {"name": "夏季", "valid_from": "2026-07-01", "valid_to": "2026-06-01"},
        format="json",
    )
    assert dates.status_code == 400
    assert "valid_to" in dates.json()["fields"]


def test_price_list_update_with_a_stale_version_is_409(manager):
    price_list = PriceListFactory()
    client = api(manager)
    url = f"{PRICE_LISTS}{price_list.pk}/"
    assert client.patch(url, {"notes": "一", "version": 1}).status_code == 200
    stale = client.patch(url, {"notes": "二", "version": 1})
    assert stale.status_code == 409
    assert PriceList.objects.get(pk=price_list.pk).notes == "一"


def test_set_a_price(manager):
    price_list = PriceListFactory()
    product = ProductFactory(code="CGQ-1")
    url = f"{PRICE_LISTS}{price_list.pk}/prices/"
    client = api(manager)
    response = client.post(
        url, {"product": product.pk, "price": "88.888", "min_quantity": "10"}
    )
    assert response.status_code == 200, response.content
    assert Decimal(response.json()["price"]) == Decimal("88.89")
    assert response.json()["product_code"] == "CGQ-1"
    item = PriceListItem.objects.get()
    assert (item.price, item.min_quantity) == (Decimal("88.89"), Decimal("10"))
    negative = client.post(url, {"product": product.pk, "price": "-1"})
    assert negative.status_code == 400
    assert "price" in negative.json()["fields"]


def test_set_a_price_for_a_product_outside_the_scope_is_a_field_error(org, make_user):
    user = make_user(*EDIT, scope=DataScope.OWN)
    price_list = PriceListFactory(owner=user)
    theirs = ProductFactory(owner=org.rep_c)
    response = api(user).post(
        f"{PRICE_LISTS}{price_list.pk}/prices/", {"product": theirs.pk, "price": "1"}
    )
    assert response.status_code == 400
    assert "product" in response.json()["fields"]
    assert not PriceListItem.objects.exists()


def test_price_list_outside_the_scope_is_not_found(org, make_user):
    user = make_user(*EDIT, scope=DataScope.OWN)
    theirs = PriceListFactory(owner=org.rep_c)
    mine = ProductFactory(owner=user)
    client = api(user)
    url = f"{PRICE_LISTS}{theirs.pk}/"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}items/").status_code == 404
    assert client.patch(url, {"notes": "X", "version": 1}).status_code == 404
    assert (
        client.post(f"{url}prices/", {"product": mine.pk, "price": "1"}).status_code
        == 404
    )


def test_price_list_writes_need_permission(make_user):
    price_list = PriceListFactory()
    product = ProductFactory()
    client = api(make_user(*VIEW))
    assert client.post(PRICE_LISTS, {"name": "X"}).status_code == 403
    assert (
        client.patch(f"{PRICE_LISTS}{price_list.pk}/", {"notes": "X", "version": 1})
    ).status_code == 403
    response = client.post(
        f"{PRICE_LISTS}{price_list.pk}/prices/", {"product": product.pk, "price": "1"}
    )
    assert response.status_code == 403
    assert not PriceListItem.objects.exists()
