"""S8 target services: creation for an employee or a department, the rules (period range,
subject, amounts, one target per subject and period), the data scope, permissions, audit,
and the yearly grid (all cells or none)."""

from decimal import Decimal

import pytest

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.core.scopes import DataScope
from crm.org.tests.factories import UserFactory, make_role
from crm.sales.models import SalesTarget
from crm.sales.services.plans import (
    target_create,
    target_delete,
    target_grid_save,
    target_update,
)

pytestmark = pytest.mark.usefixtures("english")
D = Decimal


def data(**values):
    base = {
        "period_type": "month",
        "year": 2026,
        "period": 3,
        "order_target": D("10000"),
        "collection_target": D("8000"),
    }
    base.update(values)
    return base


def audits(target):
    return list(
        AuditEvent.objects.filter(object_id=str(target.pk)).values_list(
            "action", flat=True
        )
    )


def test_employee_target_sits_in_the_employees_department(sales_org):
    target = target_create(
        actor=sales_org.manager,
        data=data(owner=sales_org.rep_b, department=sales_org.south),
    )
    assert target.owner == sales_org.rep_b
    assert target.department == sales_org.east_office
    assert target.order_target == D("10000")
    assert audits(target) == ["create"]


def test_department_target_has_no_owner(sales_org):
    target = target_create(
        actor=sales_org.manager, data=data(department=sales_org.east_office)
    )
    assert target.owner is None
    assert target.is_department_target
    assert target.department == sales_org.east_office


def test_a_rep_sets_their_own_target(sales_org):
    target = target_create(actor=sales_org.rep_a, data=data(owner=sales_org.rep_a))
    assert target.owner == sales_org.rep_a


@pytest.mark.parametrize(
    ("actor", "subject", "field"),
    [
        ("rep_a", {"owner": "rep_c"}, "owner"),
        ("rep_a", {"owner": "rep_b"}, "owner"),
        ("rep_a", {"department": "east"}, "department"),
        ("manager", {"owner": "rep_c"}, "owner"),
        ("manager", {"department": "south"}, "department"),
        ("manager", {"department": "group"}, "department"),
    ],
)
def test_targets_outside_the_data_scope_are_refused(sales_org, actor, subject, field):
    subject = {k: getattr(sales_org, v) for k, v in subject.items()}
    with pytest.raises(Invalid) as error:
        target_create(actor=getattr(sales_org, actor), data=data(**subject))
    assert field in error.value.fields
    assert not SalesTarget.objects.exists()
    assert not AuditEvent.objects.filter(content_type__model="salestarget").exists()


def test_one_target_per_employee_and_period(sales_org):
    target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_a))
    with pytest.raises(Conflict) as error:
        target_create(
            actor=sales_org.manager,
            data=data(owner=sales_org.rep_a, order_target=D("1")),
        )
    assert "owner" in error.value.fields
    assert "2026-03" in error.value.message
    assert "刘一" in error.value.message
    # Another month, a quarter covering March, another employee: all fine.
    target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_a, period=4))
    target_create(
        actor=sales_org.manager,
        data=data(owner=sales_org.rep_a, period_type="quarter", period=1),
    )
    target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_b))
    assert SalesTarget.objects.count() == 4


def test_one_department_target_per_department_and_period(sales_org):
    target_create(actor=sales_org.manager, data=data(department=sales_org.east))
    # An employee's target in the same department and period is something else.
    target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_a))
    with pytest.raises(Conflict) as error:
        target_create(actor=sales_org.manager, data=data(department=sales_org.east))
    assert "department" in error.value.fields
    assert "华东" in error.value.message


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"period_type": "month", "period": 13}, "period"),
        ({"period_type": "month", "period": 0}, "period"),
        ({"period_type": "quarter", "period": 5}, "period"),
        ({"period_type": "year", "period": 2}, "period"),
        ({"period_type": "week"}, "period_type"),
        ({"year": 1999}, "year"),
        ({"order_target": D("-1")}, "order_target"),
        ({"collection_target": D("-0.01")}, "collection_target"),
        ({"order_target": D("1e15")}, "order_target"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(sales_org, values, field):
    with pytest.raises(Invalid) as error:
        target_create(
            actor=sales_org.manager, data=data(owner=sales_org.rep_a, **values)
        )
    assert field in error.value.fields
    assert not SalesTarget.objects.exists()


def test_a_target_needs_an_employee_or_a_department(sales_org):
    with pytest.raises(Invalid) as error:
        target_create(actor=sales_org.manager, data=data())
    assert "department" in error.value.fields


def test_amounts_are_rounded_to_the_order_decimals(sales_org):
    target = target_create(
        actor=sales_org.manager,
        data=data(owner=sales_org.rep_a, order_target=D("1000.005")),
    )
    assert target.order_target == D("1000.01")


def test_year_targets_take_period_one(sales_org):
    target = target_create(
        actor=sales_org.manager,
        data=data(owner=sales_org.rep_a, period_type="year", period=None),
    )
    assert target.period == 1


def test_creating_needs_the_add_permission(sales_org):
    viewer = UserFactory(
        department=sales_org.east,
        roles=[make_role("只读", "sales.view_salestarget", scope=DataScope.ALL)],
    )
    with pytest.raises(Forbidden):
        target_create(actor=viewer, data=data(owner=viewer))


def test_update_changes_values_and_is_audited(sales_org):
    target = target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_a))
    updated = target_update(
        actor=sales_org.manager,
        obj=target,
        data={"order_target": D("12000"), "notes": "上调"},
    )
    assert updated.order_target == D("12000")
    assert updated.notes == "上调"
    assert audits(target) == ["update", "create"]
    event = AuditEvent.objects.filter(object_id=str(target.pk), action="update").get()
    assert event.changes["order_target"] == ["10000.000000", "12000.000000"]


