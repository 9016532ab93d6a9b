"""S8 pages and API: the target list in the sales scope, the form (400, 409), record
page, delete, the department roll-up and the yearly grid; the API answers the same
numbers as the pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory, make_role
from crm.sales.models import SalesTarget
from crm.sales.selectors.plans import department_achievement, target_get
from crm.sales.tests import analysis_data

pytestmark = pytest.mark.usefixtures("english")
D = Decimal
API = "/api/v1/sales/targets/"


def target(subject, period_type="month", year=2026, period=3, **amounts):
    if hasattr(subject, "username"):
        who = {"owner": subject, "department": subject.department}
    else:
        who = {"owner": None, "department": subject}
    return SalesTarget.objects.create(
        period_type=period_type,
        year=year,
        period=period,
        order_target=D(amounts.get("order", "1000")),
        collection_target=D(amounts.get("collection", "500")),
        **who,
    )


@pytest.fixture
def targets(sales_org):
    return {
        "a": target(sales_org.rep_a),
        "b": target(sales_org.rep_b),
        "c": target(sales_org.rep_c),
        "east": target(sales_org.east),
        "office": target(sales_org.east_office, "year", period=1),
        "south": target(sales_org.south),
    }


@pytest.fixture
def deleter(sales_org):
    role = make_role(
        "计划管理",
        "sales.view_salestarget",
        "sales.add_salestarget",
        "sales.change_salestarget",
        "sales.delete_salestarget",
        scope=DataScope.DEPARTMENT_TREE,
    )
    return UserFactory(username="planner", department=sales_org.east, roles=[role])


def listed(response):
    return {row["obj"].pk for row in response.context["rows"]}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("rep_a", {"a"}),
        ("rep_c", {"c"}),
        ("manager", {"a", "b", "east", "office"}),
        ("admin", {"a", "b", "c", "east", "office", "south"}),
    ],
)
def test_list_shows_the_targets_in_the_sales_scope(
    sales_org, targets, client_for, who, sees
):
    response = client_for(getattr(sales_org, who)).get(reverse("sales:target-list"))
    assert response.status_code == 200
    assert listed(response) == {targets[k].pk for k in sees}


def test_list_filters(sales_org, targets, client_for):
    client = client_for(sales_org.admin)
    url = reverse("sales:target-list")
    response = client.get(url, {"department": sales_org.east.pk})
    assert listed(response) == {targets[k].pk for k in ("a", "b", "east", "office")}
    response = client.get(url, {"period_type": "year"})
    assert listed(response) == {targets["office"].pk}
    response = client.get(url, {"subject": "department", "year": "2026"})
    assert listed(response) == {targets[k].pk for k in ("east", "office", "south")}
    assert listed(client.get(url, {"year": "2025"})) == set()


def test_list_needs_the_view_permission(sales_org, client_for):
    nobody = UserFactory(department=sales_org.east)
    assert client_for(nobody).get(reverse("sales:target-list")).status_code == 403


def test_record_page_outside_the_scope_is_404(sales_org, targets, client_for):
    client = client_for(sales_org.rep_a)
    own = client.get(reverse("sales:target-detail", args=[targets["a"].pk]))
    assert own.status_code == 200
    assert [row["key"] for row in own.context["achievement"]] == [
        "order",
        "collection",
    ]
    for key in ("b", "c", "east"):
        response = client.get(reverse("sales:target-detail", args=[targets[key].pk]))
        assert response.status_code == 404


def test_create_through_the_form(sales_org, client_for):
    client = client_for(sales_org.manager)
    assert client.get(reverse("sales:target-create")).status_code == 200
    response = client.post(
        reverse("sales:target-create"),
        {
            "period_type": "quarter",
            "year": "2026",
            "period": "2",
            "owner": sales_org.rep_b.pk,
            "order_target": "50000",
            "collection_target": "40000",
        },
    )
    made = SalesTarget.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:target-detail", args=[made.pk])
    assert made.department == sales_org.east_office


def test_form_refuses_a_duplicate_with_409_and_a_clear_message(
    sales_org, targets, client_for
):
    response = client_for(sales_org.manager).post(
        reverse("sales:target-create"),
        {
            "period_type": "month",
            "year": "2026",
            "period": "3",
            "owner": sales_org.rep_a.pk,
            "order_target": "1",
            "collection_target": "1",
        },
    )
    assert response.status_code == 409
    assert "already has a target for 2026-03" in response.content.decode()
    assert SalesTarget.objects.filter(owner=sales_org.rep_a).count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"period": "13"}, "period"),
        ({"owner": "rep_c"}, "owner"),  # outside the manager's scope: not a choice
        ({"department": "south", "owner": ""}, "department"),
        ({"order_target": "-5"}, "order_target"),
        ({"order_target": "abc"}, "order_target"),
    ],
)
def test_form_errors_name_the_field(sales_org, client_for, values, field):
    post = {
        "period_type": "month",
        "year": "2026",
        "period": "3",
        "owner": sales_org.rep_a.pk,
        "order_target": "1",
        "collection_target": "1",
    }
    for key, value in values.items():
        post[key] = getattr(sales_org, value).pk if hasattr(sales_org, value) else value
    response = client_for(sales_org.manager).post(reverse("sales:target-create"), post)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not SalesTarget.objects.exists()


def test_edit_and_delete(sales_org, targets, client_for, deleter):
    client = client_for(deleter)
    pk = targets["a"].pk
    assert client.get(reverse("sales:target-edit", args=[pk])).status_code == 200
    response = client.post(
        reverse("sales:target-edit", args=[pk]),
        {
            "period_type": "month",
            "year": "2026",
            "period": "3",
            "owner": sales_org.rep_a.pk,
            "order_target": "2222",
            "collection_target": "500",
        },
    )
    assert response.status_code == 302
    assert SalesTarget.objects.get(pk=pk).order_target == D("2222")
    response = client.post(reverse("sales:target-delete", args=[pk]))
    assert response.status_code == 302
    assert not SalesTarget.objects.filter(pk=pk).exists()
    # Outside the scope: 404; without the permission: 403.
    other = client.post(reverse("sales:target-delete", args=[targets["c"].pk]))
    assert other.status_code == 404
    rep = client_for(sales_org.rep_b).post(
        reverse("sales:target-delete", args=[targets["b"].pk])
    )
    assert rep.status_code == 403
    assert SalesTarget.objects.filter(pk=targets["b"].pk).exists()


def test_department_page_shows_the_roll_up(sales_org, targets, client_for):
    analysis_data.build(sales_org)
    response = client_for(sales_org.manager).get(
        reverse("sales:target-departments"),
        {"year": "2026", "period_type": "month", "period": "3"},
    )
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.context["rows"]}
    assert set(rows) == {sales_org.east.pk, sales_org.east_office.pk}
    assert rows[sales_org.east.pk]["order_actual"] == D("2000.50")
    assert rows[sales_org.east.pk]["order_employee_targets"] == D("2000")
    assert rows[sales_org.east.pk]["order_rate"] == D("200.1")
    html = response.content.decode()
    assert "200.1%" in html


def test_department_page_refuses_a_bad_period_gracefully(sales_org, client_for):
    response = client_for(sales_org.manager).get(
        reverse("sales:target-departments"),
        {"year": "2026", "period_type": "quarter", "period": "7"},
    )
    assert response.status_code == 200
    assert "period" in response.context["form"].errors


def test_grid_page_saves_all_cells(sales_org, targets, client_for):
    client = client_for(sales_org.manager)
    url = reverse("sales:target-grid") + "?year=2026&measure=order"
    response = client.get(url)
    assert response.status_code == 200
    employees = {row["employee"].pk for row in response.context["rows"]}
    assert sales_org.rep_c.pk not in employees
    assert {sales_org.rep_a.pk, sales_org.rep_b.pk} <= employees
    a = sales_org.rep_a.pk
    row_a = next(r for r in response.context["rows"] if r["employee"].pk == a)
    assert row_a["cells"][2]["value"] == D("1000.00")  # March's order target
    response = client.post(url, {f"cell-{a}-1": "123.45", f"cell-{a}-3": "999"})
    assert response.status_code == 302
    assert SalesTarget.objects.get(owner_id=a, period=1).order_target == D("123.45")
    assert SalesTarget.objects.get(owner_id=a, period=3).order_target == D("999")
    response = client.post(url, {f"cell-{a}-1": "oops", f"cell-{a}-2": "5"})
    assert response.status_code == 400
    assert f"cell-{a}-1" in response.context["errors"]
    assert not SalesTarget.objects.filter(owner_id=a, period=2).exists()
    assert "Nothing was saved" in response.content.decode()


def test_grid_needs_a_write_permission(sales_org, client_for):
    viewer = UserFactory(
        department=sales_org.east,
        roles=[make_role("只读", "sales.view_salestarget", scope=DataScope.ALL)],
    )
    assert client_for(viewer).get(reverse("sales:target-grid")).status_code == 403


# API


def test_api_lists_the_same_numbers_as_the_selector(sales_org, targets, client_for):
    analysis_data.build(sales_org)
    response = client_for(sales_org.manager).get(API, {"page_size": 50})
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {targets[k].pk for k in ("a", "b", "east", "office")}
    for pk, row in rows.items():
        got = target_get(actor=sales_org.manager, pk=pk)
        assert D(row["order_actual"]) == got.order_actual
        assert D(row["collection_actual"]) == got.collection_actual
    a = rows[targets["a"].pk]
    assert D(a["order_actual"]) == D("2000.50")
    assert a["order_rate"] == "200.1"  # 2000.50 / 1000
    assert a["period_start"] == "2026-03-01"
    assert a["period_end"] == "2026-03-31"
    office = rows[targets["office"].pk]
    assert D(office["order_actual"]) == D("4000.00")


def test_api_create_update_delete(sales_org, client_for, deleter):
    client = client_for(deleter)
    body = {
        "period_type": "month",
        "year": 2026,
        "period": 6,
        "owner": sales_org.rep_a.pk,
        "order_target": "100.00",
        "collection_target": "80.00",
    }
    created = client.post(API, body, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["department"] == sales_org.east.pk
    assert created.json()["order_actual"] == "0.000000"
    duplicate = client.post(API, body, content_type="application/json")
    assert duplicate.status_code == 409
    assert "owner" in duplicate.json()["fields"]
    bad = client.post(API, {**body, "period": 14}, content_type="application/json")
    assert bad.status_code == 400
    assert "period" in bad.json()["fields"]
    outside = client.post(
        API, {**body, "owner": sales_org.rep_c.pk}, content_type="application/json"
    )
    assert outside.status_code == 400
    assert "owner" in outside.json()["fields"]
    patched = client.patch(
        f"{API}{pk}/", {"order_target": "150"}, content_type="application/json"
    )
    assert patched.status_code == 200
    assert patched.json()["order_target"] == "150.000000"
    assert client.delete(f"{API}{pk}/").status_code == 204
    assert client.get(f"{API}{pk}/").status_code == 404


def test_api_scope_and_permissions(sales_org, targets, client_for):
    rep = client_for(sales_org.rep_a)
    assert rep.get(f"{API}{targets['c'].pk}/").status_code == 404
    assert rep.get(f"{API}{targets['a'].pk}/").status_code == 200
    assert rep.delete(f"{API}{targets['a'].pk}/").status_code == 403
    nobody = client_for(UserFactory(department=sales_org.east))
    assert nobody.get(API).status_code == 403


def test_api_department_roll_up_equals_the_page(sales_org, targets, client_for):
    analysis_data.build(sales_org)
    response = client_for(sales_org.manager).get(
        f"{API}departments/", {"year": 2026, "period_type": "month", "period": 3}
    )
    assert response.status_code == 200
    expected = department_achievement(
        actor=sales_org.manager, period_type="month", year=2026, period=3
    )
    assert len(response.json()) == len(expected) == 2
    for row, want in zip(response.json(), expected, strict=True):
        assert row["id"] == want["id"]
        for key in (
            "order_actual",
            "collection_actual",
            "order_employee_targets",
            "collection_employee_targets",
        ):
            assert D(row[key]) == want[key]
        assert (row["order_rate"] and D(row["order_rate"])) == want["order_rate"]
    bad = client_for(sales_org.manager).get(
        f"{API}departments/", {"year": 2026, "period_type": "quarter", "period": 5}
    )
    assert bad.status_code == 400
    assert "period" in bad.json()["fields"]
