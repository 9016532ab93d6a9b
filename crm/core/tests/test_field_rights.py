"""Y5 field rights: a hidden field is gone from pages, API and exports alike; a read-only one
cannot be changed through the form, the API or the service. Cost needs products.view_cost."""

import csv
import io
import re
from decimal import Decimal

import pytest

from crm.core.errors import Forbidden
from crm.core.fieldrights import field_rights
from crm.core.scopes import DataScope
from crm.core.services import record_update
from crm.core.tests import pages
from crm.org.models import User
from crm.org.tests.factories import make_role
from crm.products.models import Product
from crm.products.services import product_update

pytestmark = pytest.mark.usefixtures("english")

LIST_PRICE = Decimal("98765.43")
COST = Decimal("4321.98")
NEW_COST = Decimal("5678.12")
READ = ("products.view_product", "core.export_data")


def _as(org, *codes, field_rights=None):
    role = make_role(
        "tested",
        *codes,
        products=DataScope.ALL,
        field_rights=field_rights,
    )
    org.rep_a.groups.set([role])
    return User.objects.get(pk=org.rep_a.pk)


def _export_csv(client):
    response = client.get("/export/products.product/", {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return rows[0], rows[1:]


@pytest.fixture
def product(org, make_product):
    return make_product(org.manager, list_price=LIST_PRICE, cost=COST)


@pytest.mark.parametrize("mode", ["hidden", "edit"])
def test_role_hiding_list_price(org, product, client_for, mode):
    """A role hiding `list_price` removes it from list, detail, API and export header."""
    user = _as(
        org,
        *READ,
        "products.view_cost",
        field_rights={"products.product": {"list_price": mode}},
    )
    client = client_for(user)
    shown = mode == "edit"

    listing = pages.text(client.get("/products/"))
    detail = pages.text(client.get(f"/products/{product.pk}/"))
    api_list = client.get("/api/v1/products/products/").json()["results"][0]
    api_detail = client.get(f"/api/v1/products/products/{product.pk}/").json()
    header, rows = _export_csv(client)

    assert ("List price" in listing) is shown
    assert ("98765.43" in listing) is shown
    assert ("List price" in detail) is shown
    assert ("98765.43" in detail) is shown
    assert ("list_price" in api_list) is shown
    assert ("list_price" in api_detail) is shown
    assert ("list price" in header) is shown
    assert any("98765.43" in cell for cell in rows[0]) is shown
    # the rest of the record is still there
    assert product.code in listing
    assert "cost" in api_detail


def test_readonly_field_is_disabled_in_the_form(org, product, client_for):
    user = _as(
        org,
        *READ,
        "products.change_product",
        field_rights={"products.product": {"list_price": "readonly"}},
    )
    page = client_for(user).get(f"/products/{product.pk}/edit/")
    assert page.status_code == 200
    html = page.content.decode()
    field = _input(html, "list_price")
    assert field is not None
    assert "disabled" in field
    assert "disabled" not in _input(html, "name")


def _input(html: str, name: str) -> str | None:
    """The opening <input> tag of the field called `name`."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    return match.group(0) if match else None


def test_readonly_field_ignores_a_posted_form_value(org, product, client_for):
    user = _as(
        org,
        *READ,
        "products.change_product",
        "products.view_cost",
        field_rights={"products.product": {"list_price": "readonly"}},
    )
    response = client_for(user).post(
        f"/products/{product.pk}/edit/",
        {
            "code": product.code,
            "name": "新名称",
            "category": product.category_id,
            "type": product.type,
            "unit": product.unit,
            "list_price": "1.00",
            "cost": str(product.cost),
            "status": product.status,
            "version": product.version,
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "新名称"
    assert product.list_price == LIST_PRICE


def test_readonly_field_is_read_only_in_the_api(org, product, client_for):
    user = _as(
        org,
        *READ,
        "products.change_product",
        "products.view_cost",
        field_rights={"products.product": {"list_price": "readonly"}},
    )
    response = client_for(user).patch(
        f"/api/v1/products/products/{product.pk}/",
        {"list_price": "1.00", "name": "新名称", "version": product.version},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Decimal(response.json()["list_price"]) == LIST_PRICE
    product.refresh_from_db()
    assert product.list_price == LIST_PRICE
    assert product.name == "新名称"


def test_readonly_field_is_refused_by_the_service(org, product):
    user = _as(
        org,
        *READ,
        "products.change_product",
        "products.view_cost",
        field_rights={"products.product": {"list_price": "readonly"}},
    )
    with pytest.raises(Forbidden) as refused:
        product_update(
            actor=user,
            obj=product,
            data={"list_price": Decimal("1.00")},
            version=product.version,
        )
    assert "list_price" in refused.value.fields
    product.refresh_from_db()
    assert product.list_price == LIST_PRICE
    assert product.version == 1


def test_the_service_accepts_an_unchanged_readonly_value(org, product):
    user = _as(
        org,
        *READ,
        "products.change_product",
        "products.view_cost",
        field_rights={"products.product": {"list_price": "readonly"}},
    )
    saved = product_update(
        actor=user,
        obj=product,
        data={"list_price": LIST_PRICE, "name": "新名称"},
        version=product.version,
    )
    assert saved.name == "新名称"


def test_widest_field_right_wins(org, product):
    hides = make_role(
        "hides",
        *READ,
        products=DataScope.ALL,
        field_rights={"products.product": {"list_price": "hidden"}},
    )
    shows = make_role("shows", *READ, products=DataScope.ALL)
    org.rep_a.groups.set([hides, shows])
    user = User.objects.get(pk=org.rep_a.pk)
    assert "list_price" not in field_rights(user, Product).hidden


@pytest.fixture
def costed(org, product):
    """The product's cost changed once, so its history holds a cost change."""
    return record_update(
        actor=org.admin,
        obj=product,
        data={"cost": NEW_COST},
        perm="products.change_product",
        version=product.version,
    )


@pytest.mark.parametrize("view_cost", [False, True])
def test_cost_needs_view_cost_everywhere(org, costed, client_for, view_cost):
    """Cost is hidden without products.view_cost: list, detail, history, API, export."""
    codes = (*READ, "products.view_cost") if view_cost else READ
    client = client_for(_as(org, *codes))

    listing = pages.text(client.get("/products/"))
    detail_page = client.get(f"/products/{costed.pk}/")
    detail = pages.text(detail_page)
    history = pages.section(detail_page, 'id="tab-history"')
    api_list = client.get("/api/v1/products/products/").json()["results"][0]
    api_detail = client.get(f"/api/v1/products/products/{costed.pk}/").json()
    header, rows = _export_csv(client)

    assert ("5678.12" in listing) is view_cost
    assert ("5678.12" in detail) is view_cost
    # the history tab: the old cost appears only in the recorded change
    assert ("4321.98" in history) is view_cost
    assert ("Cost" in history) is view_cost
    assert "Updated" in history
    assert ("cost" in api_list) is view_cost
    assert ("cost" in api_detail) is view_cost
    assert ("cost" in header) is view_cost
    assert any("5678.12" in cell for cell in rows[0]) is view_cost
    # the rest is visible either way
    assert "98765.43" in detail
    assert "list_price" in api_detail


def test_cost_cannot_be_set_without_view_cost(org, product):
    user = _as(org, *READ, "products.change_product")
    with pytest.raises(Forbidden):
        product_update(
            actor=user, obj=product, data={"cost": Decimal(1)}, version=product.version
        )
    product.refresh_from_db()
    assert product.cost == COST


def test_cost_is_not_in_the_form_without_view_cost(org, product, client_for):
    user = _as(org, *READ, "products.change_product")
    html = client_for(user).get(f"/products/{product.pk}/edit/").content.decode()
    assert _input(html, "cost") is None
    assert _input(html, "name") is not None


def _catalogue(org, make_product):
    return [
        make_product(org.manager, list_price=Decimal(50), cost=Decimal(9)),
        make_product(org.manager, list_price=Decimal(150), cost=Decimal(1)),
        make_product(org.manager, list_price=Decimal(250), cost=Decimal(5)),
    ]


@pytest.mark.parametrize("mode", ["hidden", "edit"])
def test_a_hidden_field_cannot_be_filtered_on(org, make_product, client_for, mode):
    """Y5: "price from 100" on a hidden list price would tell the price; it is ignored."""
    _catalogue(org, make_product)
    user = _as(org, *READ, field_rights={"products.product": {"list_price": mode}})
    client = client_for(user)
    wanted = ["P-0002", "P-0003"] if mode == "edit" else ["P-0001", "P-0002", "P-0003"]

    page = client.get("/products/", {"min_price": "100"})
    api = client.get("/api/v1/products/products/", {"min_price": "100"}).json()

    assert pages.product_codes(page) == wanted
    assert sorted(row["code"] for row in api["results"]) == wanted


@pytest.mark.parametrize("view_cost", [False, True])
def test_a_hidden_field_cannot_be_sorted_on(org, make_product, client_for, view_cost):
    _catalogue(org, make_product)
    codes = (*READ, "products.view_cost") if view_cost else READ
    client = client_for(_as(org, *codes))
    by_cost = ["P-0002", "P-0003", "P-0001"]
    by_code = ["P-0001", "P-0002", "P-0003"]

    page = client.get("/products/", {"sort": "cost"})
    api = client.get("/api/v1/products/products/", {"sort": "cost"}).json()

    wanted = by_cost if view_cost else by_code
    assert pages.product_codes(page) == wanted
    assert [row["code"] for row in api["results"]] == wanted


@pytest.mark.parametrize("mode", ["hidden", "edit"])
def test_a_hidden_field_is_not_searched(org, make_product, client_for, mode):
    """Searching for a value of a hidden field finds nothing: it would tell the value."""
    make_product(org.manager, specification="IP67")
    make_product(org.manager, specification="IP54")
    user = _as(org, *READ, field_rights={"products.product": {"specification": mode}})
    client = client_for(user)
    wanted = ["P-0001"] if mode == "edit" else []

    page = client.get("/products/", {"q": "IP67"})
    api = client.get("/api/v1/products/products/", {"q": "IP67"}).json()

    assert pages.product_codes(page) == wanted
    assert [row["code"] for row in api["results"]] == wanted
