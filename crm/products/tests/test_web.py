"""Y6 catalogue pages: wiring, status codes, cost visibility (Y5), history (Y7)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.core.scopes import DataScope
from crm.products import services
from crm.products.models import Category, PriceList, PriceListItem, Product
from crm.products.tests.conftest import EDIT, VIEW
from crm.products.tests.factories import (
    CategoryFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

COST = Decimal("987.65")  # a value that reads the same with or without separators


def column_names(response):
    return [c.name for c in response.context["columns"]]


# Product list


def test_product_list_page(client_for, manager):
    ProductFactory(code="KZQ-001", name="PLC可编程控制器", cost=COST)
    response = client_for(manager).get(reverse("products:product-list"))
    assert response.status_code == 200
    assert "core/list.html" in [t.name for t in response.templates]
    assert "KZQ-001" in response.text
    assert "cost" in column_names(response)
    assert "987.65" in response.text


def test_product_list_hides_cost_without_view_cost(client_for, clerk):
    ProductFactory(code="KZQ-001", cost=COST)
    response = client_for(clerk).get(reverse("products:product-list"))
    assert response.status_code == 200
    assert "cost" not in column_names(response)
    assert "987.65" not in response.text


def test_product_list_filters_by_category_subtree_and_searches(client_for, manager):
    top = CategoryFactory(name="智能装备")
    leaf = CategoryFactory(name="传感器", parent=top)
    ProductFactory(code="IN-LEAF", category=leaf, name="温湿度传感器")
    ProductFactory(code="IN-TOP", category=top)
    ProductFactory(code="ELSEWHERE")
    client = client_for(manager)
    url = reverse("products:product-list")
    by_category = client.get(url, {"category": top.pk})
    assert [r["obj"].code for r in by_category.context["rows"]] == ["IN-LEAF", "IN-TOP"]
    searched = client.get(url, {"q": "温湿度"})
    assert [r["obj"].code for r in searched.context["rows"]] == ["IN-LEAF"]
    partial = client.get(url, {"q": "温湿度"}, headers={"HX-Request": "true"})
    assert "core/_list_results.html" in [t.name for t in partial.templates]
    assert "core/list.html" not in [t.name for t in partial.templates]


def test_product_list_needs_the_view_permission(client_for, make_user):
    response = client_for(make_user("products.view_category")).get(
        reverse("products:product-list")
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "spec_url", ["products:product-list", "products:pricelist-list"]
)
def test_list_pages_cost_constant_queries(client_for, manager, spec_url):
    """A list page costs the same number of queries for 2 rows as for 25 (no N+1)."""
    client = client_for(manager)
    url = reverse(spec_url)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        PriceListItemFactory()
    client.get(url)  # warm caches (parameters, content types)
    few = queries()
    for _ in range(23):
        PriceListItemFactory()
    assert queries() == few


# Exports


@pytest.mark.parametrize(
    ("fixture", "sees_cost"), [("manager", True), ("clerk", False)]
)
def test_product_export_shows_cost_only_with_view_cost(
    client_for, request, fixture, sees_cost
):
    user = request.getfixturevalue(fixture)
    ProductFactory(code="KZQ-001", cost=COST, list_price=Decimal("1234.50"))
    response = client_for(user).get(
        reverse("core:export", args=["products.product"]), {"format": "csv"}
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "KZQ-001" in text
    assert ("987.65" in text) is sees_cost


def test_price_list_export(client_for, manager):
    PriceListFactory(name="2026年经销商价")
    response = client_for(manager).get(
        reverse("core:export", args=["products.pricelist"]), {"format": "csv"}
    )
    assert response.status_code == 200
    assert "2026年经销商价" in response.content.decode("utf-8-sig")


# Product detail and history


@pytest.fixture
def edited_product(manager):
    """A product whose cost was changed once, so its history holds cost values."""
    product = services.product_create(
        actor=manager,
        data={
            "code": "KZQ-001",
            "name": "PLC可编程控制器",
            "category": CategoryFactory(),
            "list_price": Decimal("1234.50"),
            "cost": Decimal("555.44"),
        },
    )
    return services.product_update(
        actor=manager, obj=product, data={"cost": COST}, version=1
    )


@pytest.mark.parametrize(
    ("fixture", "sees_cost"), [("manager", True), ("clerk", False)]
)
def test_detail_and_history_show_cost_only_with_view_cost(
    client_for, request, edited_product, fixture, sees_cost
):
    """Y5/Y7: the details and the history tab hide cost without products.view_cost."""
    user = request.getfixturevalue(fixture)
    response = client_for(user).get(
        reverse("products:product-detail", args=[edited_product.pk])
    )
    assert response.status_code == 200
    assert "products/product_detail.html" in [t.name for t in response.templates]
    history = response.context["history"]
    assert len(history) == 2
    assert any("cost" in e.visible_changes for e in history) is sees_cost
    assert ("987.65" in response.text) is sees_cost
    assert ("555.44" in response.text) is sees_cost
    assert "1234.50" in response.text or "1,234.50" in response.text


def test_product_detail_outside_the_scope_is_404(client_for, org, make_user):
    user = make_user(*EDIT, scope=DataScope.OWN)
    theirs = ProductFactory(owner=org.rep_c)
    client = client_for(user)
    for name in ["products:product-detail", "products:product-edit"]:
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    response = client.post(reverse("products:product-copy", args=[theirs.pk]))
    assert response.status_code == 404
    assert Product.objects.count() == 1


def test_product_prices_tab_lists_only_visible_price_lists(client_for, org, make_user):
    user = make_user(*VIEW, scope=DataScope.OWN)
    product = ProductFactory(owner=user)
    PriceListItemFactory(product=product, price_list=PriceListFactory(owner=user))
    PriceListItemFactory(product=product, price_list=PriceListFactory(owner=org.rep_c))
    response = client_for(user).get(
        reverse("products:product-detail", args=[product.pk])
    )
    assert len(response.context["prices"]) == 1


# Product form


def form_data(category, **overrides):
    data = {
        "code": "KZQ-009",
        "name": "运动控制器",
        "category": category.pk,
        "type": "own",
        "specification": "8轴",
        "unit": "台",
        "list_price": "26000",
        "cost": "15000",
        "status": "active",
        "description": "",
    }
    return {**data, **overrides}


def test_product_create_form(client_for, manager):
    client = client_for(manager)
    url = reverse("products:product-create")
    assert client.get(url).status_code == 200
    response = client.post(url, form_data(CategoryFactory()))
    product = Product.objects.get(code="KZQ-009")
    assert response.status_code == 302
    assert response.url == reverse("products:product-detail", args=[product.pk])
    assert product.cost == Decimal("15000")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "kzq-001"}, "code"),
        ({"list_price": "-1"}, "list_price"),
        ({"cost": "-0.5"}, "cost"),
    ],
)
def test_product_form_rules_are_field_errors(client_for, manager, overrides, field):
    ProductFactory(code="KZQ-001")
    response = client_for(manager).post(
        reverse("products:product-create"), form_data(CategoryFactory(), **overrides)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Product.objects.count() == 1


def test_product_form_has_no_cost_without_view_cost(client_for, clerk):
    client = client_for(clerk)
    response = client.get(reverse("products:product-create"))
    assert "cost" not in response.context["form"].fields
    created = client.post(
        reverse("products:product-create"), form_data(CategoryFactory())
    )
    assert created.status_code == 302
    assert Product.objects.get().cost == Decimal("0")


def test_product_form_honours_readonly_list_price(client_for, make_user):
    user = make_user(
        *EDIT, field_rights={"products.product": {"list_price": "readonly"}}
    )
    product = ProductFactory(code="KZQ-009", list_price=Decimal("100.00"))
    client = client_for(user)
    url = reverse("products:product-edit", args=[product.pk])
    assert client.get(url).context["form"].fields["list_price"].disabled
    data = form_data(product.category, list_price="1", name="改名", version=1)
    data.pop("cost")
    response = client.post(url, data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.list_price, product.name) == (Decimal("100.00"), "改名")


def test_product_edit_with_a_stale_version_is_409(client_for, manager):
    product = ProductFactory(code="KZQ-009")
    client = client_for(manager)
    url = reverse("products:product-edit", args=[product.pk])
    data = form_data(product.category, version=1)
    assert client.post(url, {**data, "name": "一"}).status_code == 302
    stale = client.post(url, {**data, "name": "二"})
    assert stale.status_code == 409
    product.refresh_from_db()
    assert product.name == "一"


def test_product_form_needs_permission(client_for, make_user):
    client = client_for(make_user(*VIEW))
    product = ProductFactory()
    assert client.get(reverse("products:product-create")).status_code == 403
    assert (
        client.get(reverse("products:product-edit", args=[product.pk])).status_code
        == 403
    )
    response = client.post(
        reverse("products:product-create"), form_data(CategoryFactory())
    )
    assert response.status_code == 403
    assert Product.objects.count() == 1


def test_product_copy_view(client_for, manager):
    product = ProductFactory(code="FW-001")
    response = client_for(manager).post(
        reverse("products:product-copy", args=[product.pk]), {"code": "FW-002"}
    )
    copy = Product.objects.get(code="FW-002")
    assert response.status_code == 302
    assert response.url == reverse("products:product-detail", args=[copy.pk])
    assert copy.status == Product.Status.DRAFT


def test_product_copy_with_a_taken_code_goes_back_with_a_message(client_for, manager):
    product = ProductFactory(code="FW-001")
    detail = reverse("products:product-detail", args=[product.pk])
    response = client_for(manager).post(
        reverse("products:product-copy", args=[product.pk]),
        {"code": "fw-001"},
        headers={"referer": f"http://testserver{detail}"},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(detail)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Product.objects.count() == 1


# Categories


def test_category_tree_page(client_for, manager):
    top = CategoryFactory(name="智能装备")
    CategoryFactory(name="传感器", parent=top)
    ProductFactory(category=top)
    response = client_for(manager).get(reverse("products:category-tree"))
    assert response.status_code == 200
    assert "products/category_tree.html" in [t.name for t in response.templates]
    (root,) = response.context["tree"]
    assert root["node"].product_count == 1
    assert [c["node"].name for c in root["children"]] == ["传感器"]


def test_category_create_and_move_form(client_for, manager):
    client = client_for(manager)
    top = CategoryFactory(name="智能装备")
    page = client.get(reverse("products:category-create"), {"parent": top.pk})
    assert page.status_code == 200
    assert page.context["form"].initial["parent"] == str(top.pk)
    response = client.post(
        reverse("products:category-create"),
        {"name": "传感器", "parent": top.pk, "code": "", "sort_order": 0},
    )
    assert response.status_code == 302
    child = Category.objects.get(name="传感器")
    assert child.path == f"{top.path}{child.pk}/"
    refused = client.post(
        reverse("products:category-edit", args=[top.pk]),
        {"name": "智能装备", "parent": child.pk, "code": "", "sort_order": 0},
    )
    assert refused.status_code == 400
    assert "parent" in refused.context["form"].errors
    edit = client.get(reverse("products:category-edit", args=[top.pk]))
    choices = set(edit.context["form"].fields["parent"].queryset)
    assert top not in choices
    assert child not in choices


def test_category_deactivate_view(client_for, manager):
    idle = CategoryFactory()
    busy = CategoryFactory()
    ProductFactory(category=busy)
    client = client_for(manager)
    done = client.post(reverse("products:category-deactivate", args=[idle.pk]))
    assert done.status_code == 302
    assert done.url == reverse("products:category-tree")
    idle.refresh_from_db()
    assert idle.is_active is False
    refused = client.post(
        reverse("products:category-deactivate", args=[busy.pk]), follow=True
    )
    assert "error" in [m.level_tag for m in refused.context["messages"]]
    busy.refresh_from_db()
    assert busy.is_active is True
    assert (
        client.get(reverse("products:category-deactivate", args=[idle.pk])).status_code
        == 405
    )
    back = client.post(reverse("products:category-activate", args=[idle.pk]))
    assert back.status_code == 302
    idle.refresh_from_db()
    assert idle.is_active is True


def test_category_pages_need_permission(client_for, make_user):
    category = CategoryFactory()
    client = client_for(make_user("products.view_category"))
    assert client.get(reverse("products:category-tree")).status_code == 200
    assert client.get(reverse("products:category-create")).status_code == 403
    assert (
        client.get(reverse("products:category-edit", args=[category.pk])).status_code
        == 403
    )
    response = client.post(reverse("products:category-deactivate", args=[category.pk]))
    assert response.status_code == 403
    category.refresh_from_db()
    assert category.is_active is True
    stranger = client_for(make_user("products.view_product"))
    assert stranger.get(reverse("products:category-tree")).status_code == 403
    assert stranger.get(reverse("products:category-create")).status_code == 403


# Price lists


def test_price_list_pages(client_for, manager):
    price_list = PriceListFactory(name="2026年经销商价")
    PriceListItemFactory(price_list=price_list)
    client = client_for(manager)
    listing = client.get(reverse("products:pricelist-list"), {"is_active": "true"})
    assert listing.status_code == 200
    assert [r["obj"] for r in listing.context["rows"]] == [price_list]
    detail = client.get(reverse("products:pricelist-detail", args=[price_list.pk]))
    assert detail.status_code == 200
    assert "products/pricelist_detail.html" in [t.name for t in detail.templates]
    assert len(detail.context["items"]) == 1


def test_price_list_form_rules(client_for, manager):
    PriceListFactory(name="大客户价")
    client = client_for(manager)
    url = reverse("products:pricelist-create")
    assert client.get(url).status_code == 200
    base = {"name": "夏季价", "currency": "CNY", "is_active": "on", "notes": ""}
    dates = client.post(
        url, {**base, "valid_from": "2026-07-01", "valid_to": "2026-06-01"}
    )
    assert dates.status_code == 400
    assert "valid_to" in dates.context["form"].errors
    duplicate = client.post(url, {**base, "name": "大客户价"})
    assert duplicate.status_code == 400
    assert "name" in duplicate.context["form"].errors
    created = client.post(url, base)
    assert created.status_code == 302
    price_list = PriceList.objects.get(name="夏季价")
    edit = reverse("products:pricelist-edit", args=[price_list.pk])
    assert client.post(edit, {**base, "notes": "一", "version": 1}).status_code == 302
    assert client.post(edit, {**base, "notes": "二", "version": 1}).status_code == 409


def test_set_and_remove_a_price(client_for, manager):
    price_list = PriceListFactory()
    product = ProductFactory()
    client = client_for(manager)
    url = reverse("products:pricelist-set-price", args=[price_list.pk])
    response = client.post(
        url, {"product": product.pk, "price": "99.999", "min_quantity": "1"}
    )
    assert response.status_code == 302
    item = PriceListItem.objects.get()
    assert item.price == Decimal("100.00")
    detail = client.get(reverse("products:pricelist-detail", args=[price_list.pk]))
    assert [e.note for e in detail.context["history"]] == ["price set"]
    negative = client.post(
        url, {"product": product.pk, "price": "-1", "min_quantity": "5"}, follow=True
    )
    assert [m.level_tag for m in negative.context["messages"]] == ["error"]
    assert PriceListItem.objects.count() == 1
    removed = client.post(
        reverse("products:pricelist-remove-price", args=[price_list.pk, item.pk])
    )
    assert removed.status_code == 302
    assert not PriceListItem.objects.exists()


def test_price_pages_need_permission_and_scope(client_for, org, make_user):
    user = make_user(*VIEW, scope=DataScope.OWN)
    mine = PriceListFactory(owner=user)
    theirs = PriceListFactory(owner=org.rep_c)
    item = PriceListItemFactory(price_list=mine, product=ProductFactory(owner=user))
    client = client_for(user)
    assert client.get(reverse("products:pricelist-create")).status_code == 403
    assert (
        client.get(reverse("products:pricelist-edit", args=[mine.pk])).status_code
        == 403
    )
    set_price = client.post(
        reverse("products:pricelist-set-price", args=[mine.pk]),
        {"product": item.product.pk, "price": "1", "min_quantity": "1"},
    )
    assert set_price.status_code == 403
    remove = client.post(
        reverse("products:pricelist-remove-price", args=[mine.pk, item.pk])
    )
    assert remove.status_code == 403
    assert PriceListItem.objects.get().price == item.price
    assert (
        client.get(reverse("products:pricelist-detail", args=[theirs.pk])).status_code
        == 404
    )
    other_item = PriceListItemFactory(price_list=theirs)
    response = client.post(
        reverse("products:pricelist-remove-price", args=[theirs.pk, other_item.pk])
    )
    assert response.status_code == 404


def test_price_list_page_sorts_and_paginates(client_for, manager):
    for number in range(30):
        PriceListFactory(name=f"价目表{number:02d}")
    client = client_for(manager)
    url = reverse("products:pricelist-list")
    first = client.get(url, {"sort": "-name"})
    names = [r["obj"].name for r in first.context["rows"]]
    assert names[:2] == ["价目表29", "价目表28"]
    assert len(names) == 25
    second = client.get(url, {"sort": "-name", "page": 2})
    assert [r["obj"].name for r in second.context["rows"]] == [
        f"价目表{n:02d}" for n in range(4, -1, -1)
    ]
