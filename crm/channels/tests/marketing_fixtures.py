"""D9/D10 test data: regions of Zhejiang and Guangdong, a published promotion, plans.

`mkt` (built on channel_org): mgr_a and org.manager may publish promotions, approve fund
requests and decide deal registrations; partner_a is in 杭州 (Zhejiang), partner_c in
广州 (Guangdong).
"""

import datetime
from decimal import Decimal

import pytest

from crm.channels.models import PartnerPlan, Promotion
from crm.channels.services import marketing as services
from crm.customers.models import Region
from crm.org.tests.factories import make_role

D = datetime.date
MAR_1, MAY_31 = D(2026, 3, 1), D(2026, 5, 31)
MAR_10, APR_10 = D(2026, 3, 10), D(2026, 4, 10)
SPECIAL = (
    "channels.publish_promotion",
    "channels.approve_fundrequest",
    "channels.decide_dealregistration",
)


@pytest.fixture(autouse=True)
def _mail_in_process(monkeypatch):
    """Notification e-mails run in this process even when CI has a real worker."""
    from crm.core.tasks import send_notification_email

    monkeypatch.setattr(
        send_notification_email,
        "delay",
        lambda *args: send_notification_email.apply(args),
    )


def region(code: str) -> Region:
    return Region.objects.get(code=code)


@pytest.fixture
def mkt(channel_org):
    org = channel_org
    approver = make_role("渠道审批", *SPECIAL)
    for user in (org.mgr_a, org.mgr_c, org.manager):
        user.groups.add(approver)
    org.zhejiang, org.hangzhou = region("330000"), region("330100")
    org.xihu, org.ningbo = region("330106"), region("330200")
    org.guangdong, org.guangzhou = region("440000"), region("440100")
    org.partner_a.region = org.hangzhou
    org.partner_a.save()
    org.partner_a2.region = org.ningbo
    org.partner_a2.save()
    org.partner_c.region = org.guangzhou
    org.partner_c.save()
    return org


def make_promotion(
    org,
    *,
    name="春季挖掘机促销",
    starts_on=MAR_1,
    ends_on=MAY_31,
    budget="100000",
    regions=(),
    categories=(),
    tiers=(),
    publish=True,
) -> Promotion:
    promotion = services.promotion_create(
        actor=org.admin,
        data={
            "name": name,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "fund_budget": Decimal(budget),
            "regions": list(regions),
            "categories": list(categories),
            "tiers": list(tiers),
        },
    )
    if publish:
        promotion = services.promotion_publish(actor=org.admin, promotion=promotion)
    return promotion


def make_plan(
    org,
    promotion,
    *,
    user=None,
    starts_on=MAR_10,
    ends_on=APR_10,
    regions=None,
    categories=None,
    status=PartnerPlan.Status.DRAFT,
) -> PartnerPlan:
    user = user or org.pa_user
    plan = services.plan_create(
        actor=user,
        data={
            "promotion": promotion,
            "title": "杭州路演",
            "starts_on": starts_on,
            "ends_on": ends_on,
            "regions": [org.hangzhou] if regions is None else regions,
            "categories": [org.catalogue.excavators]
            if categories is None
            else categories,
        },
    )
    if status in (PartnerPlan.Status.SUBMITTED, PartnerPlan.Status.APPROVED):
        plan = services.plan_submit(actor=user, plan=plan)
    if status == PartnerPlan.Status.APPROVED:
        plan = services.plan_approve(
            actor=org.mgr_a if plan.partner.owner == org.mgr_a else org.mgr_c, plan=plan
        )
    return plan
