"""Fixtures of the sell-through (D5) tests, on top of `channel_org` (conftest.py)."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from crm.channels.models import SellThroughReport
from crm.channels.services.sellthrough import sell_through_report_submit
from crm.customers.models import Region


@pytest.fixture
def st(channel_org):
    """`channel_org` where channel managers may create customers (new end customers
    are created in their name), with a few regions and dates at hand."""
    org = channel_org
    add_customer = Permission.objects.get(
        codename="add_customer", content_type__app_label="customers"
    )
    for manager in (org.mgr_a, org.mgr_c):
        for group in manager.groups.all():
            group.permissions.add(add_customer)
    org.xihu = Region.objects.get(code="330106")  # 浙江省 杭州市 西湖区
    org.hangzhou = Region.objects.get(code="330100")
    org.zhejiang = Region.objects.get(code="330000")
    org.tianhe = Region.objects.get(code="440106")  # 广东省 广州市 天河区
    org.today = timezone.localdate()
    org.yesterday = org.today - datetime.timedelta(days=1)
    org.line = lambda **values: line(org, **values)
    org.submit = lambda *args, **kw: submit(org, *args, **kw)
    return org


def line(org, **values) -> dict:
    """A valid report line (p1, 2 units, 180000) unless told otherwise."""
    data = {
        "sold_on": org.yesterday,
        "product": org.catalogue.p1.pk,
        "quantity": Decimal("2"),
        "amount": Decimal("180000"),
        "end_customer_name": "杭州西湖建设工程有限公司",
        "region": org.xihu.pk,
    }
    data.update(values)
    return data


def submit(org, reference="R-001", lines=None, *, actor=None, partner=None, **kw):
    return sell_through_report_submit(
        actor=actor or org.pa_user,
        partner=partner or org.partner_a,
        reference=reference,
        lines=lines if lines is not None else [line(org)],
        source=kw.pop("source", SellThroughReport.Source.PORTAL),
        **kw,
    )
