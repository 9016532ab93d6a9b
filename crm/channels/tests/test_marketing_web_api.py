"""D9 pages and API: wiring, portal isolation (another partner's ids are 404), HQ scope."""

import pytest
from django.urls import reverse
from django.utils import translation

from crm.channels.models import FundRequest, PartnerPlan, Promotion
from crm.channels.services import marketing as services
from crm.channels.tests.marketing_fixtures import D, make_plan, make_promotion, mkt
from crm.org.tests.factories import make_role

__all__ = ["mkt"]


@pytest.fixture
def world(mkt):
    """One promotion for everybody, one only for Guangdong; a plan of each partner."""
    mkt.promo = make_promotion(mkt, name="全国春季促销")
    mkt.promo_gd = make_promotion(mkt, name="广东专场", regions=[mkt.guangdong])
    mkt.draft = make_promotion(mkt, name="草稿促销", publish=False)
    mkt.plan_a = make_plan(mkt, mkt.promo, status=PartnerPlan.Status.SUBMITTED)
    mkt.plan_c = make_plan(
        mkt,
        mkt.promo_gd,
        user=mkt.pc_admin,
        regions=[mkt.guangzhou],
        status=PartnerPlan.Status.SUBMITTED,
    )
    mkt.fund_c = services.fundrequest_create(
        actor=mkt.pc_admin, plan=mkt.plan_c, amount=1000, purpose="展会"
    )
    return mkt


# Portal isolation


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("portal:plan-detail", "plan_c"),
        ("portal:plan-edit", "plan_c"),
        ("portal:promotion-detail", "promo_gd"),
        ("portal:promotion-detail", "draft"),
        ("portal:plan-create", "promo_gd"),
    ],
)
def test_portal_pages_of_other_partners_or_unaddressed_promotions_are_404(
    world, client_for, name, target
):
    url = reverse(name, args=[getattr(world, target).pk])
    assert client_for(world.pa_user).get(url).status_code == 404
    # HQ users never reach portal pages.
    assert client_for(world.mgr_a).get(url).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["portal:plan-submit", "portal:fundrequest-create", "portal:execution-create"],
)
def test_portal_posts_on_another_partners_plan_are_404(world, client_for, name):
    url = reverse(name, args=[world.plan_c.pk])
    response = client_for(world.pa_user).post(
        url, {"amount": "1", "purpose": "x", "spent": "1", "summary": "x"}
    )
    assert response.status_code == 404
    assert FundRequest.objects.filter(plan=world.plan_c).count() == 1


