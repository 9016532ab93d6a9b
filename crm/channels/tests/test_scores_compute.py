"""D8 scoring against hand-computed expectations (the scenario is spelled out in
scores_fixtures.scored_org): each measure, the weighted total, ranks with ties, rebate
tier selection, penalties, recompute and closing."""

from decimal import Decimal

import pytest
from django.utils import translation

from crm.channels.models import Kpi, PartnerScore, ScorePeriod
from crm.channels.services import scores as services
from crm.channels.tests.scores_fixtures import *  # noqa: F403
from crm.channels.tests.scores_fixtures import agreement, day, report, target
from crm.core.errors import Conflict, Forbidden

D = Decimal


def entry(score, code):
    return next(e for e in score.breakdown if e["kpi"] == code)


@pytest.fixture
def computed(scored_org):
    services.score_period_compute(actor=scored_org.admin, period=scored_org.period)
    return {
        s.partner_id: s for s in PartnerScore.objects.filter(period=scored_org.period)
    }


def test_default_scorecard_is_installed(db):
    active = {k.code: k.weight for k in Kpi.objects.filter(active=True)}
    assert active == {
        "target_achievement": D("40"),
        "growth": D("15"),
        "inventory_health": D("15"),
        "reporting_timeliness": D("15"),
        "service_level": D("15"),
    }
    assert set(Kpi.objects.filter(active=False).values_list("code", flat=True)) == {
        "new_customers",
        "product_lines",
    }


def test_each_measure_of_partner_a(scored_org, computed):
    s = computed[scored_org.partner_a.pk]
    achievement = entry(s, "target_achievement")
    assert D(achievement["inputs"]["sell_through"]) == D("850000")
    assert D(achievement["inputs"]["target"]) == D("1000000")
    assert D(achievement["inputs"]["achievement"]) == D("85.00")
    assert D(achievement["points"]) == D("85.00")
    growth = entry(s, "growth")
    assert D(growth["inputs"]["previous"]) == D("680000")
    assert D(growth["inputs"]["growth"]) == D("25.00")
    assert D(growth["points"]) == D("75.00")
    stock = entry(s, "inventory_health")
    items = {i["product"]: i for i in stock["inputs"]["items"]}
    assert set(items) == {"EX-350", "FL-01"}  # p1: no stock, no sales → not carried
    assert D(items["FL-01"]["stock"]) == D("200")
    assert D(items["FL-01"]["days"]) == D("60.00")
    assert (items["FL-01"]["low"], items["FL-01"]["high"]) == (30, 70)
    assert items["FL-01"]["inside"] is True
    assert items["EX-350"]["days"] is None
    assert items["EX-350"]["inside"] is False
    assert D(stock["points"]) == D("50.00")
    timely = entry(s, "reporting_timeliness")
    assert [i["on_time"] for i in timely["inputs"]["items"]] == [True, False, True]
    assert timely["inputs"]["items"][2]["deadline"] == "2026-04-05"
    assert D(timely["points"]) == D("66.67")
    service = entry(s, "service_level")
    assert D(service["points"]) == D("95.00")
    assert s.total == D("77.00")
    assert s.sell_through_amount == D("850000")
    assert s.sell_in_amount == D("226000")
    assert s.achievement_percent == D("85.00")


def test_weights_are_normalised_over_applicable_kpis(scored_org, computed):
    s = computed[scored_org.partner_a2.pk]
    assert D(entry(s, "target_achievement")["points"]) == D("50.00")
    assert D(entry(s, "growth")["points"]) == D("50")  # no previous sales: neutral
    assert entry(s, "inventory_health")["applicable"] is False
    assert entry(s, "service_level")["applicable"] is False
    assert D(entry(s, "reporting_timeliness")["points"]) == D("33.33")
    # (50×40 + 50×15 + 33.33×15) ÷ 70 = 46.4278…
    assert s.total == D("46.43")
    assert D(entry(s, "target_achievement")["share"]) == D("57.14")  # 40 ÷ 70
    assert entry(s, "service_level")["weighted"] is None


