"""S8 achievement: a target's actual orders and collections, computed in SQL, equal the
sums of the known dataset; employee targets count the employee's own records, department
targets their whole subtree; month, quarter and year boundaries; rounding of the
achievement percentage; a constant number of queries for the list."""

import datetime
from decimal import ROUND_HALF_UP

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.core.lists import REGISTRY
from crm.sales.models import SalesTarget
from crm.sales.selectors.plans import (
    achievement_rate,
    department_achievement,
    period_bounds,
    target_get,
    target_queryset,
)
from crm.sales.tests import analysis_data
from crm.sales.tests.analysis_data import D

pytestmark = pytest.mark.usefixtures("english")
ORDERED = {"confirmed", "completed"}


@pytest.fixture
def data(sales_org):
    return analysis_data.build(sales_org)


def target(subject, period_type="month", year=2026, period=1, **amounts):
    """A target of an employee (a User) or of a department (a Department)."""
    if hasattr(subject, "username"):
        who = {"owner": subject, "department": subject.department}
    else:
        who = {"owner": None, "department": subject}
    return SalesTarget.objects.create(
        period_type=period_type,
        year=year,
        period=period,
        order_target=D(amounts.get("order", "0")),
        collection_target=D(amounts.get("collection", "0")),
        **who,
    )


def in_subtree(record, department):
    return record.department.path.startswith(department.path)


def expected(data, kind, start, end, *, owner=None, department=None):
    """Independent sum: the records of the subject dated in [start, end]."""
    if kind == "order":
        rows = [
            (o, o.ordered_on, o.total)
            for o in data.orders + data.not_ordered
            if o.status in ORDERED
        ]
    else:
        rows = [
            (p, p.received_on, p.amount)
            for p in data.payments + data.voided
            if p.status == "posted"
        ]
    return sum(
        (
            amount
            for record, day, amount in rows
            if start <= day <= end
            and (
                record.owner_id == owner.pk if owner else in_subtree(record, department)
            )
        ),
        D(0),
    )


PERIODS = [
    ("month", 1),
    ("month", 3),
    ("month", 4),
    ("month", 12),
    ("quarter", 1),
    ("quarter", 2),
    ("year", 1),
]


@pytest.mark.parametrize(("period_type", "period"), PERIODS)
@pytest.mark.parametrize("rep", ["rep_a", "rep_b", "rep_c"])
def test_employee_actuals_are_their_own_records_in_the_period(
    sales_org, data, rep, period_type, period
):
    employee = getattr(sales_org, rep)
    made = target(employee, period_type, 2026, period, order="1000")
    got = target_get(actor=sales_org.admin, pk=made.pk)
    start, end = period_bounds(period_type, 2026, period)
    assert got.order_actual == expected(data, "order", start, end, owner=employee)
    assert got.collection_actual == expected(
        data, "collection", start, end, owner=employee
    )


def test_period_boundaries_an_order_of_march_31_is_q1_and_march_not_april(
    sales_org, data
):
    rep = sales_org.rep_a
    march = target(rep, "month", 2026, 3)
    april = target(rep, "month", 2026, 4)
    q1 = target(rep, "quarter", 2026, 1)
    q2 = target(rep, "quarter", 2026, 2)
    year = target(rep, "year", 2026, 1)
    last_year = target(rep, "year", 2025, 1)
    actual = {
        t.pk: (t.order_actual, t.collection_actual)
        for t in target_queryset(actor=sales_org.admin)
    }
    assert actual[march.pk] == (D("2000.50"), D("500.10"))  # both on 3-31
    assert actual[april.pk] == (D("300.25"), D("0"))  # the order of 4-01
    assert actual[q1.pk] == (D("1500.00") + D("2000.50"), D("1000.00") + D("500.10"))
    assert actual[q2.pk] == (D("300.25"), D("0"))
    assert actual[year.pk] == (D("3800.75"), D("1500.10"))
    assert actual[last_year.pk] == (D("0"), D("0"))
    # A draft (2-10), a cancelled order (2-11) and a voided payment (2-02) never count.
    february = target(rep, "month", 2026, 2)
    got = target_get(actor=sales_org.admin, pk=february.pk)
    assert (got.order_actual, got.collection_actual) == (D("0"), D("1000.00"))


@pytest.mark.parametrize("name", ["group", "east", "east_office", "south"])
@pytest.mark.parametrize(("period_type", "period"), PERIODS)
def test_department_actuals_roll_up_the_subtree(
    sales_org, data, name, period_type, period
):
    department = getattr(sales_org, name)
    made = target(department, period_type, 2026, period, order="5000")
    got = target_get(actor=sales_org.admin, pk=made.pk)
    start, end = period_bounds(period_type, 2026, period)
    assert got.order_actual == expected(
        data, "order", start, end, department=department
    )
    assert got.collection_actual == expected(
        data, "collection", start, end, department=department
    )


def test_department_roll_up_known_totals(sales_org, data):
    east = target(sales_org.east, "year", 2026)
    office = target(sales_org.east_office, "year", 2026)
    group = target(sales_org.group, "year", 2026)
    actual = {
        t.pk: (t.order_actual, t.collection_actual)
        for t in target_queryset(actor=sales_org.admin)
    }
    # east = rep_a (east) + rep_b (east's office)
    assert actual[east.pk] == (D("3800.75") + D("4000.00"), D("1500.10") + D("2500"))
    assert actual[office.pk] == (D("4000.00"), D("2500.00"))
    assert actual[group.pk] == (D("17800.75"), D("10000.10"))


