"""D7/D8 pages and APIs: targets with achievement in SQL, closed periods lock, the
period page explains each number, HQ scope (mgr_a sees only partner_a/a2) and portal
isolation (another partner's ids: 404)."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation
from openpyxl import load_workbook

from crm.channels.models import Kpi, PartnerScore, PartnerTarget, ScorePeriod
from crm.channels.services import scores as services
from crm.channels.tests.scores_fixtures import *  # noqa: F403
from crm.channels.tests.scores_fixtures import target

D = Decimal


def grant_export(user):
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="core", codename="export_data")
    )


@pytest.fixture
def closed(scored_org):
    services.score_period_compute(actor=scored_org.admin, period=scored_org.period)
    services.period_close(actor=scored_org.admin, period=scored_org.period)
    scored_org.scores = {
        s.partner_id: s for s in PartnerScore.objects.filter(period=scored_org.period)
    }
    return scored_org


# Targets


def test_target_list_shows_achievement_computed_in_sql(
    scored_org, client_for, django_assert_max_num_queries
):
    client = client_for(scored_org.mgr_a)
    with django_assert_max_num_queries(20):
        page = client.get("/channels/targets/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "85.00%" in html  # 850,000 of 1,000,000
    assert "50.00%" in html  # partner_a2: 250,000 of 500,000
    from crm.channels.selectors.scores import target_queryset

    a = target_queryset(actor=scored_org.mgr_a).get(pk=scored_org.target_a.pk)
    assert a.sell_through_actual == D("850000")
    assert a.new_customers_actual == 1  # X is new; Y bought in December 2025
    assert a.achievement.quantize(D("0.01")) == D("85.00")


def test_target_list_filters_and_scope(scored_org, client_for):
    org = scored_org
    target(org.partner_c, sales_amount=D("7"))
    mine = client_for(org.mgr_a).get("/api/v1/channels/targets/").json()
    assert {r["partner"] for r in mine["results"]} == {
        org.partner_a.pk,
        org.partner_a2.pk,
    }
    one = (
        client_for(org.mgr_a)
        .get(f"/api/v1/channels/targets/?partner={org.partner_a2.pk}")
        .json()
    )
    assert [r["partner"] for r in one["results"]] == [org.partner_a2.pk]
    assert (
        client_for(org.mgr_a)
        .get("/api/v1/channels/targets/?period_kind=month")
        .json()["results"]
        == []
    )
    assert (
        len(
            client_for(org.admin)
            .get("/api/v1/channels/targets/?year=2026")
            .json()["results"]
        )
        == 3
    )
    page = client_for(org.mgr_a).get("/channels/targets/").content.decode()
    assert org.partner_c.name not in page  # not even in the partner filter
    other = PartnerTarget.objects.get(partner=org.partner_c)
    assert (
        client_for(org.mgr_a).get(f"/channels/targets/{other.pk}/").status_code == 404
    )
    assert (
        client_for(org.mgr_a).get(f"/api/v1/channels/targets/{other.pk}/").status_code
        == 404
    )
    grant_export(org.mgr_a)
    export = client_for(org.mgr_a).get("/export/channels.partnertarget/?format=csv")
    assert export.status_code == 200
    text = export.content.decode("utf-8-sig")
    assert org.partner_a.name in text
    assert org.partner_c.name not in text


def test_target_form_computes_the_end_and_saves_lines(english, channel_org, client_for):
    org = channel_org
    client = client_for(org.mgr_a)
    response = client.post(
        "/channels/targets/new/",
        {
            "partner": org.partner_a.pk,
            "period_kind": "quarter",
            "starts_on": "2026-04-01",
            "sales_amount": "300000",
            "new_customers": "3",
            "service_level": "90",
            "line_1_category": org.catalogue.excavators.pk,
            "line_1_quantity": "12",
        },
    )
    assert response.status_code == 302
    t = PartnerTarget.objects.get(partner=org.partner_a)
    assert str(t.ends_on) == "2026-06-30"
    assert [(x.category_id, x.quantity) for x in t.lines.all()] == [
        (org.catalogue.excavators.pk, D("12"))
    ]
    detail = client.get(f"/channels/targets/{t.pk}/")
    assert detail.status_code == 200
    with translation.override("en"):
        bad = client.post(
            "/channels/targets/new/",
            {
                "partner": org.partner_a.pk,
                "period_kind": "quarter",
                "starts_on": "2026-05-01",
                "sales_amount": "1",
                "new_customers": "0",
                "service_level": "0",
            },
        )
    assert bad.status_code == 400
    assert "first day" in bad.content.decode()
    # a partner outside the scope cannot be chosen
    outside = client.post(
        "/channels/targets/new/",
        {
            "partner": org.partner_c.pk,
            "period_kind": "month",
            "starts_on": "2026-04-01",
            "sales_amount": "1",
            "new_customers": "0",
            "service_level": "0",
        },
    )
    assert outside.status_code == 400
    assert not PartnerTarget.objects.filter(partner=org.partner_c).exists()


def test_targets_of_a_closed_period_are_locked_409(closed, client_for):
    org = closed
    client = client_for(org.admin)
    url = f"/api/v1/channels/targets/{org.target_a.pk}/"
    response = client.patch(
        url,
        {"sales_amount": "1", "version": org.target_a.version},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert client.delete(url).status_code == 409
    created = client.post(
        "/api/v1/channels/targets/",
        {
            "partner": org.partner_c.pk,
            "period_kind": "month",
            "starts_on": "2026-03-01",
            "sales_amount": "5",
        },
        content_type="application/json",
    )
    assert created.status_code == 409
    page = client.get(f"/channels/targets/{org.target_a.pk}/")
    assert b"locked-badge" in page.content
    assert f"/channels/targets/{org.target_a.pk}/edit/".encode() not in page.content
    org.target_a.refresh_from_db()
    assert org.target_a.sales_amount == D("1000000")


def test_target_api_stale_version_409(scored_org, client_for):
    org = scored_org
    url = f"/api/v1/channels/targets/{org.target_a.pk}/"
    client = client_for(org.mgr_a)
    ok = client.patch(
        url, {"sales_amount": "900000", "version": 1}, content_type="application/json"
    )
    assert ok.status_code == 200
    assert ok.json()["achievement"] == "94.44"  # 850,000 ÷ 900,000
    stale = client.patch(
        url, {"sales_amount": "1", "version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409


# KPIs


def test_kpi_settings_page_saves_weights_and_checks_parameters(
    english, channel_org, client_for
):
    org = channel_org
    kpis = list(Kpi.objects.order_by("sort_order"))
    data = {}
    for k in kpis:
        data[f"kpi-{k.pk}-name"] = k.name
        data[f"kpi-{k.pk}-weight"] = str(k.weight)
        data[f"kpi-{k.pk}-parameters"] = "{}"
        if k.active:
            data[f"kpi-{k.pk}-active"] = "on"
    growth = next(k for k in kpis if k.code == "growth")
    timely = next(k for k in kpis if k.code == "reporting_timeliness")
    data[f"kpi-{growth.pk}-weight"] = "25"
    data[f"kpi-{timely.pk}-parameters"] = '{"deadline_day": 40}'
    client = client_for(org.manager)
    assert client_for(org.mgr_a).get("/channels/scores/kpis/").status_code == 200
    with translation.override("en"):
        bad = client.post("/channels/scores/kpis/", data)
    assert bad.status_code == 400
    assert "deadline_day must be from 1 to 28" in bad.content.decode()
    growth.refresh_from_db()
    assert growth.weight == D("15")  # all or nothing
    data[f"kpi-{timely.pk}-parameters"] = '{"deadline_day": 10}'
    assert client.post("/channels/scores/kpis/", data).status_code == 302
    growth.refresh_from_db()
    timely.refresh_from_db()
    assert growth.weight == D("25")
    assert timely.parameters == {"deadline_day": 10}


def test_kpi_deadline_parameter_changes_timeliness(scored_org):
    """With reports due by the 8th, February's report (8 March) is on time: 3 of 3."""
    Kpi.objects.filter(code="reporting_timeliness").update(
        parameters={"deadline_day": 8}
    )
    services.score_period_compute(actor=scored_org.admin, period=scored_org.period)
    s = PartnerScore.objects.get(period=scored_org.period, partner=scored_org.partner_a)
    entry = next(e for e in s.breakdown if e["kpi"] == "reporting_timeliness")
    assert D(entry["points"]) == D("100.00")
    # (3400 + 1125 + 750 + 1500 + 1425) ÷ 100
    assert s.total == D("82.00")


