"""S9: the analysis page and the API endpoints give the same numbers (the page's context
is compared with the JSON, section by section), inside the caller's scope; bad filters
are 400, a missing permission 403."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory, make_role
from crm.sales.tests import analysis_data

pytestmark = pytest.mark.usefixtures("english")
API = "/api/v1/sales/analysis/"
SECTIONS = {
    "summary": "summary/",
    "funnel": "funnel/",
    "win_rate": "win-rate/",
    "forecast": "forecast/",
    "rankings": "rankings/",
    "trend": "trend/",
    "breakdowns": "breakdowns/",
    "leads": "leads/",
}


@pytest.fixture
def data(sales_org):
    return analysis_data.build(sales_org)


def same(page, api, path="") -> None:
    """The page's Python values and the API's JSON hold the same numbers."""
    if isinstance(page, dict):
        assert isinstance(api, dict), path
        assert set(page) == set(api), path
        for key in page:
            same(page[key], api[key], f"{path}.{key}")
    elif isinstance(page, list):
        assert isinstance(api, list), path
        assert len(page) == len(api), path
        for i, (p, a) in enumerate(zip(page, api, strict=True)):
            same(p, a, f"{path}[{i}]")
    elif isinstance(page, Decimal):
        assert Decimal(api) == page, path
    elif isinstance(page, datetime.date):
        assert api == page.isoformat(), path
    else:
        assert api == page, path


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("admin", {"year": "2026"}),
        ("manager", {"year": "2026"}),
        ("rep_a", {"date_from": "2026-01-01", "date_to": "2026-03-31"}),
        ("manager", {"department": "east_office", "year": "2026"}),
        ("admin", {"owner": "rep_c", "date_from": "2025-12-01"}),
    ],
)
def test_api_answers_the_numbers_of_the_page(sales_org, data, client_for, who, params):
    params = {
        k: str(getattr(sales_org, v).pk) if hasattr(sales_org, v) else v
        for k, v in params.items()
    }
    client = client_for(getattr(sales_org, who))
    page = client.get(reverse("sales:analysis"), params)
    assert page.status_code == 200
    context = page.context["analysis"]
    api = client.get(API, params)
    assert api.status_code == 200
    same(context, api.json())
    for key, path in SECTIONS.items():
        part = client.get(API + path, params)
        assert part.status_code == 200, key
        same(context[key], part.json(), key)


def test_the_page_draws_from_the_same_numbers(sales_org, data, client_for):
    response = client_for(sales_org.admin).get(reverse("sales:analysis"))
    html = response.content.decode()
    assert 'id="sales-analysis-data"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert "cdn" not in html.lower()
    for chart in ("trend", "funnel", "forecast", "win_rate", "region", "category"):
        assert f'data-sales-chart="{chart}"' in html
    assert "17,800.75" in html  # the orders of 2026


def test_rep_sees_only_their_own_numbers(sales_org, data, client_for):
    rep = client_for(sales_org.rep_a).get(API, {"year": "2026"}).json()
    assert Decimal(rep["summary"]["orders_amount"]) == Decimal("3800.75")
    assert {r["id"] for r in rep["rankings"]["by_orders"]} == {sales_org.rep_a.pk}
    manager = client_for(sales_org.manager).get(API, {"year": "2026"}).json()
    assert Decimal(manager["summary"]["orders_amount"]) == Decimal("7800.75")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"department": "south"}, "department"),
        ({"owner": "rep_c"}, "owner"),
        ({"department": "abc"}, "department"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_from": "2026-05-01", "date_to": "2026-01-01"}, "date_to"),
        ({"year": "99999"}, "year"),
    ],
)
def test_bad_filters_are_400_naming_the_filter(
    sales_org, data, client_for, params, field
):
    params = {
        k: str(getattr(sales_org, v).pk) if hasattr(sales_org, v) else v
        for k, v in params.items()
    }
    client = client_for(sales_org.manager)
    response = client.get(API, params)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert client.get(API + "funnel/", params).status_code == 400
    page = client.get(reverse("sales:analysis"), params)
    assert page.status_code == 400
    assert field in page.context["form"].errors


def test_permissions(sales_org, data, client_for):
    nobody = client_for(UserFactory(department=sales_org.east))
    assert nobody.get(API).status_code == 403
    assert nobody.get(API + "funnel/").status_code == 403
    assert nobody.get(reverse("sales:analysis")).status_code == 403
    pipeline_only = UserFactory(
        department=sales_org.east,
        roles=[make_role("只看商机", "sales.view_opportunity", scope=DataScope.ALL)],
    )
    client = client_for(pipeline_only)
    body = client.get(API).json()
    assert body["summary"]["orders_amount"] is None
    assert body["rankings"]["by_orders"] is None
    assert body["trend"] is None
    assert body["leads"] is None
    assert client.get(API + "trend/").status_code == 403
    assert client.get(API + "leads/").status_code == 403
    assert client.get(reverse("sales:analysis")).status_code == 200


def test_anonymous_api_is_refused(db, client):
    assert client.get(API).status_code in (401, 403)
