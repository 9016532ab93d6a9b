"""X1 list machinery (ListSpec + ListPageView): capped counts, sort, search, filters, page
size, a constant number of queries per page, and exports safe to open in a spreadsheet."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from crm.core.scopes import DataScope
from crm.core.tests import pages
from crm.org.models import User
from crm.org.tests.factories import make_role
from crm.products.models import Product

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def reader(org):
    role = make_role(
        "reader",
        "products.view_product",
        "products.view_cost",
        "core.export_data",
        products=DataScope.ALL,
    )
    org.rep_a.groups.set([role])
    return User.objects.get(pk=org.rep_a.pk)


@pytest.fixture
def client(reader, client_for):
    return client_for(reader)


codes = pages.product_codes


def test_count_is_capped(client, org, make_product, settings):
    settings.CRM_COUNT_CAP = 5
    for _ in range(8):
        make_product(org.rep_a)
    response = client.get("/products/")
    assert pages.record_count(response) == "More than 5 records"
    assert len(codes(response)) == 8  # the page itself still shows every row


def test_far_past_the_cap_postgresql_tells_about_how_many(
    client, org, make_product, settings
):
    """X6: a list far past the cap shows the planner's estimate, not a count."""
    settings.CRM_COUNT_CAP = 2
    for _ in range(60):
        make_product(org.rep_a)
    if connection.vendor != "postgresql":  # no estimate there: "more than" stays
        assert pages.record_count(client.get("/products/")) == "More than 2 records"
        return
    response = client.get("/products/")
    assert pages.record_count(response) == "More than 2 records"  # not analysed yet
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")
    line = pages.record_count(client.get("/products/"))
    assert line.startswith("About ")
    assert 20 <= int(line.split()[1].replace(",", "")) <= 600


def test_pages_past_the_cap_can_be_opened(client, org, make_product, settings):
    """Counting stops at the cap, browsing does not: rows past it are on later pages."""
    settings.CRM_COUNT_CAP = 30
    for _ in range(60):
        make_product(org.rep_a)
    seen = []
    for number in (1, 2, 3):
        response = client.get("/products/", {"page": number})
        assert pages.record_count(response) == "More than 30 records"
        seen += codes(response)
    assert seen == [f"P-{n:04d}" for n in range(1, 61)]
    assert "page=4" not in response.content.decode()  # the last page has no next
    api = client.get("/api/v1/products/products/", {"page": 3, "page_size": 25})
    assert [r["code"] for r in api.json()["results"]] == [
        f"P-{n:04d}" for n in range(51, 61)
    ]
    assert api.json()["next"] is None


def test_count_under_the_cap_is_exact(client, org, make_product, settings):
    settings.CRM_COUNT_CAP = 5
    for _ in range(5):
        make_product(org.rep_a)
    assert pages.record_count(client.get("/products/")) == "5 records"


def test_api_count_is_capped(client, org, make_product, settings):
    settings.CRM_COUNT_CAP = 5
    for _ in range(8):
        make_product(org.rep_a)
    body = client.get("/api/v1/products/products/").json()
    assert body["count"] == 5
    assert body["count_capped"] is True
    assert len(body["results"]) == 8


def test_sort_by_a_column_both_ways(client, org, make_product):
    make_product(org.rep_a, name="B 控制器", list_price=Decimal(30))
    make_product(org.rep_a, name="C 网关", list_price=Decimal(10))
    make_product(org.rep_a, name="A 传感器", list_price=Decimal(20))

    assert codes(client.get("/products/", {"sort": "name"})) == [
        "P-0003",
        "P-0001",
        "P-0002",
    ]
    assert codes(client.get("/products/", {"sort": "-name"})) == [
        "P-0002",
        "P-0001",
        "P-0003",
    ]
    assert codes(client.get("/products/", {"sort": "list_price"})) == [
        "P-0002",
        "P-0003",
        "P-0001",
    ]
    assert codes(client.get("/products/", {"sort": "-list_price"})) == [
        "P-0001",
        "P-0003",
        "P-0002",
    ]


def test_unknown_or_hidden_sort_falls_back_to_the_default(client, org, make_product):
    for name in ("B", "A", "C"):
        make_product(org.rep_a, name=name)
    default = codes(client.get("/products/"))
    assert default == ["P-0001", "P-0002", "P-0003"]  # by code
    assert codes(client.get("/products/", {"sort": "password"})) == default


