"""D2 agreements over the HQ API (CRUD, rules, activate/terminate/renew, scope) and the
portal (pages and API: the partner's own agreements only)."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.channels.models import Agreement
from crm.channels.tests.agreements_fixtures import make_agreement
from crm.customers.models import Region

D = datetime.date
S = Agreement.Status
HQ = "/api/v1/channels/agreements/"
PORTAL = "/api/v1/portal/agreements/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ags(channel_org):
    org = channel_org
    a = make_agreement(
        org.partner_a,
        number="XY000051",
        price_list=org.catalogue.price_list,
        discount_percent=Decimal("5"),
    )
    a.rules.create(kind="rebate", threshold_percent=100, percent=Decimal("2"))
    a.territory.set(["330100"])
    return {
        "a": a,
        "a_draft": make_agreement(org.partner_a, number="XY000052", status=S.DRAFT),
        "c": make_agreement(org.partner_c, number="XY000053"),
    }


def test_hq_list_and_detail_are_scoped(ags, channel_org):
    client = api(channel_org.mgr_a)
    listed = client.get(HQ).json()
    assert {row["number"] for row in listed["results"]} == {"XY000051", "XY000052"}
    partner = client.get(HQ, {"partner": channel_org.partner_a.pk}).json()
    assert partner["count"] == 2
    assert client.get(HQ, {"partner": channel_org.partner_c.pk}).status_code == 400
    detail = client.get(f"{HQ}{ags['a'].pk}/").json()
    assert detail["rules"][0]["kind"] == "rebate"
    assert detail["territory"] == [Region.objects.get(code="330100").pk]
    assert client.get(f"{HQ}{ags['c'].pk}/").status_code == 404
    assert client.post(f"{HQ}{ags['c'].pk}/renew/").status_code == 404
    assert api(channel_org.mgr_c).get(HQ).json()["count"] == 1


def test_hq_create_update_rules_and_actions(ags, channel_org):
    org = channel_org
    client = api(org.mgr_a)
    created = client.post(
        HQ,
        {
            "partner": org.partner_a2.pk,
            "title": "力拓 2026 经销协议",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "discount_percent": "6",
            "annual_target": "2000000",
            "categories": [org.catalogue.parts.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft"
    assert body["number"].startswith("XY")
    url = f"{HQ}{body['id']}/"
    # Someone else's partner cannot be chosen.
    other = client.post(
        HQ,
        {
            "partner": org.partner_c.pk,
            "title": "x",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        format="json",
    )
    assert other.status_code == 400
    assert "partner" in other.json()["fields"]

    assert (
        client.patch(url, {"title": "新标题", "version": 1}, format="json").status_code
        == 200
    )
    stale = client.patch(url, {"title": "旧", "version": 1}, format="json")
    assert stale.status_code == 409
    assert client.patch(url, {"title": "无版本"}, format="json").status_code == 400

    rule = client.post(
        f"{url}rules/",
        {"kind": "penalty", "threshold_percent": "60", "amount": "5000"},
        format="json",
    )
    assert rule.status_code == 201
    clash = client.post(
        f"{url}rules/",
        {"kind": "penalty", "threshold_percent": "60", "amount": "1"},
        format="json",
    )
    assert clash.status_code == 400
    assert "threshold_percent" in clash.json()["fields"]
    rule_url = f"{url}rules/{rule.json()['id']}/"
    changed = client.patch(rule_url, {"amount": "6000"}, format="json")
    assert Decimal(changed.json()["amount"]) == Decimal("6000")

    activated = client.post(f"{url}activate/")
    assert activated.json()["status"] == "active"
    assert client.patch(rule_url, {"amount": "1"}, format="json").status_code == 409
    assert client.post(f"{url}activate/").status_code == 409

    renewed = client.post(f"{url}renew/")
    assert renewed.status_code == 201
    assert renewed.json()["starts_on"] == "2027-01-01"
    assert renewed.json()["ends_on"] == "2027-12-31"
    assert renewed.json()["previous"] == body["id"]
    assert renewed.json()["rules"][0]["amount"].startswith("6000")
    assert client.post(f"{url}renew/").status_code == 409

    assert client.post(f"{url}terminate/", {}, format="json").status_code == 400
    ended = client.post(f"{url}terminate/", {"reason": "违约"}, format="json")
    assert ended.json()["status"] == "terminated"
    assert ended.json()["termination_reason"] == "违约"


def test_overlap_is_refused_naming_the_other(ags, channel_org):
    client = api(channel_org.mgr_a)
    # XY000052 is a draft over the same 2026 as XY000051, which is in force.
    refused = client.post(f"{HQ}{ags['a_draft'].pk}/activate/")
    assert refused.status_code == 409
    assert "XY000051" in refused.json()["message"]


# Portal


def test_portal_pages_show_only_the_partners_own(ags, channel_org, client_for):
    org = channel_org
    client = client_for(org.pa_user)
    page = client.get("/portal/agreements/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "XY000051" in text
    assert "XY000052" not in text  # a draft is HQ's work in progress
    assert "XY000053" not in text
    detail = client.get(f"/portal/agreements/{ags['a'].pk}/")
    assert detail.status_code == 200
    assert 'id="rebate-table"' in detail.content.decode()
    assert "杭州" in detail.content.decode()
    # Another partner's agreement, or a draft: not found.
    assert client.get(f"/portal/agreements/{ags['c'].pk}/").status_code == 404
    assert client.get(f"/portal/agreements/{ags['a_draft'].pk}/").status_code == 404
    assert (
        client_for(org.pc_admin).get(f"/portal/agreements/{ags['a'].pk}/").status_code
        == 404
    )
    # HQ users are no partner users: the portal does not exist for them.
    assert client_for(org.mgr_a).get("/portal/agreements/").status_code == 404


def test_portal_api_shows_only_the_partners_own(ags, channel_org):
    org = channel_org
    client = api(org.pa_admin)
    listed = client.get(PORTAL).json()
    assert [row["number"] for row in listed["results"]] == ["XY000051"]
    row = listed["results"][0]
    assert row["territory_names"] == [Region.objects.get(code="330100").name]
    assert Decimal(row["rules"][0]["percent"]) == Decimal("2")
    assert client.get(f"{PORTAL}{ags['a'].pk}/").status_code == 200
    assert client.get(f"{PORTAL}{ags['c'].pk}/").status_code == 404
    assert client.get(f"{PORTAL}{ags['a_draft'].pk}/").status_code == 404
    assert client.get(f"{PORTAL}abc/").status_code == 404
    assert api(org.pc_admin).get(f"{PORTAL}{ags['a'].pk}/").status_code == 404
    assert api(org.mgr_a).get(PORTAL).status_code == 403
    # Read only.
    assert client.post(PORTAL, {}, format="json").status_code == 405
