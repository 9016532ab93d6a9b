"""Opportunity services: create, edit, products, moves, closing, reopening, stage rules."""

from decimal import Decimal

import pytest
from django.utils import translation

from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.customers.tests.factories import CustomerFactory
from crm.org.tests.factories import make_role
from crm.sales.models import Opportunity, Stage, StageChange
from crm.sales.services import opportunities as services
from crm.sales.tests.opportunities_support import make_deal, stages

pytest_plugins = ["crm.sales.tests.opportunities_fixtures"]


def test_create_numbers_defaults_and_records_the_first_stage(sales_org, customer):
    deal = services.opportunity_create(
        actor=sales_org.rep_a,
        data={"name": " ERP 项目 ", "customer": customer, "amount": "120000.50"},
    )
    assert deal.number.startswith("SJ")
    assert deal.name == "ERP 项目"
    assert deal.amount == Decimal("120000.50")
    assert (deal.owner, deal.department) == (sales_org.rep_a, sales_org.east)
    first = Stage.objects.filter(kind="open", is_active=True).order_by("sort_order")[0]
    assert deal.stage == first
    assert deal.status == Opportunity.Status.OPEN
    assert deal.stage_changed_at is not None
    change = StageChange.objects.get(opportunity=deal)
    assert (change.from_stage, change.to_stage, change.changed_by) == (
        None,
        first,
        sales_org.rep_a,
    )
    assert AuditEvent.objects.filter(
        object_id=str(deal.pk), action=AuditEvent.Action.CREATE
    ).exists()


def test_create_refuses_a_customer_outside_the_scope(sales_org):
    other = CustomerFactory(owner=sales_org.rep_c)
    with pytest.raises(Invalid) as exc:
        services.opportunity_create(
            actor=sales_org.rep_a, data={"name": "x", "customer": other}
        )
    assert "customer" in exc.value.fields
    assert not Opportunity.objects.exists()


def test_create_with_products_derives_the_amount(sales_org, customer, make_product):
    product = make_product(sales_org.rep_a, list_price=Decimal("250.00"))
    deal = services.opportunity_create(
        actor=sales_org.rep_a,
        data={"name": "x", "customer": customer},
        products=[{"product": product, "quantity": "3"}],
    )
    assert deal.amount == Decimal("750.00")
    assert deal.products.get().unit_price == Decimal("250.00")


# Moves, closing, reopening


def test_move_records_the_change_and_the_time(sales_org):
    first, second = stages()["open"][:2]
    deal = make_deal(sales_org.rep_a, stage=first)
    before = deal.stage_changed_at
    moved = services.opportunity_move(
        actor=sales_org.rep_a, opportunity=deal, stage=second, version=deal.version
    )
    assert moved.stage == second
    assert moved.version == deal.version + 1
    assert moved.stage_changed_at >= before
    assert moved.status == Opportunity.Status.OPEN
    last = StageChange.objects.filter(opportunity=deal).last()
    assert (last.from_stage, last.to_stage) == (first, second)


def test_move_with_a_stale_version_is_a_conflict(sales_org):
    first, second, third = stages()["open"][:3]
    deal = make_deal(sales_org.rep_a, stage=first)
    services.opportunity_move(
        actor=sales_org.rep_a, opportunity=deal, stage=second, version=deal.version
    )
    with pytest.raises(Conflict) as exc:
        services.opportunity_move(
            actor=sales_org.rep_a, opportunity=deal, stage=third, version=deal.version
        )
    assert "version" in exc.value.fields
    deal.refresh_from_db()
    assert deal.stage == second


def test_another_reps_deal_cannot_be_moved(sales_org):
    deal = make_deal(sales_org.rep_c)
    with pytest.raises(NotFound):
        services.opportunity_move(
            actor=sales_org.rep_a,
            opportunity=deal,
            stage=stages()["open"][1],
            version=deal.version,
        )


def test_moving_needs_the_change_permission(sales_org):
    deal = make_deal(sales_org.rep_a)
    sales_org.rep_a.groups.clear()
    sales_org.rep_a.groups.add(
        make_role("只看", "sales.view_opportunity", "sales.add_opportunity")
    )
    rep = type(sales_org.rep_a).objects.get(pk=sales_org.rep_a.pk)
    with pytest.raises(Forbidden):
        services.opportunity_move(
            actor=rep, opportunity=deal, stage=stages()["open"][1], version=1
        )


