"""S1 leads over the API (X2): scope (another rep's lead is 404 and absent from the
list), create/update with version, follow-ups, assignment, the customer candidates."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.customers.tests.factories import CustomerFactory
from crm.sales.models import Lead, LeadFollowUp
from crm.sales.tests.leads_fixtures import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("english")
LEADS = "/api/v1/sales/leads/"


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_another_reps_lead_is_absent_and_not_found(sales_org, make_lead, api):
    mine = make_lead(sales_org.rep_a, name="甲的线索")
    theirs = make_lead(sales_org.rep_b, name="乙的线索")
    client = api(sales_org.rep_b)
    names = [row["name"] for row in client.get(LEADS).json()["results"]]
    assert names == ["乙的线索"]
    assert client.get(f"{LEADS}{theirs.pk}/").status_code == 200
    for response in (
        client.get(f"{LEADS}{mine.pk}/"),
        client.patch(f"{LEADS}{mine.pk}/", {"version": 1, "name": "x"}, format="json"),
        client.get(f"{LEADS}{mine.pk}/follow-ups/"),
        client.post(f"{LEADS}{mine.pk}/follow-ups/", {"content": "x"}, format="json"),
        client.post(f"{LEADS}{mine.pk}/convert/", {}, format="json"),
        client.get(f"{LEADS}{mine.pk}/customer-candidates/"),
    ):
        assert response.status_code == 404, response.request["PATH_INFO"]
    mine.refresh_from_db()
    assert (mine.name, mine.version) == ("甲的线索", 1)
    # The manager of the east subtree sees both.
    manager_names = {
        r["name"] for r in api(sales_org.manager).get(LEADS).json()["results"]
    }
    assert manager_names == {"甲的线索", "乙的线索"}


def test_list_searches_and_filters_like_the_page(sales_org, make_lead, api):
    make_lead(sales_org.rep_a, name="张三", source="campaign")
    make_lead(sales_org.rep_a, name="李四", source="partner", status="qualified")
    client = api(sales_org.rep_a)
    names = lambda r: sorted(x["name"] for x in r.json()["results"])  # noqa: E731
    assert names(client.get(LEADS, {"q": "张"})) == ["张三"]
    assert names(client.get(LEADS, {"source": "partner"})) == ["李四"]
    assert names(client.get(LEADS, {"status": "qualified"})) == ["李四"]
    assert client.get(LEADS, {"status": "nonsense"}).status_code == 400


def test_create_and_update_with_the_version(sales_org, api):
    client = api(sales_org.rep_a)
    response = client.post(
        LEADS,
        {
            "name": "王五",
            "company": "宁波某某",
            "mobile": "13700001111",
            "source": "campaign",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("XS")
    assert (body["owner"], body["status"], body["version"]) == (
        sales_org.rep_a.pk,
        "new",
        1,
    )
    url = f"{LEADS}{body['id']}/"
    assert client.patch(url, {"company": "x"}, format="json").status_code == 400
    response = client.patch(url, {"company": "宁波新公司", "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    stale = client.patch(url, {"company": "旧", "version": 1}, format="json")
    assert stale.status_code == 409
    bad = client.post(LEADS, {"name": "x", "mobile": "123"}, format="json")
    assert bad.status_code == 400
    assert "mobile" in bad.json()["fields"]


def test_creating_for_someone_else_needs_the_assign_permission(sales_org, api):
    response = api(sales_org.rep_a).post(
        LEADS, {"name": "x", "owner": sales_org.rep_b.pk}, format="json"
    )
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_follow_ups(sales_org, make_lead, api):
    lead = make_lead(sales_org.rep_a)
    client = api(sales_org.rep_a)
    url = f"{LEADS}{lead.pk}/follow-ups/"
    next_on = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = client.post(
        url,
        {"kind": "wechat", "content": "微信联系", "next_follow_up_on": next_on},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["recorded_by"] == sales_org.rep_a.pk
    rows = client.get(url).json()
    assert [r["content"] for r in rows] == ["微信联系"]
    detail = client.get(f"{LEADS}{lead.pk}/").json()
    assert (detail["status"], detail["next_follow_up_on"]) == ("contacted", next_on)
    bad = client.post(url, {"kind": "fax", "content": ""}, format="json")
    assert bad.status_code == 400
    assert LeadFollowUp.objects.count() == 1


def test_assign_needs_the_permission(sales_org, lead_manager, make_lead, api):
    lead = make_lead(sales_org.rep_a)
    url = f"{LEADS}{lead.pk}/assign/"
    assert (
        api(sales_org.rep_a)
        .post(url, {"owner": sales_org.rep_b.pk}, format="json")
        .status_code
        == 403
    )
    response = api(lead_manager).post(url, {"owner": sales_org.rep_b.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["owner"] == sales_org.rep_b.pk
    by_rule = api(lead_manager).post(f"{LEADS}{lead.pk}/assign-by-rule/")
    assert by_rule.status_code == 400  # no rule
    assert "No active assignment rule" in by_rule.json()["message"]


def test_customer_candidates(sales_org, make_lead, api):
    CustomerFactory(owner=sales_org.rep_a, name="杭州西湖科技有限公司")
    CustomerFactory(owner=sales_org.rep_c, name="杭州西湖科技有限公司")
    lead = make_lead(sales_org.rep_a, company="杭州西湖科技有限公司")
    body = api(sales_org.rep_a).get(f"{LEADS}{lead.pk}/customer-candidates/").json()
    assert [c["customer"]["name"] for c in body["candidates"]] == [
        "杭州西湖科技有限公司"
    ]
    assert body["candidates"][0]["reasons"] == ["same name"]
    assert body["outside_scope"] == 1
