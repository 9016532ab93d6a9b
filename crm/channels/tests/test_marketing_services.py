"""D9 rules: promotions reach the partners they address; plans sit inside a promotion's
dates, regions and categories; fund approvals never overspend the budget."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from crm.channels.models import FundRequest, PartnerPlan, Promotion
from crm.channels.selectors.marketing import (
    plan_totals,
    promotion_queryset,
    promotions_for_partner,
)
from crm.channels.services import marketing as services
from crm.channels.tests.marketing_fixtures import D, make_plan, make_promotion, mkt
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent, Notification

__all__ = ["mkt"]


def addressed(partner):
    return set(promotions_for_partner(partner).values_list("name", flat=True))


def test_promotion_reaches_partners_by_tier_and_region(mkt):
    make_promotion(mkt, name="全国")
    make_promotion(mkt, name="浙江", regions=[mkt.zhejiang])
    make_promotion(mkt, name="西湖区", regions=[mkt.xihu])
    make_promotion(mkt, name="一级", tiers=[mkt.gold])
    make_promotion(mkt, name="二级广东", tiers=[mkt.silver], regions=[mkt.guangdong])
    make_promotion(mkt, name="草稿", publish=False)
    # partner_a: gold, in 杭州 (inside 浙江, not inside 西湖区).
    assert addressed(mkt.partner_a) == {"全国", "浙江", "一级"}
    # partner_a2: silver, in 宁波.
    assert addressed(mkt.partner_a2) == {"全国", "浙江"}
    # partner_c: gold, in 广州 — 二级广东 wants silver.
    assert addressed(mkt.partner_c) == {"全国", "一级"}
    # A served region counts like the location.
    mkt.partner_c.regions_served.add(mkt.xihu)
    assert addressed(mkt.partner_c) == {"全国", "一级", "浙江", "西湖区"}


def test_cancelled_promotion_is_no_longer_addressed(mkt):
    promotion = make_promotion(mkt)
    services.promotion_cancel(actor=mkt.admin, promotion=promotion)
    assert addressed(mkt.partner_a) == set()


def test_publish_needs_the_permission_and_a_draft(mkt):
    promotion = make_promotion(mkt, publish=False)
    with pytest.raises(Forbidden):
        services.promotion_publish(actor=mkt.rep_a, promotion=promotion)
    services.promotion_publish(actor=mkt.mgr_a, promotion=promotion)
    with pytest.raises(Conflict):
        services.promotion_publish(actor=mkt.mgr_a, promotion=promotion)
    assert Promotion.objects.get(pk=promotion.pk).status == "published"


def test_published_promotion_keeps_dates_and_scope(mkt):
    promotion = make_promotion(mkt)
    with translation.override("en"), pytest.raises(Invalid) as exc:
        services.promotion_update(
            actor=mkt.admin,
            obj=promotion,
            data={"ends_on": D(2026, 6, 30)},
            version=promotion.version,
        )
    assert "ends_on" in exc.value.fields
    updated = services.promotion_update(
        actor=mkt.admin,
        obj=promotion,
        data={"fund_budget": Decimal("120000")},
        version=promotion.version,
    )
    assert updated.fund_budget == Decimal("120000")
    with pytest.raises(Conflict):
        services.promotion_update(
            actor=mkt.admin, obj=promotion, data={"name": "x"}, version=1
        )


def test_drafts_follow_scope_published_ones_are_public(mkt):
    draft = make_promotion(mkt, name="草稿", publish=False)
    make_promotion(mkt, name="已发布")
    assert set(promotion_queryset(actor=mkt.mgr_a).values_list("name", flat=True)) == {
        "已发布"
    }
    assert draft in promotion_queryset(actor=mkt.admin)


# Plans inside the promotion


@pytest.fixture
def scoped(mkt):
    """Mar–May 2026, 浙江, 整机 (挖掘机 is below it)."""
    return make_promotion(mkt, regions=[mkt.zhejiang], categories=[mkt.catalogue.root])


def test_plan_inside_dates_regions_and_categories_is_accepted(mkt, scoped):
    plan = make_plan(
        mkt,
        scoped,
        starts_on=D(2026, 3, 1),
        ends_on=D(2026, 5, 31),
        regions=[mkt.hangzhou, mkt.zhejiang],
        categories=[mkt.catalogue.excavators],
    )
    assert plan.partner == mkt.partner_a
    assert plan.status == PartnerPlan.Status.DRAFT
    assert AuditEvent.objects.filter(object_id=str(plan.pk)).exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field"),
    [
        (D(2026, 2, 28), D(2026, 4, 1), "starts_on"),
        (D(2026, 3, 1), D(2026, 6, 1), "ends_on"),
    ],
)
def test_plan_outside_the_dates_is_refused_naming_the_range(
    mkt, scoped, starts_on, ends_on, field
):
    with translation.override("en"), pytest.raises(Invalid) as exc:
        make_plan(mkt, scoped, starts_on=starts_on, ends_on=ends_on)
    assert list(exc.value.fields) == [field]
    assert "2026-03-01 to 2026-05-31" in exc.value.fields[field][0]
    assert not PartnerPlan.objects.exists()


def test_plan_region_outside_is_refused_naming_the_allowed(mkt, scoped):
    with translation.override("en"), pytest.raises(Invalid) as exc:
        make_plan(mkt, scoped, regions=[mkt.hangzhou, mkt.guangzhou])
    message = exc.value.fields["regions"][0]
    assert "广州市 is outside the promotion's regions: 浙江省" in message


def test_plan_without_region_under_a_regional_promotion_is_refused(mkt, scoped):
    with pytest.raises(Invalid) as exc:
        make_plan(mkt, scoped, regions=[])
    assert "regions" in exc.value.fields


def test_plan_category_outside_is_refused(mkt, scoped):
    with translation.override("en"), pytest.raises(Invalid) as exc:
        make_plan(mkt, scoped, categories=[mkt.catalogue.parts])
    assert (
        "配件 is outside the promotion's products: 整机"
        in (exc.value.fields["categories"][0])
    )


def test_unscoped_promotion_takes_any_region_and_category(mkt):
    promotion = make_promotion(mkt)
    plan = make_plan(
        mkt, promotion, regions=[mkt.guangzhou], categories=[mkt.catalogue.parts]
    )
    assert plan.pk


def test_plan_needs_a_promotion_addressed_to_the_partner(mkt):
    guangdong = make_promotion(mkt, regions=[mkt.guangdong])
    draft = make_promotion(mkt, publish=False)
    for promotion in (guangdong, draft):
        with pytest.raises(Invalid) as exc:
            make_plan(mkt, promotion)
        assert "promotion" in exc.value.fields


def test_hq_users_cannot_write_plans(mkt):
    promotion = make_promotion(mkt)
    with pytest.raises(Forbidden):
        make_plan(mkt, promotion, user=mkt.mgr_a)


def test_plan_update_checks_the_fit_and_ownership(mkt, scoped):
    plan = make_plan(mkt, scoped)
    with pytest.raises(Invalid):
        services.plan_update(
            actor=mkt.pa_user,
            obj=plan,
            data={"ends_on": D(2026, 7, 1)},
            version=plan.version,
        )
    with pytest.raises(NotFound):
        services.plan_update(
            actor=mkt.pc_admin, obj=plan, data={"title": "x"}, version=plan.version
        )
    plan = services.plan_update(
        actor=mkt.pa_admin, obj=plan, data={"title": "宁波路演"}, version=plan.version
    )
    assert plan.title == "宁波路演"
    assert plan.version == 2


def test_submit_approve_reject_flow_notifies(mkt):
    promotion = make_promotion(mkt)
    plan = make_plan(mkt, promotion)
    plan = services.plan_submit(actor=mkt.pa_user, plan=plan)
    assert Notification.objects.filter(
        recipient=mkt.mgr_a, kind="channels.plan_submitted"
    ).exists()
    with pytest.raises(Forbidden):
        services.plan_approve(actor=mkt.rep_a, plan=plan)
    plan = services.plan_approve(actor=mkt.mgr_a, plan=plan)
    assert plan.status == PartnerPlan.Status.APPROVED
    assert Notification.objects.filter(
        recipient=mkt.pa_user, kind="channels.plan_decided"
    ).exists()
    with pytest.raises(Conflict):
        services.plan_reject(actor=mkt.mgr_a, plan=plan)


# Co-marketing funds


def request_funds(org, plan, amount, user=None):
    return services.fundrequest_create(
        actor=user or org.pa_user, plan=plan, amount=Decimal(amount), purpose="路演场地"
    )


def test_funds_only_for_submitted_or_approved_plans(mkt):
    plan = make_plan(mkt, make_promotion(mkt))
    with pytest.raises(Conflict):
        request_funds(mkt, plan, "1000")
    services.plan_submit(actor=mkt.pa_user, plan=plan)
    assert request_funds(mkt, plan, "1000").status == FundRequest.Status.PENDING
    with pytest.raises(NotFound):
        request_funds(mkt, plan, "1000", user=mkt.pc_admin)


def test_partial_approval(mkt):
    plan = make_plan(mkt, make_promotion(mkt), status=PartnerPlan.Status.SUBMITTED)
    request = request_funds(mkt, plan, "30000")
    with pytest.raises(Invalid):
        services.fundrequest_approve(
            actor=mkt.mgr_a, request=request, amount=Decimal("30000.01")
        )
    approved = services.fundrequest_approve(
        actor=mkt.mgr_a, request=request, amount=Decimal("18000")
    )
    assert approved.approved_amount == Decimal("18000")
    assert approved.amount == Decimal("30000")
    with pytest.raises(Conflict):
        services.fundrequest_approve(actor=mkt.mgr_a, request=request)


def test_fund_budget_is_never_overspent(mkt):
    """Budget 100 000 over two partners' plans: 60 000 + 30 000 approved, 10 000 left;
    a request of 15 000 is refused naming 10 000, approved at 10 000 it fits."""
    promotion = make_promotion(mkt)
    plan_a = make_plan(mkt, promotion, status=PartnerPlan.Status.SUBMITTED)
    plan_c = make_plan(
        mkt,
        promotion,
        user=mkt.pc_admin,
        regions=[mkt.guangzhou],
        status=PartnerPlan.Status.SUBMITTED,
    )
    services.fundrequest_approve(
        actor=mkt.admin, request=request_funds(mkt, plan_a, "60000")
    )
    services.fundrequest_approve(
        actor=mkt.admin, request=request_funds(mkt, plan_c, "30000", user=mkt.pc_admin)
    )
    third = request_funds(mkt, plan_a, "15000")
    with translation.override("en"), pytest.raises(Conflict) as exc:
        services.fundrequest_approve(actor=mkt.admin, request=third)
    assert "10000.00 of 100000.00 remains" in exc.value.message
    assert FundRequest.objects.get(pk=third.pk).status == FundRequest.Status.PENDING
    services.fundrequest_approve(
        actor=mkt.admin, request=third, amount=Decimal("10000")
    )
    with pytest.raises(Invalid):
        services.promotion_update(
            actor=mkt.admin,
            obj=promotion,
            data={"fund_budget": Decimal("99999")},
            version=Promotion.objects.get(pk=promotion.pk).version,
        )


def test_rejected_request_uses_no_budget(mkt):
    promotion = make_promotion(mkt, budget="5000")
    plan = make_plan(mkt, promotion, status=PartnerPlan.Status.SUBMITTED)
    services.fundrequest_reject(
        actor=mkt.mgr_a, request=request_funds(mkt, plan, "5000")
    )
    approved = services.fundrequest_approve(
        actor=mkt.mgr_a, request=request_funds(mkt, plan, "5000")
    )
    assert approved.approved_amount == Decimal("5000")


def test_approval_needs_the_special_permission(mkt):
    plan = make_plan(mkt, make_promotion(mkt), status=PartnerPlan.Status.SUBMITTED)
    with pytest.raises(Forbidden):
        services.fundrequest_approve(
            actor=mkt.rep_a, request=request_funds(mkt, plan, "1")
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)
def test_concurrent_approvals_never_overspend(mkt):
    """Budget 10 000, two requests of 6 000 approved at the same moment: one wins."""
    promotion = make_promotion(mkt, budget="10000")
    plan = make_plan(mkt, promotion, status=PartnerPlan.Status.SUBMITTED)
    requests = [request_funds(mkt, plan, "6000") for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(request):
        try:
            barrier.wait()
            services.fundrequest_approve(actor=mkt.admin, request=request)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["approved", "refused"]
    assert plan_totals(PartnerPlan.objects.get(pk=plan.pk))["approved"] == Decimal(
        "6000"
    )


# Execution reports


def test_execution_reports_on_approved_plans_with_totals(mkt):
    promotion = make_promotion(mkt)
    plan = make_plan(mkt, promotion, status=PartnerPlan.Status.SUBMITTED)
    with pytest.raises(Conflict):
        services.execution_create(
            actor=mkt.pa_user, plan=plan, data={"spent": 1, "summary": "x"}
        )
    services.fundrequest_approve(
        actor=mkt.mgr_a,
        request=request_funds(mkt, plan, "20000"),
        amount=Decimal("15000"),
    )
    plan = services.plan_approve(actor=mkt.mgr_a, plan=plan)
    for spent, leads, sales in (("8000", 12, "300000"), ("4500.50", 3, "0")):
        services.execution_create(
            actor=mkt.pa_user,
            plan=plan,
            data={
                "spent": Decimal(spent),
                "leads": leads,
                "sales_amount": Decimal(sales),
                "summary": "路演两场",
                "reported_on": D(2026, 4, 1),
            },
        )
    totals = plan_totals(plan)
    assert totals["requested"] == Decimal("20000")
    assert totals["approved"] == Decimal("15000")
    assert totals["spent"] == Decimal("12500.50")
    assert totals["unspent"] == Decimal("2499.50")
    assert totals["leads"] == 15
    assert totals["sales"] == Decimal("300000")
    with pytest.raises(NotFound):
        services.execution_create(
            actor=mkt.pc_admin, plan=plan, data={"spent": 1, "summary": "x"}
        )