# Score periods


def test_period_create_compute_close_through_pages(english, channel_org, client_for):
    org = channel_org
    client = client_for(org.admin)
    response = client.post(
        "/channels/scores/new/", {"kind": "month", "starts_on": "2026-02-01"}
    )
    assert response.status_code == 302
    period = ScorePeriod.objects.get()
    assert (period.name, str(period.ends_on)) == ("2026-02", "2026-02-28")
    assert client.post(f"/channels/scores/{period.pk}/compute/").status_code == 302
    assert PartnerScore.objects.filter(period=period).count() == 3
    assert client.post(f"/channels/scores/{period.pk}/close/").status_code == 302
    period.refresh_from_db()
    assert period.status == ScorePeriod.Status.CLOSED
    computed_at = period.computed_at
    # a closed period is not recomputed: the page goes back with the reason
    with translation.override("en"):
        again = client.post(f"/channels/scores/{period.pk}/compute/", follow=True)
    assert "its scores are final" in again.content.decode()
    period.refresh_from_db()
    assert period.computed_at == computed_at
    # mgr_a may compute but not close (no close_scoreperiod)
    second = client_for(org.mgr_a).post(
        "/api/v1/channels/score-periods/",
        {"kind": "quarter", "starts_on": "2026-01-01"},
        content_type="application/json",
    )
    assert second.status_code == 201
    pk = second.json()["id"]
    assert (
        client_for(org.mgr_a)
        .post(f"/api/v1/channels/score-periods/{pk}/compute/")
        .status_code
        == 200
    )
    assert (
        client_for(org.mgr_a)
        .post(f"/api/v1/channels/score-periods/{pk}/close/")
        .status_code
        == 403
    )
    assert (
        client_for(org.admin)
        .post(f"/api/v1/channels/score-periods/{pk}/close/")
        .status_code
        == 200
    )
    assert (
        client_for(org.admin)
        .post(f"/api/v1/channels/score-periods/{pk}/compute/")
        .status_code
        == 409
    )
    duplicate = client.post(
        "/api/v1/channels/score-periods/",
        {"kind": "quarter", "starts_on": "2026-01-01"},
        content_type="application/json",
    )
    assert duplicate.status_code == 409