@pytest.mark.parametrize(
    ("kind", "status"),
    [("won", Opportunity.Status.WON), ("lost", Opportunity.Status.LOST)],
)
def test_status_follows_the_kind_of_the_stage(sales_org, kind, status):
    deal = make_deal(sales_org.rep_a, amount="500")
    target = stages()[kind][0]
    closed = services.opportunity_move(
        actor=sales_org.rep_a,
        opportunity=deal,
        stage=target,
        version=deal.version,
        reason="客户决策",
    )
    assert closed.status == status
    assert closed.stage == target
    assert closed.closed_at is not None
    assert closed.close_reason == "客户决策"
    assert StageChange.objects.filter(opportunity=deal, to_stage=target).exists()
    assert AuditEvent.objects.filter(object_id=str(deal.pk), action="close").exists()


def test_closing_requires_a_reason(sales_org):
    deal = make_deal(sales_org.rep_a)
    for move in (
        lambda: services.opportunity_move(
            actor=sales_org.rep_a,
            opportunity=deal,
            stage=stages()["lost"][0],
            version=deal.version,
            reason="  ",
        ),
        lambda: services.opportunity_close(
            actor=sales_org.rep_a,
            opportunity=deal,
            outcome="won",
            reason="",
            version=deal.version,
        ),
    ):
        with pytest.raises(Invalid) as exc:
            move()
        assert "reason" in exc.value.fields
    deal.refresh_from_db()
    assert deal.is_open
    assert deal.closed_at is None


def test_lost_to_a_competitor_only_when_lost(sales_org, competitor):
    deal = make_deal(sales_org.rep_a)
    with pytest.raises(Invalid) as exc:
        services.opportunity_close(
            actor=sales_org.rep_a,
            opportunity=deal,
            outcome="won",
            reason="x",
            lost_to=competitor,
            version=deal.version,
        )
    assert "lost_to" in exc.value.fields
    lost = services.opportunity_close(
        actor=sales_org.rep_a,
        opportunity=deal,
        outcome="lost",
        reason="价格",
        lost_to=competitor,
        version=deal.version,
    )
    assert lost.lost_to == competitor
    assert lost.stage == stages()["lost"][0]


def test_a_closed_deal_is_read_only_until_reopened(sales_org, make_product):
    first, second = stages()["open"][:2]
    deal = make_deal(sales_org.rep_a, stage=second)
    closed = services.opportunity_close(
        actor=sales_org.rep_a,
        opportunity=deal,
        outcome="lost",
        reason="预算取消",
        version=deal.version,
    )
    refused = [
        lambda: services.opportunity_update(
            actor=sales_org.rep_a,
            obj=closed,
            data={"name": "x"},
            version=closed.version,
        ),
        lambda: services.opportunity_move(
            actor=sales_org.rep_a,
            opportunity=closed,
            stage=first,
            version=closed.version,
        ),
        lambda: services.opportunity_product_add(
            actor=sales_org.rep_a,
            opportunity=closed,
            data={"product": make_product(sales_org.rep_a)},
            version=closed.version,
        ),
    ]
    for call in refused:
        with pytest.raises(Conflict):
            call()
    reopened = services.opportunity_reopen(
        actor=sales_org.rep_a, opportunity=closed, version=closed.version
    )
    assert reopened.status == Opportunity.Status.OPEN
    assert reopened.stage == second  # the stage it was closed from
    assert (reopened.closed_at, reopened.close_reason, reopened.lost_to) == (
        None,
        "",
        None,
    )
    with pytest.raises(Conflict):
        services.opportunity_reopen(
            actor=sales_org.rep_a, opportunity=reopened, version=reopened.version
        )


def test_reopening_needs_the_change_permission(sales_org):
    deal = make_deal(sales_org.rep_a)
    closed = services.opportunity_close(
        actor=sales_org.rep_a,
        opportunity=deal,
        outcome="won",
        reason="x",
        version=deal.version,
    )
    viewer = make_role("只看", "sales.view_opportunity")
    sales_org.rep_a.groups.set([viewer])
    rep = type(sales_org.rep_a).objects.get(pk=sales_org.rep_a.pk)
    with pytest.raises(Forbidden):
        services.opportunity_reopen(
            actor=rep, opportunity=closed, version=closed.version
        )


# Products and amount


def test_amount_follows_the_products_unless_typed(sales_org, make_product):
    product = make_product(sales_org.rep_a, list_price=Decimal("100.00"))
    deal = make_deal(sales_org.rep_a)
    deal = services.opportunity_product_add(
        actor=sales_org.rep_a,
        opportunity=deal,
        data={"product": product, "quantity": "3", "unit_price": "99.50"},
        version=deal.version,
    )
    assert deal.amount == Decimal("298.50")
    typed = make_deal(sales_org.rep_a, amount="50000")
    typed = services.opportunity_product_add(
        actor=sales_org.rep_a,
        opportunity=typed,
        data={"product": product, "quantity": "1"},
        version=typed.version,
    )
    assert typed.amount == Decimal("50000")


