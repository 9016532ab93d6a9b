"""S7 commissions: rule precedence, category split, rounding, periods (overlap,
recompute, close locks)."""

import datetime
from decimal import Decimal

import pytest

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.params import params_update
from crm.core.trees import tree_place
from crm.org.models import Role
from crm.org.tests.factories import UserFactory, make_role
from crm.products.models import Category
from crm.sales.models import CommissionLine, CommissionPeriod, CommissionRule
from crm.sales.services.commissions import (
    RuleMatcher,
    commission_period_close,
    commission_period_compute,
    commission_period_create,
    commission_period_update,
    commission_rule_create,
    commission_rule_update,
)
from crm.sales.services.payments import payment_record, payment_void
from crm.sales.tests.payments_fixtures import (
    make_contract,
    make_instalment,
    make_order,
    product_in,
    receivable,
)

JAN = (datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))
IN_JAN = datetime.date(2026, 1, 15)


def _category(name, parent=None):
    category = Category.objects.create(name=name, parent=parent)
    tree_place(category)
    return category


@pytest.fixture
def shop(sales_org):
    """Categories 整机 › 挖掘机 and 配件; a product in each leaf; rep_a's role."""
    machines = _category("整机")
    excavators = _category("挖掘机", machines)
    parts = _category("配件")
    rep_role = Role.objects.get(pk=sales_org.rep_a.groups.get().pk)
    return type(
        "Shop",
        (),
        {
            "org": sales_org,
            "admin": sales_org.admin,
            "rep": sales_org.rep_a,
            "role": rep_role,
            "machines": machines,
            "excavators": excavators,
            "parts": parts,
            "excavator": product_in(excavators),
            "part": product_in(parts),
        },
    )


def rule(shop, rate, **fields):
    return commission_rule_create(
        actor=shop.admin,
        data={"name": f"规则{rate}", "rate": Decimal(rate), **fields},
    )


def period(shop, start=JAN[0], end=JAN[1], name="2026-01"):
    return commission_period_create(
        actor=shop.admin, data={"name": name, "start_on": start, "end_on": end}
    )


def collect(shop, amount="5000", *, owner=None, lines=None, on=IN_JAN, order=False):
    """A receipt of `amount` on a 6000 excavator + 4000 part document of `owner`."""
    owner = owner or shop.rep
    lines = (
        lines
        if lines is not None
        else [(shop.excavator, 1, "6000"), (shop.part, 1, "4000")]
    )
    document = (make_order if order else make_contract)(owner, lines=lines)
    instalment = make_instalment(document, "100000")
    return payment_record(
        actor=owner, instalment=instalment, amount=amount, received_on=on
    )


def lines_of(p) -> list[tuple]:
    return sorted(
        (
            line.category.name if line.category else None,
            line.base_amount,
            line.rate,
            line.amount,
        )
        for line in CommissionLine.objects.filter(period=p).select_related("category")
    )


# Precedence


def test_the_most_specific_rule_wins(shop):
    def winner():
        return RuleMatcher.active().best(
            employee_id=shop.rep.pk,
            role_ids={shop.role.pk},
            category_path=shop.excavators.path,
        )

    assert winner() is None  # no rule: no commission
    # Each rule added is more specific than all before it, whatever its rate.
    steps = [
        {"rate": "0.5"},  # anybody, any category
        {"rate": "3", "category": shop.machines},  # category (parent of 挖掘机)
        {"rate": "1", "role": shop.role},  # role
        {"rate": "2", "role": shop.role, "category": shop.machines},
        {"rate": "4", "employee": shop.rep},  # employee
        {"rate": "5", "employee": shop.rep, "category": shop.excavators},
    ]
    for fields in steps:
        added = rule(shop, **fields)
        assert winner() == added, fields


def test_rules_for_others_or_other_categories_do_not_match(shop):
    rule(shop, "9", employee=shop.org.rep_b)
    rule(shop, "8", category=shop.parts)
    other_role = make_role("其他角色")
    rule(shop, "7", role=other_role)
    assert (
        RuleMatcher.active().best(
            employee_id=shop.rep.pk,
            role_ids={shop.role.pk},
            category_path=shop.excavators.path,
        )
        is None
    )


