"""S10 "my work" home page: my follow-ups, instalments due, approvals waiting for me,
my opportunities closing this month and the company news — mine only, each panel
behind its permission, a constant number of queries, and the same data as JSON."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.core.params import params_update
from crm.core.scopes import DataScope
from crm.customers.models import Activity
from crm.customers.tests.factories import CustomerFactory
from crm.org.models import Announcement
from crm.org.tests.factories import UserFactory, make_role
from crm.sales.models import Contract, Opportunity, Quote, Stage
from crm.sales.tests.conftest import sales_perms
from crm.sales.tests.workspace_fixtures import (
    make_contract,
    make_instalment,
    make_lead,
    make_opportunity,
    make_quote,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/sales/workspace/"


@pytest.fixture
def reps(org):
    """rep_a and rep_b with a rep's role (own records) that also reads activities."""
    role = make_role(
        "销售代表(工作台)",
        *sales_perms("view", "add", "change"),
        "customers.view_customer",
        "customers.view_activity",
        scope=DataScope.OWN,
    )
    for rep in (org.rep_a, org.rep_b):
        rep.groups.add(role)
    return org


def _today():
    return timezone.localdate()


def _days(n: int) -> datetime.date:
    return _today() + datetime.timedelta(days=n)


def _follow_up(customer, days: int, *, content="回访", hours_ago=1):
    return Activity.objects.create(
        customer=customer,
        content=content,
        next_follow_up_on=_days(days) if days is not None else None,
        occurred_at=timezone.now() - datetime.timedelta(hours=hours_ago),
    )


def _panel(html: str, key: str) -> str:
    """The HTML of one home panel, up to the next one ("" when there is no such panel)."""
    start = html.find(f'data-panel="{key}"')
    if start < 0:
        return ""
    ends = [
        i
        for i in (html.find("crm-panel", start), html.find("home-shortcuts", start))
        if i > 0
    ]
    return html[start : min(ends, default=len(html))]


def _panels(client) -> dict:
    """{panel key: {"count", "items": [titles]}} from the JSON API."""
    data = client.get(API).json()
    return {
        p["key"]: {"count": p["count"], "titles": [i["title"] for i in p["items"]]}
        for p in data["panels"]
    }


def _world(org):
    """For rep_a and rep_b each: a customer with a follow-up due, an overdue lead, an
    instalment due and an opportunity closing this month."""
    made = {}
    for rep, tag in ((org.rep_a, "甲"), (org.rep_b, "乙")):
        customer = CustomerFactory(owner=rep, name=f"客户{tag}有限公司")
        _follow_up(customer, 0, content=f"回访{tag}")
        lead = make_lead(
            rep, name=f"线索{tag}", company="", next_follow_up_on=_days(-2)
        )
        contract = make_contract(rep, CustomerFactory(owner=rep, name=f"欠款{tag}公司"))
        make_instalment(contract, due_in_days=3, amount="800")
        opportunity = make_opportunity(
            rep, customer, name=f"商机{tag}", expected_close_on=_today()
        )
        made[tag] = {"customer": customer, "lead": lead, "opp": opportunity}
    return made


def test_home_panels_show_my_items_and_not_others(reps, client_for):
    _world(reps)
    html = client_for(reps.rep_a).get("/").content.decode()
    for key, mine, theirs in (
        ("customers.follow_ups", "客户甲有限公司", "客户乙有限公司"),
        ("sales.lead_follow_ups", "线索甲", "线索乙"),
        ("sales.instalments", "欠款甲公司", "欠款乙公司"),
        ("sales.opportunities", "商机甲", "商机乙"),
    ):
        panel = _panel(html, key)
        assert mine in panel, key
        assert theirs not in panel, key
        assert 'data-count="1"' in panel, key

    panels = _panels(client_for(reps.rep_b))
    assert panels["customers.follow_ups"]["titles"] == ["客户乙有限公司"]
    assert panels["sales.lead_follow_ups"]["titles"] == ["线索乙"]
    assert panels["sales.instalments"]["titles"] == ["欠款乙公司"]
    assert panels["sales.opportunities"]["titles"] == ["商机乙"]


