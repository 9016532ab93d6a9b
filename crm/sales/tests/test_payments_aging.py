"""S6 receivables and aging: buckets at their boundaries, sums, filters, data scope,
page, export and API."""

import datetime
import io
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.org.tests.factories import make_role
from crm.sales.selectors.payments import receivable_aging
from crm.sales.tests.payments_fixtures import (
    customer_of,
    make_contract,
    make_instalment,
    receivable,
)

pytestmark = pytest.mark.usefixtures("english")

TODAY = datetime.date(2026, 5, 20)
# Days overdue → the bucket it falls in. Amounts are distinct powers of two, so a sum
# tells exactly which instalments went into it.
CASES = [
    (-5, "not_due"),
    (0, "not_due"),  # due today: not overdue yet
    (1, "days_1_30"),
    (30, "days_1_30"),
    (31, "days_31_60"),
    (60, "days_31_60"),
    (61, "days_61_90"),
    (90, "days_61_90"),
    (91, "days_over_90"),
    (400, "days_over_90"),
]


def _aging(user, today=TODAY, **params):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = value
    data = receivable_aging(actor=user, params=query, today=today)
    return list(data["rows"]), data["totals"]


@pytest.fixture
def book(sales_org):
    """rep_a's customer with one instalment per boundary case; a partly paid one; a
    paid one, a not-yet-open one; rep_b's and rep_c's customers."""
    rep = sales_org.rep_a
    customer = customer_of(rep, name="甲客户")
    contract = make_contract(rep, customer)
    expected = dict.fromkeys(
        ("not_due", "days_1_30", "days_31_60", "days_61_90", "days_over_90"),
        Decimal(0),
    )
    for index, (overdue, bucket) in enumerate(CASES):
        amount = Decimal(2**index)
        make_instalment(
            contract,
            amount,
            sequence=index + 1,
            due_on=TODAY - datetime.timedelta(days=overdue),
        )
        expected[bucket] += amount
    # 45 days overdue, 3000 of 5000 received: 2000 in 31–60.
    make_instalment(
        contract,
        "5000",
        sequence=20,
        due_on=TODAY - datetime.timedelta(days=45),
        received="3000",
    )
    expected["days_31_60"] += Decimal(2000)
    make_instalment(contract, "7777", sequence=21, due_on=TODAY, received="7777")
    make_instalment(contract, "8888", sequence=22, due_on=TODAY, is_open=False)
    receivable(
        sales_org.rep_b,
        "100000",
        due_on=TODAY - datetime.timedelta(days=10),
    )
    receivable(
        sales_org.rep_c,
        "200000",
        due_on=TODAY - datetime.timedelta(days=10),
    )
    return type("Book", (), {"customer": customer, "expected": expected})


def test_buckets_at_their_boundaries_add_up_to_hand_computed_sums(book, sales_org):
    rows, totals = _aging(sales_org.rep_a)

    assert len(rows) == 1
    row = rows[0]
    assert row["customer"] == book.customer.pk
    for bucket, amount in book.expected.items():
        assert row[bucket] == amount, bucket
    # 1+2 | 4+8 | 16+32+2000 | 64+128 | 256+512
    assert book.expected == {
        "not_due": Decimal(3),
        "days_1_30": Decimal(12),
        "days_31_60": Decimal(2048),
        "days_61_90": Decimal(192),
        "days_over_90": Decimal(768),
    }
    assert row["total"] == sum(book.expected.values())
    assert totals == {k: v for k, v in row.items() if not k.startswith("customer")}


def test_one_day_later_every_boundary_moves_one_bucket_on(book, sales_org):
    rows, _totals = _aging(sales_org.rep_a, today=TODAY + datetime.timedelta(days=1))
    row = rows[0]
    # 0 → 1 day (1–30), 30 → 31, 60 → 61, 90 → 91; -5 stays not due.
    assert row["not_due"] == Decimal(1)
    assert row["days_1_30"] == Decimal(2 + 4)
    assert row["days_31_60"] == Decimal(8 + 16 + 2000)
    assert row["days_61_90"] == Decimal(32 + 64)
    assert row["days_over_90"] == Decimal(128 + 256 + 512)


def test_aging_is_in_the_viewers_scope(book, sales_org):
    manager_rows, manager_totals = _aging(sales_org.manager)
    # rep_a's and rep_b's customers, not rep_c's
    assert len(manager_rows) == 2
    assert "甲客户" in {r["customer__name"] for r in manager_rows}
    assert manager_totals["total"] == sum(book.expected.values()) + 100000
    rep_c_rows, rep_c_totals = _aging(sales_org.rep_c)
    assert [r["total"] for r in rep_c_rows] == [Decimal(200000)]
    assert rep_c_totals["days_1_30"] == Decimal(200000)