def test_the_deeper_category_wins_then_the_higher_rate(shop):
    rule(shop, "6", employee=shop.rep, category=shop.machines)
    deeper = rule(shop, "5", employee=shop.rep, category=shop.excavators)
    matcher = RuleMatcher.active()
    assert (
        matcher.best(
            employee_id=shop.rep.pk, role_ids=set(), category_path=shop.excavators.path
        )
        == deeper
    )
    second_role = make_role("大客户")
    better = rule(shop, "2.5", role=second_role)
    rule(shop, "1.5", role=shop.role)
    assert (
        RuleMatcher.active().best(
            employee_id=shop.org.rep_b.pk,
            role_ids={shop.role.pk, second_role.pk},
            category_path=None,
        )
        == better
    )


def test_inactive_rules_are_ignored(shop):
    inactive = rule(shop, "4", employee=shop.rep)
    commission_rule_update(actor=shop.admin, obj=inactive, data={"is_active": False})
    assert (
        RuleMatcher.active().best(
            employee_id=shop.rep.pk, role_ids=set(), category_path=None
        )
        is None
    )


def test_a_rule_names_an_employee_or_a_role_not_both(shop):
    with pytest.raises(Invalid) as refused:
        rule(shop, "1", employee=shop.rep, role=shop.role)
    assert "role" in refused.value.fields


def test_two_active_rules_for_the_same_target_are_refused(shop):
    rule(shop, "1", employee=shop.rep, category=shop.parts)
    with pytest.raises(Invalid) as refused:
        rule(shop, "2", employee=shop.rep, category=shop.parts)
    assert "name" in refused.value.fields


@pytest.mark.parametrize("rate", ["-1", "100.5"])
def test_the_rate_is_a_percentage(shop, rate):
    with pytest.raises(Invalid) as refused:
        rule(shop, rate)
    assert "rate" in refused.value.fields


def test_rules_need_their_permissions(shop):
    with pytest.raises(Forbidden):
        commission_rule_create(actor=shop.rep, data={"name": "x", "rate": 1})


# Computation


def test_a_receipt_is_split_across_categories_by_the_documents_lines(shop):
    rule(shop, "3", category=shop.machines)
    rule(shop, "1", category=shop.parts)
    collect(shop, "5000")  # 60 % excavators, 40 % parts
    p = period(shop)

    computed = commission_period_compute(actor=shop.admin, period=p)

    assert computed.line_count == 2
    assert lines_of(p) == [
        ("挖掘机", Decimal("3000"), Decimal("3"), Decimal("90")),
        ("配件", Decimal("2000"), Decimal("1"), Decimal("20")),
    ]
    line = CommissionLine.objects.filter(period=p).first()
    assert line.employee == shop.rep
    assert line.department == shop.rep.department


def test_order_receipts_split_by_the_orders_lines(shop):
    rule(shop, "2", employee=shop.rep)
    collect(shop, "1000", order=True, lines=[(shop.part, 2, "250")])
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert lines_of(p) == [("配件", Decimal("1000"), Decimal("2"), Decimal("20"))]


def test_splits_are_rounded_and_add_up_to_the_receipt(shop):
    params_update(actor=shop.admin, values={"decimals_contract": 2})
    rule(shop, "3")
    # 1 : 2 of 1000.01 → 333.336… → 333.34 and the rest 666.67.
    collect(
        shop,
        "1000.01",
        lines=[(shop.excavator, 1, "100"), (shop.part, 1, "200")],
    )
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert lines_of(p) == [
        ("挖掘机", Decimal("333.34"), Decimal("3"), Decimal("10.00")),
        ("配件", Decimal("666.67"), Decimal("3"), Decimal("20.00")),
    ]


def test_commission_is_rounded_half_up_with_the_contract_places(shop):
    params_update(actor=shop.admin, values={"decimals_contract": 1})
    rule(shop, "2.5")
    collect(shop, "1.0", lines=[])  # 1.0 × 2.5 % = 0.025 → 0.0 at one place
    collect(shop, "3.0", lines=[])  # 0.075 → 0.1
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert [line[3] for line in lines_of(p)] == [Decimal("0"), Decimal("0.1")]


def test_a_document_without_lines_is_one_split_without_category(shop):
    rule(shop, "2")
    collect(shop, "800", lines=[])
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert lines_of(p) == [(None, Decimal("800"), Decimal("2"), Decimal("16"))]


def test_without_a_matching_rule_the_collection_is_listed_at_rate_zero(shop):
    rule(shop, "5", category=shop.machines)
    collect(shop, "5000")
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert lines_of(p) == [
        ("挖掘机", Decimal("3000"), Decimal("5"), Decimal("150")),
        ("配件", Decimal("2000"), Decimal("0"), Decimal("0")),
    ]
    assert CommissionLine.objects.get(category=shop.parts).rule is None