def test_ranks_ties_share_and_terminated_is_not_scored(scored_org, computed):
    ranks = {pk: (s.total, s.rank) for pk, s in computed.items()}
    org = scored_org
    assert ranks == {
        org.partner_a.pk: (D("77.00"), 1),
        org.partner_a2.pk: (D("46.43"), 2),
        org.partner_c.pk: (D("25.00"), 3),
        org.partner_e.pk: (D("25.00"), 3),
    }


def test_rank_after_a_tie_skips():
    scores = [PartnerScore(total=D(t)) for t in ("70", "90", "80", "80")]
    services.rank_scores(scores)
    assert [s.rank for s in scores] == [4, 1, 2, 2]


def test_rebate_highest_tier_reached_and_penalty_largest(scored_org, computed):
    a = computed[scored_org.partner_a.pk]
    assert a.rebate_amount == D("4520.00")  # 226,000 × 2 % (tier 80 %, not 100 %)
    assert a.penalty_amount == D("0")
    a2 = computed[scored_org.partner_a2.pk]
    assert a2.rebate_amount == D("0")
    assert a2.penalty_amount == D("10000")  # below 60 and below 80: the larger fine
    c = computed[scored_org.partner_c.pk]
    assert (c.rebate_amount, c.penalty_amount) == (D("0"), D("0"))
    with translation.override("en"):
        assert (
            "No agreement in force"
            in services.agreement_outcome(
                services.Facts(scored_org.partner_c), scored_org.period
            )["text"]
        )


def test_rebate_at_exactly_the_top_threshold(scored_org):
    """Achievement exactly 100.00 % reaches the 100 % tier: 5 % of sell-in."""
    org = scored_org
    org.target_a.sales_amount = D("850000")
    org.target_a.save()
    period = services.score_period_compute(actor=org.admin, period=org.period)
    s = PartnerScore.objects.get(period=period, partner=org.partner_a)
    assert s.achievement_percent == D("100.00")
    assert s.rebate_amount == D("11300.00")  # 226,000 × 5 %
    assert D(entry(s, "target_achievement")["points"]) == D("100.00")


def test_growth_is_linear_and_bounded(scored_org):
    f = services.Facts(scored_org.partner_a)
    params = {"span": 50}
    for current, previous, points in (
        ("100", "100", "50.00"),
        ("150", "100", "100.00"),
        ("300", "100", "100.00"),
        ("50", "100", "0.00"),
        ("0", "100", "0.00"),
        ("90", "100", "40.00"),
        ("100", "0", "50"),
    ):
        f.sell_through, f.previous = D(current), D(previous)
        assert services.measure_growth(f, params)[0] == D(points), (current, previous)


def test_inactive_kpis_can_be_switched_on(scored_org):
    org = scored_org
    Kpi.objects.filter(code="new_customers").update(active=True, weight=D("15"))
    Kpi.objects.filter(code="product_lines").update(active=True, weight=D("10"))
    org.target_a.lines.create(category=org.catalogue.root, quantity=D("10"))
    org.target_a.lines.create(category=org.catalogue.parts, quantity=D("50"))
    services.score_period_compute(actor=org.admin, period=org.period)
    s = PartnerScore.objects.get(period=org.period, partner=org.partner_a)
    new = entry(s, "new_customers")
    # X first bought in January; Y had bought in December 2025: 1 new of 2 → 50
    assert new["inputs"] == {"actual": 1, "target": 2}
    assert D(new["points"]) == D("50.00")
    lines = entry(s, "product_lines")
    # 整机 (excavators below it): 3 + 2 = 5 of 10 → 50; 配件: 100 of 50 → 100 (capped)
    assert [i["points"] for i in lines["inputs"]["items"]] == ["50.00", "100.00"]
    assert D(lines["points"]) == D("75.00")
    # (3400 + 1125 + 750 + 1000.05 + 1425 + 750 + 750) ÷ 125 = 73.6004
    assert s.total == D("73.60")