def test_my_work_is_mine_even_for_a_manager_who_sees_more(reps, client_for):
    """The manager sees the reps' records in lists, but "my work" is their own."""
    role = make_role(
        "经理(工作台)",
        *sales_perms("view"),
        "customers.view_activity",
        scope=DataScope.DEPARTMENT_TREE,
    )
    reps.manager.groups.add(role)
    _world(reps)
    panels = _panels(client_for(reps.manager))
    for key in ("sales.lead_follow_ups", "sales.instalments", "sales.opportunities"):
        assert panels[key]["count"] == 0
        assert panels[key]["titles"] == []


def test_a_follow_up_done_since_is_no_longer_due(reps, client_for):
    done = CustomerFactory(owner=reps.rep_a, name="已回访公司")
    _follow_up(done, -3, hours_ago=48)
    _follow_up(done, None, hours_ago=1)  # the follow-up happened, nothing planned
    later = CustomerFactory(owner=reps.rep_a, name="下周回访公司")
    _follow_up(later, 7)
    late = CustomerFactory(owner=reps.rep_a, name="逾期回访公司")
    _follow_up(late, -4)
    panels = _panels(client_for(reps.rep_a))
    assert panels["customers.follow_ups"]["titles"] == ["逾期回访公司"]
    item = client_for(reps.rep_a).get(API).json()["panels"]
    follow_ups = next(p for p in item if p["key"] == "customers.follow_ups")
    assert follow_ups["items"][0]["overdue"] is True
    assert follow_ups["items"][0]["date"] == _days(-4).isoformat()


def test_instalments_due_within_the_reminder_window_or_overdue(reps, client_for):
    params_update(actor=reps.admin, values={"receivable_reminder_days": 10})
    contract = make_contract(reps.rep_a, CustomerFactory(owner=reps.rep_a))
    overdue = make_instalment(contract, due_in_days=-30, amount="1000", received="250")
    soon = make_instalment(contract, due_in_days=10, amount="2000", sequence=2)
    make_instalment(contract, due_in_days=11, amount="3000", sequence=3)  # too far
    make_instalment(contract, due_in_days=-1, amount="500", received="500", sequence=4)
    make_instalment(contract, due_in_days=-1, amount="700", is_open=False, sequence=5)
    data = client_for(reps.rep_a).get(API).json()
    panel = next(p for p in data["panels"] if p["key"] == "sales.instalments")
    assert panel["count"] == 2
    assert [i["id"] for i in panel["items"]] == [overdue.pk, soon.pk]
    assert [Decimal(i["amount"]) for i in panel["items"]] == [
        Decimal("750"),
        Decimal("2000"),
    ]
    assert [i["overdue"] for i in panel["items"]] == [True, False]
    assert Decimal(panel["total"]) == Decimal("2750")


def test_opportunities_closing_this_month(reps, client_for):
    today = _today()
    customer = CustomerFactory(owner=reps.rep_a)
    month_end = today.replace(day=28) + datetime.timedelta(days=4)
    month_end -= datetime.timedelta(days=month_end.day)
    make_opportunity(reps.rep_a, customer, name="本月", expected_close_on=month_end)
    make_opportunity(reps.rep_a, customer, name="逾期", expected_close_on=_days(-40))
    make_opportunity(
        reps.rep_a,
        customer,
        name="下月",
        expected_close_on=month_end + datetime.timedelta(days=1),
    )
    make_opportunity(reps.rep_a, customer, name="无日期")
    won = Stage.objects.filter(kind=Stage.Kind.WON).first()
    make_opportunity(
        reps.rep_a,
        customer,
        name="已赢",
        expected_close_on=today,
        stage=won,
        status=Opportunity.Status.WON,
    )
    panels = _panels(client_for(reps.rep_a))
    assert panels["sales.opportunities"]["titles"] == ["逾期", "本月"]


def _pending(model, owner, submitted_by, **fields):
    make = make_quote if model is Quote else make_contract
    return make(
        owner,
        CustomerFactory(owner=owner),
        status=model.Status.PENDING_APPROVAL,
        submitted_by=submitted_by,
        submitted_at=timezone.now(),
        **fields,
    )