def test_aging_filters_and_search(book, sales_org):
    manager = sales_org.manager
    rows, totals = _aging(manager, owner=str(sales_org.rep_b.pk))
    assert totals["total"] == Decimal(100000)
    rows, totals = _aging(manager, q="甲客户")
    assert [r["customer__name"] for r in rows] == ["甲客户"]
    rows, _totals = _aging(manager, sort="customer__name")
    names = [r["customer__name"] for r in rows]
    assert names == sorted(names)


def test_aging_page_export_and_api_show_the_same_numbers(book, sales_org, client_for):
    sales_org.manager.groups.add(make_role("导出", "core.export_data"))
    client = client_for(sales_org.manager)
    today_total = _aging(sales_org.manager, today=timezone.localdate())[1]["total"]

    page = client.get(reverse("sales:aging"))
    assert page.status_code == 200
    assert "甲客户" in page.content.decode()
    assert f"{today_total:,.2f}" in page.content.decode()

    export = client.get(
        reverse("core:export", args=["sales.aging"]), {"format": "xlsx"}
    )
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    header, *lines = list(sheet.values)
    assert "total outstanding" in [str(h).lower() for h in header]
    assert len(lines) == 2
    assert sum(Decimal(str(line[-1])) for line in lines) == today_total

    api = client.get("/api/v1/sales/receivables/aging/")
    assert api.status_code == 200
    body = api.json()
    assert Decimal(body["totals"]["total"]) == today_total
    assert {r["customer_name"] for r in body["results"]} >= {"甲客户"}
    assert body["count"] == 2


def test_rep_c_sees_no_east_customer_on_the_page_export_or_api(
    book, sales_org, client_for
):
    sales_org.rep_c.groups.add(make_role("导出", "core.export_data"))
    client = client_for(sales_org.rep_c)
    assert "甲客户" not in client.get(reverse("sales:aging")).content.decode()
    export = client.get(reverse("core:export", args=["sales.aging"]), {"format": "csv"})
    assert "甲客户" not in export.content.decode("utf-8-sig")
    body = client.get("/api/v1/sales/receivables/aging/").json()
    assert [Decimal(r["total"]) for r in body["results"]] == [Decimal(200000)]


def test_aging_needs_the_instalment_view_permission(sales_org, client_for):
    from crm.org.tests.factories import UserFactory

    outsider = UserFactory(department=sales_org.east)
    client = client_for(outsider)
    assert client.get(reverse("sales:aging")).status_code == 403
    assert client.get("/api/v1/sales/receivables/aging/").status_code == 403


def test_a_bad_aging_filter_is_refused_by_the_api(sales_org, client_for):
    client = client_for(sales_org.manager)
    response = client.get("/api/v1/sales/receivables/aging/", {"customer": "abc"})
    assert response.status_code == 400
    assert "customer" in response.json()["fields"]


# The receivables list


def test_receivables_list_open_instalments_with_money_outstanding(
    book, sales_org, client_for
):
    client = client_for(sales_org.rep_a)
    page = client.get(reverse("sales:receivables"), {"size": 100})
    assert page.status_code == 200
    text = page.content.decode()
    assert "7,777" not in text  # paid
    assert "8,888" not in text  # not a receivable yet
    assert "100,000" not in text  # rep_b's
    assert len(page.context["rows"]) == len(CASES) + 1


def test_receivables_filters(sales_org, client_for):
    rep = sales_org.rep_a
    today = timezone.localdate()
    overdue = receivable(rep, "101", due_on=today - datetime.timedelta(days=1))
    soon = receivable(rep, "102", due_on=today + datetime.timedelta(days=5))
    later = receivable(rep, "103", due_on=today + datetime.timedelta(days=40))
    client = client_for(rep)

    def listed(**params):
        page = client.get(reverse("sales:receivables"), params)
        return {row["obj"].pk for row in page.context["rows"]}

    assert listed() == {overdue.pk, soon.pk, later.pk}
    assert listed(overdue="true") == {overdue.pk}
    assert listed(due_within="7") == {soon.pk}
    assert listed(customer=str(soon.customer_id)) == {soon.pk}


def test_receivables_api_lists_only_the_callers(book, sales_org, client_for):
    body = client_for(sales_org.rep_b).get("/api/v1/sales/receivables/").json()
    assert [Decimal(r["outstanding"]) for r in body["results"]] == [Decimal(100000)]
    other = book.customer.instalments.first()
    response = client_for(sales_org.rep_b).get(f"/api/v1/sales/receivables/{other.pk}/")
    assert response.status_code == 404


def test_the_receivables_export_holds_only_the_callers_rows(
    book, sales_org, client_for
):
    sales_org.rep_b.groups.add(make_role("导出", "core.export_data"))
    export = client_for(sales_org.rep_b).get(
        reverse("core:export", args=["sales.receivable"]), {"format": "csv"}
    )
    text = export.content.decode("utf-8-sig")
    assert export.status_code == 200
    assert len(text.strip().splitlines()) == 2  # the header and rep_b's one row
    assert "甲客户" not in text
