"""Y5 data scopes: a matrix of scopes × records, checked through every way out of the system.

Each product below has a cost that is a distinct power of two, so any sum tells exactly which
rows went into it. The expected set for each scope is computed here from the organisation
chart, independently of crm.core.scopes.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from openpyxl import load_workbook

from crm.core.scopes import DataScope
from crm.core.tests import pages
from crm.org.models import User
from crm.org.tests.factories import UserFactory, make_role
from crm.products.models import Product

pytestmark = pytest.mark.usefixtures("english")

READ_PERMS = (
    "products.view_product",
    "products.view_cost",
    "core.export_data",
)


@pytest.fixture
def catalogue(org, make_product):
    """Products owned across the organisation (see crm/conftest.py for the chart)."""
    cost = iter(Decimal(2**i) for i in range(20))
    return {
        "manager": make_product(org.manager, cost=next(cost)),
        "rep_a": make_product(org.rep_a, cost=next(cost)),
        "rep_b": make_product(org.rep_b, cost=next(cost)),
        "rep_c": make_product(org.rep_c, cost=next(cost)),
        "admin": make_product(org.admin, cost=next(cost)),
        # owned by rep_c (south) but booked to the east branch
        "rep_c_in_east": make_product(org.rep_c, department=org.east, cost=next(cost)),
        # nobody's, booked to the east office
        "unowned_office": make_product(
            None, department=org.east_office, cost=next(cost)
        ),
    }


def expected(scope: str, org, products: dict) -> set[str]:
    """Codes the manager may see under `scope`, from the organisation chart."""
    team = {
        org.manager.pk,
        org.rep_a.pk,
        org.rep_b.pk,
    }  # manager supervises rep_a, rep_b
    rules = {
        DataScope.OWN: lambda p: p.owner_id == org.manager.pk,
        DataScope.SUBORDINATES: lambda p: p.owner_id in team,
        DataScope.DEPARTMENT: lambda p: p.department_id == org.east.pk,
        DataScope.DEPARTMENT_TREE: lambda p: (
            p.department_id in {org.east.pk, org.east_office.pk}
        ),
        DataScope.ALL: lambda p: True,
    }
    return {p.code for p in products.values() if rules[scope](p)}


SCOPES = [s.value for s in DataScope]


@pytest.fixture(params=SCOPES)
def case(request, org, catalogue, client_for):
    """The manager with one role granting `scope` on products; what they should see."""
    scope = request.param
    role = make_role(f"scope {scope}", *READ_PERMS, products=scope)
    org.manager.groups.set([role])
    manager = User.objects.get(pk=org.manager.pk)
    codes = expected(scope, org, catalogue)
    return type(
        "Case",
        (),
        dict(
            scope=scope,
            user=manager,
            client=client_for(manager),
            codes=codes,
            inside=[p for p in catalogue.values() if p.code in codes],
            outside=[p for p in catalogue.values() if p.code not in codes],
            products=catalogue,
        ),
    )


def test_the_matrix_is_not_trivial(org, catalogue):
    """Every scope sees a different set, so a wrong scope cannot pass by accident."""
    sets = [frozenset(expected(s, org, catalogue)) for s in SCOPES]
    assert len(set(sets)) == len(SCOPES)
    assert all(sets)


def codes_in(response) -> set[str]:
    return set(pages.product_codes(response))


def record_count(response) -> int:
    return int(pages.record_count(response).split()[0])


def test_list_page(case):
    response = case.client.get("/products/", {"size": 100})
    assert response.status_code == 200
    assert codes_in(response) == case.codes
    assert record_count(response) == len(case.codes)


def test_list_page_search(case):
    """Searching all products still finds only those in scope."""
    response = case.client.get("/products/", {"q": "测试产品", "size": 100})
    assert codes_in(response) == case.codes
    assert record_count(response) == len(case.codes)


def test_detail_pages(case):
    for product in case.inside:
        assert case.client.get(f"/products/{product.pk}/").status_code == 200
    for product in case.outside:
        response = case.client.get(f"/products/{product.pk}/")
        assert response.status_code == 404, product.code
        assert product.name not in response.content.decode()


def test_edit_page_outside_scope_is_404(case, org):
    role = make_role(
        "editor", *READ_PERMS, "products.change_product", products=case.scope
    )
    case.user.groups.set([role])
    for product in case.outside:
        assert case.client.get(f"/products/{product.pk}/edit/").status_code == 404


def test_api_list(case):
    response = case.client.get("/api/v1/products/products/", {"page_size": 200})
    assert response.status_code == 200
    body = response.json()
    assert {row["code"] for row in body["results"]} == case.codes
    assert body["count"] == len(case.codes)


def test_api_list_search(case):
    response = case.client.get("/api/v1/products/products/", {"q": "测试产品"})
    assert {row["code"] for row in response.json()["results"]} == case.codes


def test_api_detail(case):
    for product in case.inside:
        response = case.client.get(f"/api/v1/products/products/{product.pk}/")
        assert response.status_code == 200
        assert response.json()["code"] == product.code
    for product in case.outside:
        response = case.client.get(f"/api/v1/products/products/{product.pk}/")
        assert response.status_code == 404, product.code
        assert response.json()["code"] == "not_found"


def test_api_update_outside_scope_is_404(case):
    role = make_role(
        "editor", *READ_PERMS, "products.change_product", products=case.scope
    )
    case.user.groups.set([role])
    for product in case.outside:
        response = case.client.patch(
            f"/api/v1/products/products/{product.pk}/",
            {"name": "改名", "version": product.version},
            content_type="application/json",
        )
        assert response.status_code == 404
        product.refresh_from_db()
        assert product.name != "改名"


def exported_codes_csv(response) -> set[str]:
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    code_col = rows[0].index("product code")
    return {row[code_col] for row in rows[1:]}


def exported_codes_xlsx(response) -> set[str]:
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    code_col = rows[0].index("product code")
    return {row[code_col] for row in rows[1:]}


def test_export_csv(case):
    response = case.client.get("/export/products.product/", {"format": "csv"})
    assert response.status_code == 200
    assert exported_codes_csv(response) == case.codes


def test_export_xlsx(case):
    response = case.client.get("/export/products.product/", {"format": "xlsx"})
    assert response.status_code == 200
    assert exported_codes_xlsx(response) == case.codes


def test_aggregates(case):
    """Sums and counts over the scoped queryset: outside rows never contribute."""
    totals = Product.objects.visible_to(case.user).aggregate(
        cost=Sum("cost"), n=Count("pk")
    )
    assert totals["n"] == len(case.codes)
    assert totals["cost"] == sum(p.cost for p in case.inside)


def test_grouped_totals(case):
    """Group-by totals leak in other CRMs; here every group only sums visible rows."""
    grouped = {
        row["department"]: (row["cost"], row["n"])
        for row in Product.objects.visible_to(case.user)
        .values("department")
        .annotate(cost=Sum("cost"), n=Count("pk"))
    }
    wanted: dict = {}
    for product in case.inside:
        cost, n = wanted.get(product.department_id, (Decimal(0), 0))
        wanted[product.department_id] = (cost + product.cost, n + 1)
    assert grouped == wanted


def test_two_roles_give_the_union(org, catalogue, client_for):
    """Y5: with several roles the widest applies: here neither role alone covers both rows."""
    team = make_role("team", *READ_PERMS, products=DataScope.SUBORDINATES)
    dept = make_role("dept", *READ_PERMS, products=DataScope.DEPARTMENT)
    org.manager.groups.set([team, dept])
    manager = User.objects.get(pk=org.manager.pk)
    codes = expected(DataScope.SUBORDINATES, org, catalogue) | expected(
        DataScope.DEPARTMENT, org, catalogue
    )
    assert catalogue["rep_b"].code in codes  # via the team only
    assert catalogue["rep_c_in_east"].code in codes  # via the department only

    client = client_for(manager)
    page = client.get("/products/", {"size": 100})
    api = client.get("/api/v1/products/products/", {"page_size": 200}).json()
    exported = exported_codes_csv(
        client.get("/export/products.product/", {"format": "csv"})
    )

    assert codes_in(page) == codes
    assert {row["code"] for row in api["results"]} == codes
    assert exported == codes
    assert set(Product.objects.visible_to(manager).values_list("code", flat=True)) == (
        codes
    )


def test_widest_role_wins_over_a_narrow_one(org, catalogue, client_for):
    narrow = make_role("own", *READ_PERMS, products=DataScope.OWN)
    wide = make_role("all", *READ_PERMS, products=DataScope.ALL)
    org.manager.groups.set([narrow, wide])
    client = client_for(User.objects.get(pk=org.manager.pk))
    page = client.get("/products/", {"size": 100})
    assert codes_in(page) == {p.code for p in catalogue.values()}


def test_no_role_sees_nothing(org, catalogue, client_for):
    nobody = UserFactory(department=org.east)
    client = client_for(nobody)

    assert Product.objects.visible_to(nobody).count() == 0
    assert client.get("/products/").status_code == 403
    assert client.get(f"/products/{catalogue['manager'].pk}/").status_code == 403
    assert client.get("/export/products.product/", {"format": "csv"}).status_code == (
        403
    )
    assert client.get("/api/v1/products/products/").status_code == 403
    response = client.get(f"/api/v1/products/products/{catalogue['manager'].pk}/")
    assert response.status_code == 403


def test_role_with_scope_but_no_view_permission_gets_403(org, catalogue, client_for):
    """Data scope alone grants nothing: reading needs the functional permission."""
    role = make_role("scope only", "core.export_data", products=DataScope.ALL)
    org.rep_a.groups.set([role])
    client = client_for(org.rep_a)
    assert client.get("/products/").status_code == 403
    assert client.get("/api/v1/products/products/").status_code == 403
    assert client.get("/export/products.product/", {"format": "csv"}).status_code == (
        403
    )


def test_export_needs_the_export_permission(org, catalogue, client_for):
    role = make_role("reader", "products.view_product", products=DataScope.ALL)
    org.rep_a.groups.set([role])
    client = client_for(org.rep_a)
    assert client.get("/products/").status_code == 200
    assert client.get("/export/products.product/", {"format": "csv"}).status_code == (
        403
    )
    assert b"/export/products.product/" not in client.get("/products/").content


def test_inactive_user_sees_nothing(org, catalogue):
    role = make_role("all", *READ_PERMS, products=DataScope.ALL)
    org.rep_a.groups.set([role])
    org.rep_a.is_active = False
    org.rep_a.save()
    user = User.objects.get(pk=org.rep_a.pk)
    assert Product.objects.visible_to(user).count() == 0
