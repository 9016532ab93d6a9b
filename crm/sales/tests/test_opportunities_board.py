"""The pipeline board: columns, totals computed by the database, scope, filters, and the
htmx move endpoint (updated totals, stale card 409, reason for won/lost, 404)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.sales.models import Opportunity, Stage
from crm.sales.selectors.opportunities import pipeline_board
from crm.sales.services import opportunities as services
from crm.sales.tests.opportunities_support import make_deal, stages

pytest_plugins = ["crm.sales.tests.opportunities_fixtures"]
pytestmark = pytest.mark.usefixtures("english")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deals(sales_org, stage_admin):
    """Deals of rep_a and rep_b (east) and rep_c (south) spread over the open stages,
    with probabilities made uneven so that a wrong weighting shows."""
    open_stages = stages()["open"]
    for stage, probability in zip(open_stages, (15, 33, 60, 85), strict=False):
        services.stage_update(
            actor=stage_admin, stage=stage, data={"probability": probability}
        )
    amounts = ["1000.10", "2500.55", "333.33", "99999.99", "0", "12.5", "7000"]
    created = []
    for index, amount in enumerate(amounts):
        for rep in (sales_org.rep_a, sales_org.rep_b, sales_org.rep_c):
            created.append(
                make_deal(
                    rep,
                    stage=open_stages[index % len(open_stages)],
                    amount=amount,
                    name=f"{rep.username}-{index}",
                    expected_close_on=datetime.date(2026, 1 + index, 15),
                )
            )
    closed = make_deal(sales_org.rep_a, amount="555", name="closed")
    services.opportunity_close(
        actor=sales_org.rep_a,
        opportunity=closed,
        outcome="won",
        reason="ok",
        version=closed.version,
    )
    return created


def expected_totals(visible) -> dict[int, dict]:
    """Per open stage: count, amount and amount × probability / 100, in Python."""
    result: dict[int, dict] = {}
    for deal in visible:
        row = result.setdefault(
            deal.stage_id, {"count": 0, "amount": Decimal(0), "weighted": Decimal(0)}
        )
        row["count"] += 1
        row["amount"] += deal.amount
        row["weighted"] += deal.amount * deal.stage.probability / Decimal(100)
    return result


@pytest.mark.parametrize("who", ["rep_a", "manager", "admin"])
def test_totals_per_stage_equal_independent_sums(sales_org, deals, who):
    user = getattr(sales_org, who)
    board = pipeline_board(actor=user, params={})
    visible_owners = {
        "rep_a": {sales_org.rep_a.pk},
        "manager": {sales_org.rep_a.pk, sales_org.rep_b.pk},
        "admin": {sales_org.rep_a.pk, sales_org.rep_b.pk, sales_org.rep_c.pk},
    }[who]
    visible = [
        d
        for d in Opportunity.objects.select_related("stage")
        if d.owner_id in visible_owners and d.status == "open"
    ]
    expected = expected_totals(visible)
    assert [c.stage for c in board["columns"]] == stages()["open"]
    for column in board["columns"]:
        want = expected.get(column.stage.pk, {"count": 0, "amount": 0, "weighted": 0})
        assert column.count == want["count"]
        assert column.amount == want["amount"]
        assert column.weighted == want["weighted"]
        assert {c.owner_id for c in column.cards} <= visible_owners
        assert len(column.cards) == column.count
    assert board["summary"]["count"] == len(visible)
    assert board["summary"]["weighted"] == sum(
        (row["weighted"] for row in expected.values()), Decimal(0)
    )


def test_won_and_lost_zones_count_this_months_closings(sales_org, deals):
    board = pipeline_board(actor=sales_org.rep_a, params={})
    zones = {z.stage.kind: z for z in board["zones"]}
    assert set(zones) == {"won", "lost"}
    assert (zones["won"].count, zones["won"].amount) == (1, Decimal("555"))
    assert zones["lost"].count == 0


def test_filters_owner_department_and_close_range(sales_org, deals):
    manager = sales_org.manager
    by_owner = pipeline_board(actor=manager, params={"owner": sales_org.rep_b.pk})
    owners = {c.owner_id for col in by_owner["columns"] for c in col.cards}
    assert owners == {sales_org.rep_b.pk}
    by_department = pipeline_board(
        actor=manager, params={"department": sales_org.east_office.pk}
    )
    owners = {c.owner_id for col in by_department["columns"] for c in col.cards}
    assert owners == {sales_org.rep_b.pk}
    ranged = pipeline_board(
        actor=sales_org.rep_a,
        params={"close_from": "2026-02-01", "close_to": "2026-03-31"},
    )
    dates = {c.expected_close_on for col in ranged["columns"] for c in col.cards}
    assert dates == {datetime.date(2026, 2, 15), datetime.date(2026, 3, 15)}
    assert ranged["summary"]["count"] == 2
    # A department outside the manager's scope is not offered.
    offered = by_owner["filterset"].form.fields["department"].queryset
    assert sales_org.south not in offered


def test_the_board_page_shows_only_the_scope(sales_org, deals, client_for):
    page = client_for(sales_org.rep_a).get(reverse("sales:pipeline"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "rep_a-0" in text
    assert "rep_c-0" not in text
    assert "rep_b-0" not in text
    for stage in stages()["open"] + stages()["won"] + stages()["lost"]:
        assert f'data-stage="{stage.pk}"' in text
    partial = client_for(sales_org.rep_a).get(
        reverse("sales:pipeline"), {"close_from": "2026-07-01"}, **HTMX
    )
    assert "<html" not in partial.content.decode()
    assert "rep_a-6" in partial.content.decode()
    assert "rep_a-0" not in partial.content.decode()


def _move(client, deal, stage, **extra):
    return client.post(
        reverse("sales:pipeline-move"),
        {"opportunity": deal.pk, "stage": stage.pk, "version": deal.version, **extra},
        **HTMX,
    )


def _column(response, stage):
    return next(c for c in response.context["columns"] if c.stage.pk == stage.pk)


def test_move_endpoint_answers_updated_totals(sales_org, deals, client_for):
    first, second = stages()["open"][:2]
    deal = Opportunity.objects.get(name="rep_a-0")
    assert deal.stage == first
    client = client_for(sales_org.rep_a)
    before = client.get(reverse("sales:pipeline"))
    response = _move(client, deal, second)
    assert response.status_code == 200
    assert "moved to" in response.content.decode()
    for stage, sign in ((first, -1), (second, 1)):
        was, now = _column(before, stage), _column(response, stage)
        assert now.count == was.count + sign
        assert now.amount == was.amount + sign * deal.amount
        assert now.weighted == (
            was.weighted + sign * deal.amount * stage.probability / Decimal(100)
        )
    assert deal.pk in [c.pk for c in _column(response, second).cards]
    deal.refresh_from_db()
    assert deal.stage == second


def test_stale_card_gets_409_and_the_current_board(sales_org, deals, client_for):
    second, third = stages()["open"][1:3]
    deal = Opportunity.objects.get(name="rep_a-0")
    client = client_for(sales_org.rep_a)
    assert _move(client, deal, second).status_code == 200
    stale = _move(client, deal, third)  # the card still carries the old version
    assert stale.status_code == 409
    assert "changed by someone else" in stale.content.decode()
    assert deal.pk in [c.pk for c in _column(stale, second).cards]
    deal.refresh_from_db()
    assert deal.stage == second


def test_dropping_on_won_or_lost_needs_the_reason(
    sales_org, deals, client_for, competitor
):
    lost = stages()["lost"][0]
    deal = Opportunity.objects.get(name="rep_a-1")
    client = client_for(sales_org.rep_a)
    refused = _move(client, deal, lost)
    assert refused.status_code == 400
    assert "Say why" in refused.content.decode()
    deal.refresh_from_db()
    assert deal.is_open
    done = _move(client, deal, lost, reason="价格高", lost_to=competitor.pk)
    assert done.status_code == 200
    deal.refresh_from_db()
    assert (deal.status, deal.lost_to, deal.close_reason) == (
        Opportunity.Status.LOST,
        competitor,
        "价格高",
    )
    zone = next(z for z in done.context["zones"] if z.stage.pk == lost.pk)
    assert zone.count == 1
    assert deal.pk not in [c.pk for col in done.context["columns"] for c in col.cards]


def test_moving_another_reps_card_is_404(sales_org, deals, client_for):
    other = Opportunity.objects.get(name="rep_c-0")
    response = _move(client_for(sales_org.rep_a), other, stages()["open"][1])
    assert response.status_code == 404
    assert "rep_c-0" not in response.content.decode()
    other.refresh_from_db()
    assert other.stage == stages()["open"][0]


def test_moving_needs_the_change_permission(sales_org, deals, client_for):
    from crm.org.tests.factories import make_role

    sales_org.rep_a.groups.set([make_role("只看", "sales.view_opportunity")])
    deal = Opportunity.objects.get(name="rep_a-0")
    response = _move(client_for(sales_org.rep_a), deal, stages()["open"][1])
    assert response.status_code == 403
    assert (
        'draggable="true"'
        not in client_for(sales_org.rep_a)
        .get(reverse("sales:pipeline"))
        .content.decode()
    )


def test_inactive_stage_is_no_column(sales_org, stage_admin):
    spare = stages()["open"][-1]
    services.stage_deactivate(actor=stage_admin, stage=spare)
    board = pipeline_board(actor=sales_org.rep_a, params={})
    assert spare not in [c.stage for c in board["columns"]]
    assert Stage.objects.filter(is_active=True, kind="open").count() == len(
        board["columns"]
    )