def test_update_into_an_existing_period_is_a_conflict(sales_org):
    target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_a, period=3))
    april = target_create(
        actor=sales_org.manager, data=data(owner=sales_org.rep_a, period=4)
    )
    with pytest.raises(Conflict):
        target_update(actor=sales_org.manager, obj=april, data={"period": 3})
    april.refresh_from_db()
    assert april.period == 4


def test_update_cannot_move_a_target_out_of_scope(sales_org):
    target = target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_a))
    with pytest.raises(Invalid):
        target_update(
            actor=sales_org.manager, obj=target, data={"owner": sales_org.rep_c}
        )
    target.refresh_from_db()
    assert target.owner == sales_org.rep_a


def test_delete_needs_the_delete_permission(sales_org):
    target = target_create(actor=sales_org.manager, data=data(owner=sales_org.rep_a))
    with pytest.raises(Forbidden):
        target_delete(actor=sales_org.manager, obj=target)
    sales_org.manager.groups.add(
        make_role("删除计划", "sales.delete_salestarget", scope=DataScope.OWN)
    )
    manager = type(sales_org.manager).objects.get(pk=sales_org.manager.pk)
    pk = target.pk
    target_delete(actor=manager, obj=target)
    assert not SalesTarget.objects.exists()
    assert list(
        AuditEvent.objects.filter(object_id=str(pk)).values_list("action", flat=True)
    ) == ["delete", "create"]


# The yearly grid


def test_grid_creates_changes_and_zeroes_month_targets(sales_org):
    march = target_create(
        actor=sales_org.manager,
        data=data(owner=sales_org.rep_a, period=3, collection_target=D("70")),
    )
    a, b = sales_org.rep_a.pk, sales_org.rep_b.pk
    written = target_grid_save(
        actor=sales_org.manager,
        year=2026,
        measure="order",
        cells={
            (a, 1): "1,000.50",
            (a, 2): "",
            (a, 3): "",  # existing: its order target becomes 0
            (b, 1): "300",
            (b, 12): "0",
        },
    )
    assert written == 3
    got = {
        (t.owner_id, t.period): (t.order_target, t.collection_target)
        for t in SalesTarget.objects.all()
    }
    assert got == {
        (a, 1): (D("1000.50"), D("0")),
        (a, 3): (D("0"), D("70")),
        (b, 1): (D("300"), D("0")),
    }
    assert SalesTarget.objects.get(pk=march.pk).order_target == 0
    # Saving the same values again writes nothing.
    again = target_grid_save(
        actor=sales_org.manager,
        year=2026,
        measure="order",
        cells={(a, 1): "1000.50", (b, 1): "300.00"},
    )
    assert again == 0


def test_grid_saves_all_cells_or_none(sales_org):
    a, b, c = sales_org.rep_a.pk, sales_org.rep_b.pk, sales_org.rep_c.pk
    with pytest.raises(Invalid) as error:
        target_grid_save(
            actor=sales_org.manager,
            year=2026,
            measure="collection",
            cells={(a, 1): "100", (b, 2): "abc", (a, 5): "-3", (c, 1): "5"},
        )
    fields = error.value.fields
    assert set(fields) == {f"cell-{b}-2", f"cell-{a}-5", f"cell-{c}-1"}
    assert "陈二" in fields[f"cell-{b}-2"][0]
    assert "2" in fields[f"cell-{b}-2"][0]
    assert not SalesTarget.objects.exists()


def test_grid_needs_a_write_permission(sales_org):
    viewer = UserFactory(
        department=sales_org.east,
        roles=[make_role("只读", "sales.view_salestarget", scope=DataScope.ALL)],
    )
    with pytest.raises(Forbidden):
        target_grid_save(
            actor=viewer, year=2026, measure="order", cells={(viewer.pk, 1): "1"}
        )