def test_period_page_ranks_and_explains_in_scope(closed, client_for):
    org = closed
    page = client_for(org.mgr_a).get(f"/channels/scores/{org.period.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert org.partner_a.name in html
    assert org.partner_a2.name in html
    assert org.partner_c.name not in html
    assert org.partner_e.name not in html
    # the formula and inputs explain the numbers
    assert "min(100, 850000.00 ÷ 1000000.00 × 100 = 85.00) = 85.00" in html
    assert "(850000.00 − 680000.00) ÷ 680000.00 × 100 = 25.00%" in html
    assert "1 ÷ 2 × 100 = 50.00" in html  # inventory: 1 of 2 products inside bounds
    assert "2 ÷ 3 × 100 = 66.67" in html  # reporting timeliness
    assert "4,520.00" in html
    assert "10,000.00" in html
    assert 'id="score-chart"' in html
    # mgr_c sees partner_c and partner_e with their global rank 3
    other = (
        client_for(org.mgr_c).get(f"/channels/scores/{org.period.pk}/").content.decode()
    )
    assert org.partner_a.name not in other
    assert other.count("data-rank>3<") == 2


def test_score_api_and_export_in_scope(closed, client_for):
    org = closed
    api = (
        client_for(org.mgr_a)
        .get(f"/api/v1/channels/scores/?period={org.period.pk}")
        .json()
    )
    assert {(r["partner"], r["rank"], r["total"]) for r in api["results"]} == {
        (org.partner_a.pk, 1, "77.00"),
        (org.partner_a2.pk, 2, "46.43"),
    }
    c_score = org.scores[org.partner_c.pk]
    assert (
        client_for(org.mgr_a).get(f"/api/v1/channels/scores/{c_score.pk}/").status_code
        == 404
    )
    assert (
        client_for(org.mgr_a).get(f"/channels/scores/partner/{c_score.pk}/").status_code
        == 404
    )
    detail = client_for(org.mgr_a).get(
        f"/channels/scores/partner/{org.scores[org.partner_a.pk].pk}/"
    )
    assert detail.status_code == 200
    export = client_for(org.admin).get(
        f"/export/channels.partnerscore/?period={org.period.pk}&format=xlsx"
    )
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert len(rows) == 5  # header + 4 partners
    grant_export(org.mgr_a)
    mine = client_for(org.mgr_a).get(
        f"/export/channels.partnerscore/?period={org.period.pk}&format=xlsx"
    )
    assert mine.status_code == 200
    rows = list(load_workbook(io.BytesIO(mine.content)).active.values)
    names = {cell for row in rows for cell in row}
    assert org.partner_c.name not in names
    assert org.partner_a.name in names


# Portal


def test_portal_scores_page_shows_own_closed_scores(closed, client_for):
    org = closed
    page = client_for(org.pa_user).get("/portal/scores/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "77.00" in html
    assert "4,520.00" in html
    assert "85.00%" in html  # the target's achievement
    assert "46.43" not in html  # partner_a2's score is its own business
    own = org.scores[org.partner_a.pk]
    assert client_for(org.pa_user).get(f"/portal/scores/{own.pk}/").status_code == 200


def test_portal_hides_open_periods(scored_org, client_for):
    services.score_period_compute(actor=scored_org.admin, period=scored_org.period)
    html = client_for(scored_org.pa_user).get("/portal/scores/").content.decode()
    assert "77.00" not in html
    assert (
        client_for(scored_org.pa_user).get("/api/v1/portal/scores/").json()["results"]
        == []
    )


def test_portal_isolation_404(closed, client_for):
    org = closed
    c_score = org.scores[org.partner_c.pk]
    a2_score = org.scores[org.partner_a2.pk]
    c_target = target(org.partner_c, sales_amount=D("5"), kind="year", end="2026-12-31")
    pa = client_for(org.pa_user)
    for url in (
        f"/portal/scores/{c_score.pk}/",
        f"/portal/scores/{a2_score.pk}/",
        f"/api/v1/portal/scores/{c_score.pk}/",
        f"/api/v1/portal/targets/{c_target.pk}/",
        f"/api/v1/portal/targets/{org.target_a2.pk}/",
    ):
        assert pa.get(url).status_code == 404, url
    listed = pa.get("/api/v1/portal/targets/").json()
    assert [r["id"] for r in listed["results"]] == [org.target_a.pk]
    assert listed["results"][0]["achievement"] == "85.00"
    scores = pa.get("/api/v1/portal/scores/").json()["results"]
    assert [(s["id"], s["total"], s["rebate_amount"]) for s in scores] == [
        (org.scores[org.partner_a.pk].pk, "77.00", "4520.000000")
    ]
    # the portal API is read only
    assert pa.post("/api/v1/portal/targets/", {}).status_code in (403, 405)
    # HQ users are not partner users: 404 on pages, 403 on the portal API
    assert client_for(org.mgr_a).get("/portal/scores/").status_code == 404
    assert client_for(org.mgr_a).get("/api/v1/portal/scores/").status_code == 403
    # partner users never reach the HQ pages
    assert pa.get(f"/channels/scores/{org.period.pk}/").status_code in (403, 404)


def test_pages_open_for_a_channel_manager(closed, client_for):
    org = closed
    client = client_for(org.mgr_a)
    for url in (
        "/channels/scores/",
        "/channels/scores/new/",
        "/channels/targets/new/",
        f"/channels/targets/{org.target_a.pk}/",
        f"/channels/targets/{org.target_a2.pk}/edit/",
        "/channels/scores/kpis/",
    ):
        assert client.get(url).status_code == 200, url
    # a partner user reaches none of them
    pa = client_for(org.pa_admin)
    for url in ("/channels/scores/", "/channels/targets/", "/channels/scores/kpis/"):
        assert pa.get(url).status_code in (403, 404), url