def test_only_posted_receipts_dated_in_the_period_count(shop):
    shop.rep.groups.add(make_role("作废", "sales.void_payment"))
    rule(shop, "1")
    kept = collect(shop, "100", lines=[])
    voided = collect(shop, "200", lines=[])
    payment_void(actor=shop.admin, payment=voided, reason="退票")
    collect(shop, "400", lines=[], on=datetime.date(2026, 2, 1))
    collect(shop, "800", lines=[], on=datetime.date(2025, 12, 31))
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert list(
        CommissionLine.objects.filter(period=p).values_list("payment", flat=True)
    ) == [kept.pk]


def test_collections_belong_to_the_receipts_owner(shop):
    rule(shop, "1")
    collect(shop, "100", lines=[], owner=shop.org.rep_b)
    collect(shop, "300", lines=[], owner=shop.org.rep_c)
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert dict(
        CommissionLine.objects.filter(period=p).values_list("employee", "amount")
    ) == {shop.org.rep_b.pk: Decimal("1"), shop.org.rep_c.pk: Decimal("3")}


def test_recompute_replaces_the_lines_of_an_open_period(shop):
    shop.rep.groups.add(make_role("作废", "sales.void_payment"))
    first_rule = rule(shop, "1")
    payment = collect(shop, "100", lines=[])
    collect(shop, "50", lines=[])
    p = period(shop)
    commission_period_compute(actor=shop.admin, period=p)
    assert CommissionLine.objects.filter(period=p).count() == 2

    payment_void(actor=shop.admin, payment=payment, reason="退票")
    commission_rule_update(actor=shop.admin, obj=first_rule, data={"rate": 10})
    commission_period_compute(actor=shop.admin, period=p)

    assert lines_of(p) == [(None, Decimal("50"), Decimal("10"), Decimal("5"))]


def test_computing_needs_the_change_permission(shop):
    p = period(shop)
    viewer = UserFactory(
        department=shop.rep.department,
        roles=[make_role("佣金查看", "sales.view_commissionperiod")],
    )
    with pytest.raises(Forbidden):
        commission_period_compute(actor=viewer, period=p)


# Periods


def test_periods_never_overlap(shop):
    jan = period(shop)
    with pytest.raises(Invalid) as refused:
        period(shop, datetime.date(2026, 1, 20), datetime.date(2026, 2, 10), "x")
    assert jan.name in refused.value.fields["start_on"][0]
    with pytest.raises(Invalid):
        period(shop, datetime.date(2025, 12, 1), datetime.date(2026, 3, 1), "around")
    feb = period(shop, datetime.date(2026, 2, 1), datetime.date(2026, 2, 28), "2月")
    with pytest.raises(Invalid):
        commission_period_update(
            actor=shop.admin, obj=feb, data={"start_on": datetime.date(2026, 1, 31)}
        )


def test_a_period_ends_after_it_starts(shop):
    with pytest.raises(Invalid) as refused:
        period(shop, datetime.date(2026, 3, 31), datetime.date(2026, 3, 1))
    assert "end_on" in refused.value.fields


def test_closing_computes_and_locks_the_period(shop):
    shop.rep.groups.add(make_role("作废", "sales.void_payment"))
    rule(shop, "2")
    payment = collect(shop, "500", lines=[])
    p = period(shop)
    with pytest.raises(Forbidden):
        commission_period_close(actor=shop.rep, period=p)

    closed = commission_period_close(actor=shop.admin, period=p)

    assert closed.status == CommissionPeriod.Status.CLOSED
    assert closed.closed_by == shop.admin
    assert lines_of(p) == [(None, Decimal("500"), Decimal("2"), Decimal("10"))]
    with pytest.raises(Conflict):
        commission_period_compute(actor=shop.admin, period=p)
    with pytest.raises(Conflict):
        commission_period_close(actor=shop.admin, period=p)
    with pytest.raises(Conflict):
        commission_period_update(actor=shop.admin, obj=p, data={"name": "改名"})
    with pytest.raises(Conflict):
        payment_void(actor=shop.admin, payment=payment, reason="退票")
    with pytest.raises(Invalid):
        payment_record(
            actor=shop.rep,
            instalment=receivable(shop.rep),
            amount="1",
            received_on=IN_JAN,
        )
    # The closed figures stand even when the rules change later.
    CommissionRule.objects.update(rate=Decimal("50"))
    assert lines_of(p) == [(None, Decimal("500"), Decimal("2"), Decimal("10"))]