def test_a_product_outside_the_scope_or_a_bad_quantity_is_refused(
    sales_org, make_product
):
    deal = make_deal(sales_org.rep_a)
    hidden = make_product(sales_org.rep_c)
    mine = make_product(sales_org.rep_a)
    with pytest.raises(Invalid) as exc:
        services.opportunity_product_add(
            actor=sales_org.rep_a,
            opportunity=deal,
            data={"product": hidden},
            version=deal.version,
        )
    assert "product" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        services.opportunity_product_add(
            actor=sales_org.rep_a,
            opportunity=deal,
            data={"product": mine, "quantity": "0"},
            version=deal.version,
        )
    assert "quantity" in exc.value.fields
    assert not deal.products.exists()


def test_update_sets_competitors_and_refuses_a_changed_stage(sales_org, competitor):
    deal = make_deal(sales_org.rep_a)
    updated = services.opportunity_update(
        actor=sales_org.rep_a,
        obj=deal,
        data={"name": "新名字", "competitors": [competitor]},
        version=deal.version,
    )
    assert updated.name == "新名字"
    assert list(updated.competitors.all()) == [competitor]
    with pytest.raises(Invalid) as exc:
        services.opportunity_update(
            actor=sales_org.rep_a,
            obj=updated,
            data={"stage": stages()["open"][2]},
            version=updated.version,
        )
    assert "stage" in exc.value.fields


# Stage configuration


def test_one_open_won_and_lost_stage_stay_active(stage_admin):
    for kind in ("open", "won", "lost"):
        for stage in stages()[kind][:-1]:
            services.stage_deactivate(actor=stage_admin, stage=stage)
        last = stages()[kind][-1]
        with translation.override("en"), pytest.raises(Invalid) as exc:
            services.stage_deactivate(actor=stage_admin, stage=last)
        assert "must stay active" in exc.value.message
        last.refresh_from_db()
        assert last.is_active
    # Changing the only active won stage into an open one is refused too.
    won = stages()["won"][0]
    with pytest.raises(Invalid):
        services.stage_update(
            actor=stage_admin, stage=won, data={"kind": "open", "probability": 50}
        )


def test_a_stage_with_open_deals_stays_active_and_keeps_its_kind(
    sales_org, stage_admin
):
    first = stages()["open"][0]
    make_deal(sales_org.rep_a, stage=first)
    with pytest.raises(Invalid) as exc:
        services.stage_deactivate(actor=stage_admin, stage=first)
    assert "is_active" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        services.stage_update(
            actor=stage_admin, stage=first, data={"kind": "lost", "probability": 0}
        )
    assert "kind" in exc.value.fields


def test_stage_probabilities_and_names(stage_admin):
    with pytest.raises(Invalid) as exc:
        services.stage_create(
            actor=stage_admin, data={"name": "签约", "probability": 80, "kind": "won"}
        )
    assert "probability" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        services.stage_create(
            actor=stage_admin, data={"name": "x", "probability": 101, "kind": "open"}
        )
    assert "probability" in exc.value.fields
    existing = stages()["open"][0]
    with pytest.raises(Invalid) as exc:
        services.stage_create(
            actor=stage_admin, data={"name": existing.name, "probability": 5}
        )
    assert "name" in exc.value.fields
    stage = services.stage_create(
        actor=stage_admin, data={"name": "技术交流", "probability": 35}
    )
    assert stage.kind == Stage.Kind.OPEN
    assert stage.sort_order > existing.sort_order


def test_reorder_and_permission(sales_org, stage_admin):
    ids = list(Stage.objects.order_by("sort_order").values_list("pk", flat=True))
    services.stage_reorder(actor=stage_admin, order=list(reversed(ids)))
    assert list(
        Stage.objects.order_by("sort_order").values_list("pk", flat=True)
    ) == list(reversed(ids))
    with pytest.raises(Invalid):
        services.stage_reorder(actor=stage_admin, order=ids[:-1])
    with pytest.raises(Forbidden):
        services.stage_create(actor=sales_org.rep_a, data={"name": "x"})


def test_a_typed_amount_is_rounded_like_a_quote(sales_org, customer):
    deal = services.opportunity_create(
        actor=sales_org.rep_a,
        data={"name": "x", "customer": customer, "amount": "10.005"},
    )
    assert deal.amount == Decimal("10.01")
    with pytest.raises(Invalid) as exc:
        services.opportunity_create(
            actor=sales_org.rep_a,
            data={"name": "x", "customer": customer, "amount": "-1"},
        )
    assert "amount" in exc.value.fields
