"""C7 customer analysis: every number is counted in SQL within the viewer's data scope
(Customer.objects.visible_to), equals an independent count, leaves out customers outside
the scope, in the recycle bin or merged away; the API gives the same numbers."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.scopes import DataScope
from crm.customers.analysis import customer_analysis
from crm.customers.models import Customer, Region
from crm.customers.tests import care_fixtures
from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import UserFactory, make_role

pytestmark = pytest.mark.usefixtures("english")
team = care_fixtures.team  # the roles of these tests (a fixture)

TODAY = datetime.date(2027, 3, 10)


def month(year, mon, day=15):
    return timezone.make_aware(datetime.datetime(year, mon, day, 10))


@pytest.fixture
def spread(team):
    """Customers of the east branch (rep_a, rep_b) and of the south (rep_c), with
    levels, industries, types, statuses, regions, months and credit limits."""
    shenzhen = Region.objects.get(code="440305")  # 广东省 深圳市 南山区
    pudong = Region.objects.get(code="310115")  # 上海市 浦东新区
    guangdong = Region.objects.get(code="440000")
    rows = [
        (team.rep_a, "a", "it", "dealer", "active", shenzhen, month(2027, 3), 100),
        (team.rep_a, "a", "it", "end_user", "prospect", pudong, month(2027, 1), 50),
        (
            team.rep_a,
            "b",
            "finance",
            "end_user",
            "active",
            guangdong,
            month(2026, 10),
            30,
        ),
        (team.rep_b, "c", "manufacturing", "agent", "lost", None, month(2026, 4), 10),
        (team.rep_b, "c", "", "end_user", "prospect", pudong, month(2025, 1), 5),
        (team.rep_b, "d", "it", "end_user", "dormant", shenzhen, month(2027, 3, 1), 0),
        (team.rep_c, "a", "it", "dealer", "active", shenzhen, month(2027, 3), 999),
        (team.rep_c, "b", "health", "end_user", "active", None, month(2027, 2), 1),
    ]
    made = []
    for owner, level, industry, kind, status, region, registered, limit in rows:
        made.append(
            CustomerFactory(
                owner=owner,
                level=level,
                industry=industry,
                type=kind,
                status=status,
                region=region,
                registered_at=registered,
                credit_limit=Decimal(limit),
            )
        )
    # Never counted: in the recycle bin, or merged away.
    CustomerFactory(
        owner=team.rep_a, deleted_at=timezone.now(), credit_limit=Decimal(500)
    )
    CustomerFactory(owner=team.rep_a, merged_into=made[0], credit_limit=Decimal(500))
    return made


def expected(customers, field):
    return dict(Counter(getattr(c, field) for c in customers))


def counts(rows):
    return {row["key"]: row["value"] for row in rows}


@pytest.mark.parametrize("user", ["manager", "rep_a", "rep_c", "admin"])
def test_numbers_equal_independent_counts_within_the_scope(team, spread, user):
    actor = getattr(team, user)
    mine = {
        "manager": spread[:6],  # east and below
        "rep_a": spread[:3],
        "rep_c": spread[6:],
        "admin": spread,
    }[user]
    data = customer_analysis(actor=actor, today=TODAY)
    assert data["total"] == len(mine)
    for field in ("level", "industry", "type", "status"):
        assert counts(data[f"by_{field}"]) == expected(mine, field), field
    provinces = Counter(c.region.path.split("/")[1] if c.region else "" for c in mine)
    assert counts(data["by_province"]) == dict(provinces)


def test_province_names_and_unknown(team, spread):
    rows = customer_analysis(actor=team.manager, today=TODAY)["by_province"]
    names = {row["name"]: row["value"] for row in rows}
    assert names == {"广东省": 3, "上海市": 2, "Unknown": 1}


def test_labels_are_the_choices_labels(team, spread):
    rows = customer_analysis(actor=team.manager, today=TODAY)["by_level"]
    assert {row["name"] for row in rows} == {
        str(Customer.Level(level).label) for level in "abcd"
    }


def test_new_customers_per_month(team, spread):
    months = customer_analysis(actor=team.manager, today=TODAY)["new_per_month"]
    assert len(months) == 12
    assert months[0]["key"] == "2026-04"
    assert months[-1]["key"] == "2027-03"
    by_month = {m["key"]: m["value"] for m in months}
    assert by_month == {
        "2026-04": 1,
        "2026-05": 0,
        "2026-06": 0,
        "2026-07": 0,
        "2026-08": 0,
        "2026-09": 0,
        "2026-10": 1,
        "2026-11": 0,
        "2026-12": 0,
        "2027-01": 1,
        "2027-02": 0,
        "2027-03": 2,
    }  # the one of 2025 is older than twelve months


def test_abc_by_credit_limit(team, spread):
    """A: the largest customers making the first 70 % of the total credit limit, B the
    next 20 %, C the rest; checked against a count done here in Python."""
    mine = sorted(spread[:6], key=lambda c: (-c.credit_limit, c.pk))
    total = sum(c.credit_limit for c in mine)
    classes, running = {"A": [], "B": [], "C": []}, Decimal(0)
    for c in mine:
        name = (
            "A"
            if running < total * Decimal("0.7")
            else "B"
            if running < total * Decimal("0.9")
            else "C"
        )
        classes[name].append(c.credit_limit)
        running += c.credit_limit
    abc = customer_analysis(actor=team.manager, today=TODAY)["abc"]
    assert abc["measure"] == "credit_limit"
    assert Decimal(abc["total"]) == total == Decimal(195)
    assert [
        (row["class"], row["customers"], Decimal(row["value"]))
        for row in abc["classes"]
    ] == [(k, len(v), sum(v, Decimal(0))) for k, v in classes.items()]
    assert [row["customers"] for row in abc["classes"]] == [2, 1, 3]


def test_abc_without_any_credit_limit(team):
    CustomerFactory(owner=team.rep_a)
    abc = customer_analysis(actor=team.rep_a, today=TODAY)["abc"]
    assert [row["customers"] for row in abc["classes"]] == [0, 0, 1]


def test_abc_is_left_out_when_the_credit_limit_is_hidden(org, spread):
    role = make_role(
        "看不到额度",
        "customers.view_customer",
        scope=DataScope.ALL,
        field_rights={"customers.customer": {"credit_limit": "hidden"}},
    )
    viewer = UserFactory(department=org.east, roles=[role])
    data = customer_analysis(actor=viewer, today=TODAY)
    assert data["abc"] is None
    assert data["total"] == len(spread)


def test_rfm_needs_sales_data(team, spread):
    assert customer_analysis(actor=team.manager)["rfm"] is None


def test_the_api_gives_the_same_numbers(team, spread, client_for):
    response = client_for(team.manager).get("/api/v1/customers/analysis/")
    assert response.status_code == 200
    body = response.json()
    data = customer_analysis(actor=team.manager)
    assert body["total"] == data["total"] == 6
    for key in (
        "by_level",
        "by_industry",
        "by_type",
        "by_status",
        "by_province",
        "new_per_month",
    ):
        assert body[key] == [
            {"key": r["key"], "name": str(r["name"]), "value": r["value"]}
            for r in data[key]
        ], key
    assert [c["customers"] for c in body["abc"]["classes"]] == [2, 1, 3]
    assert body["rfm"] is None


def test_the_api_and_page_need_the_view_permission(org, client_for):
    role = make_role("无客户权限", "customers.view_contact")
    viewer = UserFactory(department=org.east, roles=[role])
    client = client_for(viewer)
    assert client.get("/api/v1/customers/analysis/").status_code == 403
    assert client.get(reverse("customers:analysis")).status_code == 403


def test_the_page(team, spread, client_for):
    response = client_for(team.manager).get(reverse("customers:analysis"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "6 customers within your data scope." in html
    assert 'id="analysis-data"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert "RFM segmentation" in html