@pytest.mark.parametrize(
    ("actual", "goal", "rate"),
    [
        ("2000.50", "32008", "6.3"),  # 6.25 exactly: half up, not half even
        ("1", "3", "33.3"),
        ("2", "3", "66.7"),
        ("150", "100", "150.0"),
        ("0", "100", "0.0"),
        ("100", "0", None),
    ],
)
def test_achievement_rate_rounds_half_up_to_one_decimal(actual, goal, rate):
    assert achievement_rate(D(actual), D(goal)) == (D(rate) if rate else None)
    if rate:
        exact = D(actual) * 100 / D(goal)
        assert achievement_rate(D(actual), D(goal)) == exact.quantize(
            D("0.1"), rounding=ROUND_HALF_UP
        )


def test_list_shows_achievement_and_a_dash_without_target(sales_org, data, client_for):
    target(sales_org.rep_a, "month", 2026, 3, order="32008", collection="0")
    response = client_for(sales_org.rep_a).get(
        reverse("sales:target-list"), {"year": "2026"}
    )
    assert response.status_code == 200
    (row,) = response.context["rows"]
    cells = {col.name: value for col, value in row["cells"]}
    assert cells["order_actual"] == D("2000.50")
    assert cells["order_rate"] == "6.3%"
    assert cells["collection_actual"] == D("500.10")
    assert cells["collection_rate"] is None  # shown as —
    assert "6.3%" in response.content.decode()


def test_list_query_count_does_not_grow_with_targets(sales_org, data, client_for):
    client = client_for(sales_org.admin)
    url = reverse("sales:target-list")
    target(sales_org.rep_a, "month", 2026, 1, order="10")
    client.get(url)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"size": "100"}).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for month in range(2, 13):
        for subject in (sales_org.rep_a, sales_org.rep_b, sales_org.east):
            target(subject, "month", 2026, month, order="10", collection="5")
    assert SalesTarget.objects.count() == 34
    assert count() == few


def test_export_carries_the_achievement(sales_org, data):
    target(sales_org.rep_a, "quarter", 2026, 1, order="7001", collection="3000.20")
    spec = REGISTRY["sales.salestarget"]
    qs, _filters = spec.queryset(sales_org.admin, {})
    columns = spec.columns_for(sales_org.admin)
    row = dict(
        zip([c.name for c in columns], [c.value(qs[0]) for c in columns], strict=True)
    )
    assert row["order_actual"] == D("3500.50")
    assert row["order_rate"] == "50.0%"
    assert row["collection_rate"] == "50.0%"


# Department view


def test_department_view_rolls_up_and_sums_the_employees_targets(sales_org, data):
    target(sales_org.east, "quarter", 2026, 1, order="9000", collection="4000")
    target(sales_org.east_office, "quarter", 2026, 1, order="3000")
    target(sales_org.rep_a, "quarter", 2026, 1, order="5000", collection="1000")
    target(sales_org.rep_b, "quarter", 2026, 1, order="2500", collection="1500")
    target(sales_org.rep_c, "quarter", 2026, 1, order="9999")
    target(sales_org.rep_a, "month", 2026, 1, order="777")  # another period
    rows = {
        row["id"]: row
        for row in department_achievement(
            actor=sales_org.manager, period_type="quarter", year=2026, period=1
        )
    }
    # The manager plans for the east subtree only.
    assert set(rows) == {sales_org.east.pk, sales_org.east_office.pk}
    east, office = rows[sales_org.east.pk], rows[sales_org.east_office.pk]
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
    assert east["order_target"] == D("9000")
    assert east["order_employee_targets"] == D("5000") + D("2500")
    assert east["collection_employee_targets"] == D("1000") + D("1500")
    assert east["order_actual"] == expected(
        data, "order", start, end, department=sales_org.east
    )
    assert east["order_actual"] == D("3500.50") + D("4000.00")
    assert east["order_rate"] == achievement_rate(east["order_actual"], D("9000"))
    assert east["collection_actual"] == D("1500.10")
    assert office["order_target"] == D("3000")
    assert office["order_employee_targets"] == D("2500")
    assert office["order_actual"] == D("4000.00")
    assert office["order_rate"] == D("133.3")
    assert office["collection_target"] == D("0")
    assert office["collection_rate"] is None
    everything = {
        row["id"]: row
        for row in department_achievement(
            actor=sales_org.admin, period_type="quarter", year=2026, period=1
        )
    }
    group = everything[sales_org.group.pk]
    assert group["order_target"] is None
    assert group["order_rate"] is None
    assert group["order_employee_targets"] == D("5000") + D("2500") + D("9999")
    assert group["order_actual"] == D("3500.50") + D("4000.00") + D("10000.00")


def test_department_view_query_count_is_constant(sales_org, data):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            department_achievement(
                actor=sales_org.admin, period_type="year", year=2026, period=1
            )
        return len(ctx.captured_queries)

    few = count()
    from crm.org.tests.factories import DepartmentFactory

    for i in range(6):
        DepartmentFactory(name=f"新部门{i}", parent=sales_org.south)
    target(sales_org.south, "year", 2026, order="1")
    assert count() == few == 1