def test_recompute_replaces_and_close_locks(scored_org, computed):
    org = scored_org
    report(
        org.partner_c, "2026-02-02", [("2026-01-05", org.catalogue.p1, 1, "1000", None)]
    )
    services.score_period_compute(actor=org.admin, period=org.period)
    assert PartnerScore.objects.filter(period=org.period).count() == 4
    c = PartnerScore.objects.get(period=org.period, partner=org.partner_c)
    assert D(entry(c, "reporting_timeliness")["points"]) == D("33.33")
    with pytest.raises(Forbidden):
        services.period_close(actor=org.mgr_a, period=org.period)
    period = services.period_close(actor=org.admin, period=org.period)
    assert period.status == ScorePeriod.Status.CLOSED
    assert period.closed_by == org.admin
    with pytest.raises(Conflict):
        services.score_period_compute(actor=org.admin, period=period)
    with pytest.raises(Conflict):
        services.period_close(actor=org.admin, period=period)
    # targets inside the closed quarter are final: edit, delete, create all refused
    with pytest.raises(Conflict):
        services.target_update(
            actor=org.admin,
            obj=org.target_a,
            data={"sales_amount": D("1")},
            version=org.target_a.version,
        )
    with pytest.raises(Conflict):
        services.target_delete(actor=org.admin, obj=org.target_a)
    with pytest.raises(Conflict):
        services.target_create(
            actor=org.admin,
            data={
                "partner": org.partner_c,
                "period_kind": "month",
                "starts_on": day("2026-02-01"),
                "sales_amount": D("100"),
            },
        )
    # a target outside it (the year 2026) is still open
    services.target_create(
        actor=org.admin,
        data={
            "partner": org.partner_c,
            "period_kind": "year",
            "starts_on": day("2026-01-01"),
            "sales_amount": D("100"),
        },
    )


def test_close_needs_a_computation(scored_org):
    with pytest.raises(Conflict):
        services.period_close(actor=scored_org.admin, period=scored_org.period)


def test_compute_covers_all_partners_whoever_computes(scored_org):
    """mgr_a sees two partners, but ranks are global: the computation scores all."""
    services.score_period_compute(actor=scored_org.mgr_a, period=scored_org.period)
    assert PartnerScore.objects.filter(period=scored_org.period).count() == 4


def test_agreement_outside_the_period_end_is_not_used(scored_org):
    org = scored_org
    agreement(
        org.partner_c, rebates=[("0", "10")], start="2025-01-01", end="2025-12-31"
    )
    target(org.partner_c, sales_amount=D("100"))
    services.score_period_compute(actor=org.admin, period=org.period)
    c = PartnerScore.objects.get(period=org.period, partner=org.partner_c)
    assert c.rebate_amount == D("0")


def test_a_quarter_without_its_own_target_adds_up_its_month_targets(scored_org):
    """partner_c: months 100 + 200 + 300 = 600 (service levels 90 and 80 → 85, actual
    85 entered once → 85); 450 sold in January → 75.00 % achievement."""
    org = scored_org
    target(org.partner_c, "month", "2026-01-01", "2026-01-31", sales_amount=D("100"))
    target(
        org.partner_c,
        "month",
        "2026-02-01",
        "2026-02-28",
        sales_amount=D("200"),
        service_level=D("90"),
        service_level_actual=D("85"),
    )
    target(
        org.partner_c,
        "month",
        "2026-03-01",
        "2026-03-31",
        sales_amount=D("300"),
        service_level=D("80"),
    )
    target(org.partner_c, "month", "2026-04-01", "2026-04-30", sales_amount=D("999"))
    report(
        org.partner_c, "2026-02-01", [("2026-01-05", org.catalogue.p3, 5, "450", None)]
    )
    services.score_period_compute(actor=org.admin, period=org.period)
    c = PartnerScore.objects.get(period=org.period, partner=org.partner_c)
    achievement = entry(c, "target_achievement")
    assert achievement["inputs"]["targets"] == 3
    assert D(achievement["inputs"]["target"]) == D("600")
    assert c.achievement_percent == D("75.00")
    assert D(entry(c, "service_level")["points"]) == D("100.00")  # 85 ÷ 85