def test_portal_promotion_list_shows_only_what_is_addressed(world, client_for):
    page = client_for(world.pa_user).get(reverse("portal:promotion-list"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "全国春季促销" in text
    assert "广东专场" not in text
    assert "草稿促销" not in text
    assert world.plan_a.title in text
    assert f"/portal/plans/{world.plan_c.pk}/" not in text


@pytest.mark.parametrize(
    ("method", "path", "target"),
    [
        ("get", "/api/v1/portal/promotions/{}/", "promo_gd"),
        ("get", "/api/v1/portal/promotions/{}/", "draft"),
        ("get", "/api/v1/portal/plans/{}/", "plan_c"),
        ("patch", "/api/v1/portal/plans/{}/", "plan_c"),
        ("post", "/api/v1/portal/plans/{}/submit/", "plan_c"),
        ("post", "/api/v1/portal/plans/{}/fund-requests/", "plan_c"),
        ("post", "/api/v1/portal/plans/{}/executions/", "plan_c"),
    ],
)
def test_portal_api_of_other_partners_is_404_and_hq_403(
    world, client_for, method, path, target
):
    url = path.format(getattr(world, target).pk)
    body = {"amount": "1", "purpose": "x", "summary": "x", "version": 1}
    call = getattr(client_for(world.pa_user), method)
    assert call(url, body, content_type="application/json").status_code == 404
    hq = getattr(client_for(world.mgr_a), method)
    assert hq(url, body, content_type="application/json").status_code == 403


def test_portal_api_lists_are_the_partners_own(world, client_for):
    client = client_for(world.pa_user)
    promotions = client.get("/api/v1/portal/promotions/").json()["results"]
    assert [p["name"] for p in promotions] == ["全国春季促销"]
    plans = client.get("/api/v1/portal/plans/").json()["results"]
    assert [p["id"] for p in plans] == [world.plan_a.pk]


# Portal writes


def test_portal_plan_form_refuses_dates_outside_with_the_range(mkt, client_for):
    promotion = make_promotion(mkt, regions=[mkt.zhejiang])
    client = client_for(mkt.pa_user)
    url = reverse("portal:plan-create", args=[promotion.pk])
    assert client.get(url).status_code == 200
    with translation.override("en"):
        response = client.post(
            url,
            {
                "title": "路演",
                "starts_on": "2026-02-20",
                "ends_on": "2026-04-01",
                "regions": [mkt.hangzhou.pk],
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    assert "2026-03-01" in response.content.decode()
    assert not PartnerPlan.objects.exists()
    response = client.post(
        url,
        {
            "title": "路演",
            "starts_on": "2026-03-20",
            "ends_on": "2026-04-01",
            "regions": [mkt.hangzhou.pk],
        },
    )
    plan = PartnerPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:plan-detail", args=[plan.pk])


def test_portal_api_plan_flow(mkt, client_for):
    promotion = make_promotion(mkt, budget="5000", categories=[mkt.catalogue.root])
    client = client_for(mkt.pa_user)
    bad = client.post(
        "/api/v1/portal/plans/",
        {
            "promotion": promotion.pk,
            "title": "配件节",
            "starts_on": "2026-03-01",
            "ends_on": "2026-03-31",
            "categories": [mkt.catalogue.parts.pk],
        },
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert list(bad.json()["fields"]) == ["categories"]
    created = client.post(
        "/api/v1/portal/plans/",
        {
            "promotion": promotion.pk,
            "title": "挖掘机节",
            "starts_on": "2026-03-01",
            "ends_on": "2026-03-31",
            "categories": [mkt.catalogue.excavators.pk],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "draft"
    submitted = client.post(f"/api/v1/portal/plans/{pk}/submit/")
    assert submitted.json()["status"] == "submitted"
    fund = client.post(
        f"/api/v1/portal/plans/{pk}/fund-requests/",
        {"amount": "6000", "purpose": "展位"},
        content_type="application/json",
    )
    assert fund.status_code == 201
    hq = client_for(mkt.mgr_a)
    over = hq.post(
        f"/api/v1/channels/fund-requests/{fund.json()['id']}/approve/",
        {},
        content_type="application/json",
    )
    assert over.status_code == 409
    assert "5000.00" in over.json()["message"]
    partial = hq.post(
        f"/api/v1/channels/fund-requests/{fund.json()['id']}/approve/",
        {"amount": "4000", "note": "先批4000"},
        content_type="application/json",
    )
    assert partial.status_code == 200
    assert partial.json()["approved_amount"].startswith("4000")
    detail = hq.get(f"/api/v1/channels/plans/{pk}/").json()
    assert detail["totals"]["approved"].startswith("4000")
    promo = hq.get(f"/api/v1/channels/promotions/{promotion.pk}/").json()
    assert promo["budget_left"].startswith("1000")


# HQ pages, API and exports: scope


def test_hq_plan_scope(world, client_for):
    client = client_for(world.mgr_a)
    assert (
        client.get(reverse("channels:plan-detail", args=[world.plan_c.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("channels:plan-detail", args=[world.plan_a.pk])).status_code
        == 200
    )
    listing = client.get(reverse("channels:plan-list")).content.decode()
    assert world.partner_a.name in listing
    assert world.partner_c.name not in listing
    api = client.get("/api/v1/channels/plans/").json()["results"]
    assert [p["id"] for p in api] == [world.plan_a.pk]
    assert client.get(f"/api/v1/channels/plans/{world.plan_c.pk}/").status_code == 404
    assert (
        client.get(f"/api/v1/channels/fund-requests/{world.fund_c.pk}/").status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/channels/fund-requests/{world.fund_c.pk}/approve/"
        ).status_code
        == 404
    )


def test_hq_plan_export_is_scoped(world, client_for):
    exporter = make_role("导出", "core.export_data")
    world.mgr_a.groups.add(exporter)
    response = client_for(world.mgr_a).get(
        "/export/channels.partnerplan/", {"format": "csv"}
    )
    text = response.content.decode("utf-8-sig")
    assert response.status_code == 200
    assert world.partner_a.name in text
    assert world.partner_c.name not in text


def test_hq_promotion_pages(world, client_for):
    client = client_for(world.mgr_a)
    listing = client.get(reverse("channels:promotion-list"), {"status": "published"})
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "全国春季促销" in text
    assert "草稿促销" not in text
    calendar = client.get(reverse("channels:promotion-calendar"), {"year": 2026})
    assert calendar.status_code == 200
    assert "全国春季促销" in calendar.content.decode()
    detail = client.get(reverse("channels:promotion-detail", args=[world.promo.pk]))
    assert detail.status_code == 200
    # The admin's draft is outside mgr_a's scope.
    draft = reverse("channels:promotion-detail", args=[world.draft.pk])
    assert client.get(draft).status_code == 404


def test_hq_creates_and_publishes_a_promotion(mkt, client_for):
    client = client_for(mkt.mgr_a)
    response = client.post(
        reverse("channels:promotion-create"),
        {
            "name": "秋季促销",
            "starts_on": "2026-09-01",
            "ends_on": "2026-08-01",
            "fund_budget": "50000",
        },
    )
    assert response.status_code == 400
    response = client.post(
        reverse("channels:promotion-create"),
        {
            "name": "秋季促销",
            "starts_on": "2026-09-01",
            "ends_on": "2026-10-31",
            "fund_budget": "50000",
            "tiers": [mkt.gold.pk],
            "regions": [mkt.zhejiang.pk],
        },
    )
    promotion = Promotion.objects.get(name="秋季促销")
    assert response.status_code == 302
    assert promotion.owner == mkt.mgr_a
    client.post(reverse("channels:promotion-publish", args=[promotion.pk]))
    assert Promotion.objects.get(pk=promotion.pk).status == "published"
    api = client.post(f"/api/v1/channels/promotions/{promotion.pk}/publish/")
    assert api.status_code == 409


def test_hq_plan_decisions_and_partial_funds_by_page(world, client_for):
    client = client_for(world.mgr_a)
    fund = services.fundrequest_create(
        actor=world.pa_user, plan=world.plan_a, amount=3000, purpose="广告"
    )
    client.post(
        reverse("channels:fundrequest-approve", args=[fund.pk]), {"amount": "2500"}
    )
    assert FundRequest.objects.get(pk=fund.pk).approved_amount == 2500
    client.post(reverse("channels:plan-approve", args=[world.plan_a.pk]))
    assert PartnerPlan.objects.get(pk=world.plan_a.pk).status == "approved"
    services.execution_create(
        actor=world.pa_user,
        plan=world.plan_a,
        data={"spent": 2000, "leads": 4, "sales_amount": 90000, "summary": "展会"},
    )
    page = client.get(reverse("channels:plan-detail", args=[world.plan_a.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "展会" in text
    # mgr_a cannot decide mgr_c's partner's plan.
    response = client.post(reverse("channels:plan-approve", args=[world.plan_c.pk]))
    assert response.status_code == 404


def test_execution_by_portal_form(world, client_for):
    services.plan_approve(actor=world.mgr_a, plan=world.plan_a)
    client = client_for(world.pa_user)
    response = client.post(
        reverse("portal:execution-create", args=[world.plan_a.pk]),
        {
            "reported_on": "2026-04-02",
            "spent": "1200",
            "leads": "3",
            "sales_amount": "0",
            "summary": "门店活动",
        },
    )
    assert response.status_code == 302
    assert world.plan_a.executions.get().spent == 1200
    assert D(2026, 4, 2) == world.plan_a.executions.get().reported_on


def _queries(client, url) -> int:
    """How many queries one request of the page costs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/channels/promotions/",
        "/channels/plans/",
        "/channels/deals/",
        "/api/v1/channels/promotions/",
        "/api/v1/channels/plans/",
        "/api/v1/channels/deals/",
    ],
)
def test_hq_lists_cost_the_same_queries_for_more_rows(mkt, client_for, url):
    from crm.channels.services.deals import deal_register

    client = client_for(mkt.admin)

    def add(n):
        promotion = make_promotion(mkt, name=f"促销{n}")
        make_plan(mkt, promotion)
        deal_register(actor=mkt.pa_user, data={"customer_name": f"客户{n}"})

    add(1)
    one = _queries(client, url)
    for n in range(2, 5):
        add(n)
    assert _queries(client, url) == one
