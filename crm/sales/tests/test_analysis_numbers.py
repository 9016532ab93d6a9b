"""S9 sales analysis: every number equals a sum computed here from the known dataset
(crm/sales/tests/analysis_data.py), inside the viewer's data scope, and each section
costs a constant number of queries whatever the number of rows."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.core.errors import Forbidden, Invalid
from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory, make_role
from crm.sales.selectors.analysis import analysis_filters, sales_analysis
from crm.sales.tests import analysis_data
from crm.sales.tests.analysis_data import TODAY, D

pytestmark = pytest.mark.usefixtures("english")

START, END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
ORDERED = {"confirmed", "completed"}


@pytest.fixture
def data(sales_org):
    return analysis_data.build(sales_org)


def run(user, **params):
    filters = analysis_filters(
        actor=user, params={"year": "2026", **params}, today=TODAY
    )
    return sales_analysis(actor=user, filters=filters)


def visible(records, owners):
    return [r for r in records if r.owner_id in {o.pk for o in owners}]


def in_period(day, start=START, end=END):
    return start <= day <= end


def pct(part, whole):
    if not whole:
        return None
    return (D(part) * 100 / D(whole)).quantize(D("0.1"), rounding=ROUND_HALF_UP)


def expected_orders(data, owners, start=START, end=END):
    return [
        o
        for o in visible(data.orders + data.not_ordered, owners)
        if o.status in ORDERED and in_period(o.ordered_on, start, end)
    ]


def expected_payments(data, owners, start=START, end=END):
    return [
        p
        for p in visible(data.payments + data.voided, owners)
        if p.status == "posted" and in_period(p.received_on, start, end)
    ]


def everyone(org):
    return [org.rep_a, org.rep_b, org.rep_c]


# Summary, funnel, win rate, forecast


def test_summary_sums_ordered_orders_and_posted_payments(sales_org, data):
    result = run(sales_org.admin)["summary"]
    orders = expected_orders(data, everyone(sales_org))
    payments = expected_payments(data, everyone(sales_org))
    assert result["orders_amount"] == sum(o.total for o in orders)
    assert result["orders_amount"] == D("17800.75")
    assert result["orders_count"] == len(orders) == 5
    assert result["collections_amount"] == sum(p.amount for p in payments)
    assert result["collections_amount"] == D("10000.10")
    assert result["collections_count"] == 4


def test_funnel_counts_open_opportunities_per_stage_and_closed_in_period(
    sales_org, data
):
    result = run(sales_org.admin)["funnel"]
    open_ = [o for o in data.opportunities if o.status == "open"]
    by_stage = defaultdict(list)
    for o in open_:
        by_stage[o.stage_id].append(o)
    stages = {row["id"]: row for row in result["stages"]}
    assert [row["probability"] for row in result["stages"]] == [10, 25, 50, 75]
    for stage_id, row in stages.items():
        mine = by_stage.get(stage_id, [])
        assert row["count"] == len(mine)
        assert row["amount"] == sum((o.amount for o in mine), D(0))
        assert row["weighted"] == sum(
            (o.amount * o.stage.probability / 100 for o in mine), D(0)
        )
    # 75 %: 333.33 × 0.75 + 8000 × 0.75, exact to the sixth place.
    assert stages[data.stages[75].pk]["weighted"] == D("6249.9975")
    assert result["open_count"] == len(open_) == 6
    assert result["open_amount"] == sum(o.amount for o in open_)
    closed = [
        o
        for o in data.opportunities
        if o.closed_at and in_period(o.closed_at.astimezone(local_tz()).date())
    ]
    won = [o for o in closed if o.status == "won"]
    lost = [o for o in closed if o.status == "lost"]
    assert result["won"] == {"count": len(won), "amount": sum(o.amount for o in won)}
    assert result["lost"] == {
        "count": len(lost),
        "amount": sum(o.amount for o in lost),
    }
    assert result["won"]["count"] == 3  # 2026-01-01 00:30 local is in 2026
    assert result["lost"]["amount"] == D("2100.00")  # not the one of 2025-12-31


def local_tz():
    from django.utils import timezone

    return timezone.get_current_timezone()


def test_win_rate_overall_and_by_owner(sales_org, data):
    result = run(sales_org.admin)["win_rate"]
    closed = [
        o
        for o in data.opportunities
        if o.closed_at and in_period(o.closed_at.astimezone(local_tz()).date())
    ]
    won = sum(1 for o in closed if o.status == "won")
    lost = sum(1 for o in closed if o.status == "lost")
    assert (result["won"], result["lost"]) == (won, lost) == (3, 2)
    assert result["rate"] == pct(won, won + lost) == D("60.0")
    by_owner = {row["id"]: row for row in result["by_owner"]}
    for rep in everyone(sales_org):
        mine = [o for o in closed if o.owner_id == rep.pk]
        w = sum(1 for o in mine if o.status == "won")
        lo = sum(1 for o in mine if o.status == "lost")
        assert by_owner[rep.pk]["won"] == w
        assert by_owner[rep.pk]["lost"] == lo
        assert by_owner[rep.pk]["rate"] == pct(w, w + lo)
        assert by_owner[rep.pk]["won_amount"] == sum(
            (o.amount for o in mine if o.status == "won"), D(0)
        )
    assert by_owner[sales_org.rep_a.pk]["rate"] == D("50.0")
    assert by_owner[sales_org.rep_b.pk]["rate"] == D("100.0")


def test_forecast_weights_open_opportunities_by_expected_close_month(sales_org, data):
    result = run(sales_org.admin)["forecast"]
    assert [m["key"] for m in result["months"]] == [
        f"2026-{m:02d}" for m in range(1, 13)
    ]
    open_ = [o for o in data.opportunities if o.status == "open"]
    dated = [o for o in open_ if o.expected_close_on and in_period(o.expected_close_on)]
    for month in result["months"]:
        mine = [o for o in dated if o.expected_close_on.isoformat()[:7] == month["key"]]
        assert month["count"] == len(mine)
        assert month["amount"] == sum((o.amount for o in mine), D(0))
        assert month["weighted"] == sum(
            (o.amount * o.stage.probability / 100 for o in mine), D(0)
        )
    february = result["months"][1]
    assert february["weighted"] == D("100.00") + D("1000.50") + D("6000.00")
    undated = [o for o in open_ if o.expected_close_on is None]
    assert result["undated"] == {
        "count": 1,
        "amount": D("250.00"),
        "weighted": sum(o.amount * o.stage.probability / 100 for o in undated),
    }
    assert result["weighted"] == sum(
        o.amount * o.stage.probability / 100 for o in dated
    )


# Rankings, trend, breakdowns, leads


def test_rankings_of_employees_and_customers(sales_org, data):
    result = run(sales_org.admin)["rankings"]
    orders = expected_orders(data, everyone(sales_org))
    payments = expected_payments(data, everyone(sales_org))
    by_owner, by_customer, collected = (
        defaultdict(D),
        defaultdict(D),
        defaultdict(D),
    )
    for o in orders:
        by_owner[o.owner_id] += o.total
        by_customer[o.customer_id] += o.total
    for p in payments:
        collected[p.owner_id] += p.amount
    assert [(r["id"], r["amount"]) for r in result["by_orders"]] == sorted(
        by_owner.items(), key=lambda kv: -kv[1]
    )
    assert [r["id"] for r in result["by_orders"]] == [
        sales_org.rep_c.pk,
        sales_org.rep_b.pk,
        sales_org.rep_a.pk,
    ]
    assert [(r["id"], r["amount"]) for r in result["by_collections"]] == sorted(
        collected.items(), key=lambda kv: -kv[1]
    )
    assert [(r["id"], r["amount"]) for r in result["customers"]] == sorted(
        by_customer.items(), key=lambda kv: -kv[1]
    )
    assert result["customers"][0]["name"] == "深圳三号公司"


def test_monthly_trend_covers_the_twelve_months_up_to_today(sales_org, data):
    trend = run(sales_org.admin)["trend"]
    keys = [row["key"] for row in trend]
    assert keys == [f"2025-{m:02d}" for m in range(7, 13)] + [
        f"2026-{m:02d}" for m in range(1, 7)
    ]
    start, end = datetime.date(2025, 7, 1), TODAY
    orders = expected_orders(data, everyone(sales_org), start, end)
    payments = expected_payments(data, everyone(sales_org), start, end)
    for row in trend:
        month_orders = [o for o in orders if o.ordered_on.isoformat()[:7] == row["key"]]
        month_payments = [
            p for p in payments if p.received_on.isoformat()[:7] == row["key"]
        ]
        assert row["orders"] == sum((o.total for o in month_orders), D(0))
        assert row["orders_count"] == len(month_orders)
        assert row["collections"] == sum((p.amount for p in month_payments), D(0))
    by_key = {row["key"]: row for row in trend}
    # 3-31 is March, 4-01 April; the order of 2025-12-31 is in December.
    assert by_key["2026-03"]["orders"] == D("2000.50") + D("10000.00")
    assert by_key["2026-04"]["orders"] == D("300.25")
    assert by_key["2025-12"]["orders"] == D("700.00")
    assert by_key["2026-05"] == {
        "key": "2026-05",
        "orders": 0,
        "orders_count": 0,
        "collections": 0,
        "collections_count": 0,
    }


def test_breakdowns_by_province_category_product_and_department(sales_org, data):
    result = run(sales_org.admin)["breakdowns"]
    orders = expected_orders(data, everyone(sales_org))
    by_province = defaultdict(D)
    for o in orders:
        region = o.customer.region
        code = region.path.split("/")[1] if region else ""
        by_province[code] += o.total
    assert {r["key"]: r["amount"] for r in result["region"]} == dict(by_province)
    names = {r["key"]: r["name"] for r in result["region"]}
    assert names == {
        "440000": "广东省",
        "330000": "浙江省",
        "310000": "上海市",
        "": "Unknown",
    }
    lines = [line for o in orders for line in o.lines.all()]
    by_category, by_product = defaultdict(D), defaultdict(D)
    for line in lines:
        by_category[line.product.category_id] += line.total
        by_product[line.product_id] += line.total
    assert {r["id"]: r["amount"] for r in result["category"]} == dict(by_category)
    assert {r["id"]: r["amount"] for r in result["product"]} == dict(by_product)
    assert sum(r["amount"] for r in result["product"]) == sum(o.total for o in orders)
    payments = expected_payments(data, everyone(sales_org))
    by_department = defaultdict(lambda: {"orders": D(0), "collections": D(0)})
    for o in orders:
        by_department[o.department_id]["orders"] += o.total
    for p in payments:
        by_department[p.department_id]["collections"] += p.amount
    assert {
        r["id"]: {"orders": r["orders"], "collections": r["collections"]}
        for r in result["department"]
    } == dict(by_department)


def test_leads_by_source_with_conversions(sales_org, data):
    result = run(sales_org.admin)["leads"]
    leads = [
        lead
        for lead in data.leads
        if in_period(lead.created_at.astimezone(local_tz()).date())
    ]
    counts = defaultdict(lambda: [0, 0])
    for lead in leads:
        counts[lead.source][0] += 1
        counts[lead.source][1] += lead.status == "converted"
    assert {
        r["key"]: [r["count"], r["converted"]] for r in result["by_source"]
    } == dict(counts)
    assert result["count"] == 5
    assert result["rate"] == pct(3, 5) == D("60.0")


# Data scope and filters


@pytest.mark.parametrize(
    ("who", "owners"),
    [
        ("rep_a", ["rep_a"]),
        ("rep_c", ["rep_c"]),
        ("manager", ["rep_a", "rep_b"]),  # the east subtree
        ("admin", ["rep_a", "rep_b", "rep_c"]),
    ],
)
def test_every_section_stays_inside_the_viewers_scope(sales_org, data, who, owners):
    user = getattr(sales_org, who)
    owners = [getattr(sales_org, name) for name in owners]
    result = run(user)
    orders = expected_orders(data, owners)
    payments = expected_payments(data, owners)
    assert result["summary"]["orders_amount"] == sum((o.total for o in orders), D(0))
    assert result["summary"]["collections_amount"] == sum(
        (p.amount for p in payments), D(0)
    )
    owner_ids = {o.pk for o in owners}
    assert {r["id"] for r in result["rankings"]["by_orders"]} == {
        o.owner_id for o in orders
    }
    assert {r["id"] for r in result["win_rate"]["by_owner"]} <= owner_ids
    open_ = [o for o in visible(data.opportunities, owners) if o.status == "open"]
    assert result["funnel"]["open_count"] == len(open_)
    assert result["funnel"]["open_amount"] == sum((o.amount for o in open_), D(0))
    customers = {o.customer_id for o in orders}
    assert {r["id"] for r in result["rankings"]["customers"]} == customers
    assert sum(r["amount"] for r in result["breakdowns"]["product"]) == sum(
        (o.total for o in orders), D(0)
    )
    assert sum(row["orders"] for row in result["trend"]) == sum(
        (
            o.total
            for o in expected_orders(data, owners, datetime.date(2025, 7, 1), TODAY)
        ),
        D(0),
    )
    assert result["leads"]["count"] == len(
        [
            lead
            for lead in visible(data.leads, owners)
            if in_period(lead.created_at.astimezone(local_tz()).date())
        ]
    )


def test_department_filter_stands_for_its_subtree(sales_org, data):
    east = run(sales_org.manager, department=str(sales_org.east.pk))
    office = run(sales_org.manager, department=str(sales_org.east_office.pk))
    assert east["summary"]["orders_amount"] == sum(
        o.total for o in expected_orders(data, [sales_org.rep_a, sales_org.rep_b])
    )
    assert office["summary"]["orders_amount"] == sum(
        o.total for o in expected_orders(data, [sales_org.rep_b])
    )
    assert {r["id"] for r in office["rankings"]["by_orders"]} == {sales_org.rep_b.pk}


def test_owner_and_date_range_filters(sales_org, data):
    result = run(
        sales_org.admin,
        owner=str(sales_org.rep_a.pk),
        date_from="2026-01-01",
        date_to="2026-03-31",
    )
    q1 = expected_orders(data, [sales_org.rep_a], START, datetime.date(2026, 3, 31))
    assert result["summary"]["orders_amount"] == sum(o.total for o in q1)
    assert result["summary"]["orders_amount"] == D("3500.50")  # 3-31 in, 4-01 out
    assert [m["key"] for m in result["forecast"]["months"]] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert result["trend"][-1]["key"] == "2026-03"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"department": "south"}, "department"),
        ({"department": "10000000000000000000000"}, "department"),
        ({"owner": "rep_c"}, "owner"),
        ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "date_to"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"year": "1999"}, "year"),
        ({"date_from": "2000-01-01", "date_to": "2026-01-01"}, "date_to"),
    ],
)
def test_bad_or_out_of_scope_filters_are_refused(sales_org, data, params, field):
    params = {
        key: str(getattr(sales_org, value).pk) if hasattr(sales_org, value) else value
        for key, value in params.items()
    }
    with pytest.raises(Invalid) as error:
        analysis_filters(actor=sales_org.manager, params=params, today=TODAY)
    assert field in error.value.fields


def test_rep_cannot_filter_on_a_department(sales_org, data):
    with pytest.raises(Invalid):
        analysis_filters(
            actor=sales_org.rep_a,
            params={"department": str(sales_org.east.pk)},
            today=TODAY,
        )


def test_sections_need_their_view_permission(sales_org, data):
    only_pipeline = make_role("只看商机", "sales.view_opportunity", scope=DataScope.ALL)
    user = UserFactory(department=sales_org.east, roles=[only_pipeline])
    result = run(user)
    assert result["funnel"]["open_count"] == 6
    assert result["summary"]["orders_amount"] is None
    assert result["rankings"] == {
        "by_orders": None,
        "by_collections": None,
        "customers": None,
    }
    assert result["trend"] is None
    assert result["breakdowns"]["region"] is None
    assert result["leads"] is None
    nobody = UserFactory(department=sales_org.east)
    with pytest.raises(Forbidden):
        run(nobody)


# Query counts


def _count_queries(user):
    run(user)  # warm the parameter cache
    with CaptureQueriesContext(connection) as ctx:
        run(user)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_rows(sales_org, data):
    before = _count_queries(sales_org.admin)
    # Many more rows of every kind, for more owners, customers and products.
    more = analysis_data.build(sales_org)
    for i in range(15):
        rep = [sales_org.rep_a, sales_org.rep_b, sales_org.rep_c][i % 3]
        order = analysis_data.make_order(
            rep,
            more.customers[i % 4],
            datetime.date(2026, 1 + i % 12, 10),
            [(more.products[i % 2], f"{100 + i}.00")],
        )
        analysis_data.make_payment(order, "10.00", f"2026-{1 + i % 12:02d}-11")
        analysis_data.make_opportunity(
            rep,
            more.customers[i % 4],
            more.stages[[10, 25, 50, 75][i % 4]],
            "99.00",
            close=f"2026-{1 + i % 12:02d}-01",
        )
    after = _count_queries(sales_org.admin)
    assert after == before
    assert before <= 20