def test_search(client, org, make_product):
    make_product(org.rep_a, name="PLC可编程控制器", specification="16点")
    make_product(org.rep_a, name="温湿度传感器", specification="RS485")
    make_product(org.rep_a, name="压力变送器", specification="RS485")

    assert codes(client.get("/products/", {"q": "控制器"})) == ["P-0001"]
    assert codes(client.get("/products/", {"q": "rs485"})) == ["P-0002", "P-0003"]
    assert codes(client.get("/products/", {"q": "P-0003"})) == ["P-0003"]
    nothing = client.get("/products/", {"q": "没有这个"})
    assert codes(nothing) == []
    assert pages.record_count(nothing) == "0 records"


def test_filters(client, org, make_product):
    make_product(org.rep_a, status=Product.Status.ACTIVE, list_price=Decimal(50))
    make_product(org.rep_a, status=Product.Status.INACTIVE, list_price=Decimal(150))
    make_product(org.rep_a, status=Product.Status.ACTIVE, list_price=Decimal(250))

    assert codes(client.get("/products/", {"status": "inactive"})) == ["P-0002"]
    assert codes(client.get("/products/", {"min_price": "100"})) == [
        "P-0002",
        "P-0003",
    ]
    both = client.get("/products/", {"status": "active", "min_price": "100"})
    assert codes(both) == ["P-0003"]


def test_htmx_request_gets_only_the_results(client, org, make_product):
    make_product(org.rep_a)
    response = client.get("/products/", {"q": "P-0001"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert codes(response) == ["P-0001"]
    assert "<html" not in html


def test_page_size_and_pages(client, org, make_product):
    for _ in range(30):
        make_product(org.rep_a)

    first = client.get("/products/")
    assert len(codes(first)) == 25
    assert "page=2" in first.content.decode()  # a link to the next page

    second = client.get("/products/", {"page": 2})
    assert codes(second) == [f"P-{n:04d}" for n in range(26, 31)]

    assert len(codes(client.get("/products/", {"size": 50}))) == 30
    # sizes outside the offered ones fall back to the default
    assert len(codes(client.get("/products/", {"size": 100000}))) == 25
    assert len(codes(client.get("/products/", {"size": "x", "page": "y"}))) == 25


def _queries(client, size: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/products/", {"size": size})
    assert response.status_code == 200
    assert len(codes(response)) == size
    return len(captured.captured_queries)


def test_queries_per_page_do_not_grow_with_the_page_size(
    client, org, make_product, django_assert_max_num_queries
):
    """No N+1: a page of 100 rows costs no more queries than a page of 25."""
    for _ in range(100):
        make_product(org.rep_a)
    _queries(client, 25)  # warm caches shared by every page (content types, params)
    small = _queries(client, 25)
    with django_assert_max_num_queries(small):
        response = client.get("/products/", {"size": 100})
    assert len(codes(response)) == 100


def test_api_queries_do_not_grow_with_the_page_size(
    client, org, make_product, django_assert_max_num_queries
):
    for _ in range(100):
        make_product(org.rep_a)
    client.get("/api/v1/products/products/", {"page_size": 25})
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/products/products/", {"page_size": 25})
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get("/api/v1/products/products/", {"page_size": 100})
    assert len(response.json()["results"]) == 100


INJECTION = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "name", [INJECTION, "+SUM(A1:A9)", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_csv_export_neutralises_formulas(client, org, make_product, name):
    make_product(org.rep_a, name=name, specification="=1+1")
    response = client.get("/export/products.product/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert row[header.index("product name")] == "'" + name
    assert row[header.index("specification")] == "'=1+1"


def test_xlsx_export_neutralises_formulas(client, org, make_product):
    make_product(org.rep_a, name=INJECTION)
    response = client.get("/export/products.product/", {"format": "xlsx"})
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("product name") + 1)
    assert cell.data_type == "s"
    assert cell.value == "'" + INJECTION


def test_export_follows_the_lists_filters(client, org, make_product):
    make_product(org.rep_a, name="控制器")
    make_product(org.rep_a, name="传感器")
    response = client.get(
        "/export/products.product/", {"format": "csv", "q": "控制器", "page": 2}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["P-0001"]
    assert response["Content-Disposition"].startswith("attachment;")


def test_export_in_an_unknown_format_is_refused(client, org, make_product):
    make_product(org.rep_a)
    response = client.get(
        "/export/products.product/",
        {"format": "exe"},
        HTTP_REFERER="http://testserver/products/",
    )
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/products/"
    follow = client.get("/products/").content.decode()
    assert "Unknown export format." in follow


def test_export_of_an_unknown_list_is_404(client):
    assert client.get("/export/no.such/", {"format": "csv"}).status_code == 404