def test_approvals_panel_only_for_holders_and_only_in_their_scope(reps, client_for):
    quote = _pending(Quote, reps.rep_a, reps.rep_a, title="大折扣报价")
    contract = _pending(Contract, reps.rep_b, reps.rep_b, title="待批合同")
    south = _pending(Quote, reps.rep_c, reps.rep_c, title="华南报价")

    approver = make_role(
        "审批人",
        "sales.view_quote",
        "sales.view_contract",
        "core.approve_discount",
        "sales.approve_contract",
        scope=DataScope.DEPARTMENT_TREE,
    )
    reps.manager.groups.add(approver)
    panels = _panels(client_for(reps.manager))
    assert panels["sales.approvals"]["count"] == 2
    titles = panels["sales.approvals"]["titles"]
    assert sorted(titles) == sorted(
        [f"{quote.number} 大折扣报价", f"{contract.number} 待批合同"]
    )
    assert all(south.number not in t for t in titles)

    # Without the approval permissions there is no approvals panel at all.
    html = client_for(reps.rep_a).get("/").content.decode()
    assert 'data-panel="sales.approvals"' not in html
    assert "sales.approvals" not in _panels(client_for(reps.rep_a))


def test_approvals_panel_leaves_out_what_i_submitted_myself(reps, client_for):
    discount_only = make_role(
        "报价审批", "sales.view_quote", "core.approve_discount", scope=DataScope.ALL
    )
    reps.manager.groups.add(discount_only)
    _pending(Quote, reps.rep_a, reps.manager, title="我提交的")
    other = _pending(Quote, reps.rep_a, reps.rep_a, title="代表提交的")
    _pending(Contract, reps.rep_a, reps.rep_a)  # no approve_contract: not shown
    panels = _panels(client_for(reps.manager))
    assert panels["sales.approvals"]["titles"] == [f"{other.number} 代表提交的"]


@pytest.mark.usefixtures("english")
def test_a_user_without_sales_permissions_gets_a_sensible_home(org, client_for):
    Announcement.objects.create(
        title="国庆放假通知",
        body="十月一日至七日放假。",
        is_published=True,
        published_at=timezone.now(),
    )
    nobody = UserFactory(department=org.east, roles=[make_role("访客")])
    response = client_for(nobody).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-panel="org.announcements"' in html
    assert "国庆放假通知" in html
    assert 'data-panel="sales.' not in html
    assert 'data-panel="customers.follow_ups"' not in html
    assert [p["key"] for p in client_for(nobody).get(API).json()["panels"]] == [
        "org.announcements"
    ]


def test_home_shortcuts_and_search_follow_the_permissions(reps, client_for):
    html = client_for(reps.rep_a).get("/").content.decode()
    shortcuts = re.search(r'id="home-shortcuts"(.*?)</div></div>', html, re.S)
    assert shortcuts is not None
    links = shortcuts.group(1)
    assert reverse("org:announcement-list") in links
    assert reverse("customers:customer-list") in links
    assert reverse("products:product-list") not in links  # the role lacks products
    search = re.search(r'<form class="crm-home-search"(.*?)</form>', html, re.S)
    assert search is not None
    assert f'formaction="{reverse("customers:customer-list")}"' in search.group(1)
    assert 'name="q"' in search.group(1)


def test_the_home_page_costs_the_same_queries_however_much_data(reps, client_for):
    approver = make_role(
        "审批(计数)",
        "core.approve_discount",
        "sales.approve_contract",
        scope=DataScope.OWN,
    )
    reps.rep_a.groups.add(approver)
    client = client_for(reps.rep_a)

    def grow(n):
        for i in range(n):
            customer = CustomerFactory(owner=reps.rep_a)
            _follow_up(customer, -i)
            make_lead(reps.rep_a, next_follow_up_on=_days(-i))
            contract = make_contract(reps.rep_a, customer)
            make_instalment(contract, due_in_days=-i)
            make_opportunity(reps.rep_a, customer, expected_close_on=_days(-i))
            _pending(Quote, reps.rep_a, reps.rep_b)
            _pending(Contract, reps.rep_a, reps.rep_b)
            Announcement.objects.create(
                title=f"公告{i}",
                body="正文",
                is_published=True,
                published_at=timezone.now(),
            )

    def queries():
        client.get("/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx)

    grow(1)
    few = queries()
    grow(15)
    many = queries()
    assert many == few
    assert few < 80


def test_workspace_api_needs_credentials(client):
    response = client.get(API)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
