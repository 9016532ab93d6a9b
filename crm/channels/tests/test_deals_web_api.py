"""D10 pages and API: registering from the portal, conflicts side by side, the decision,
portal isolation and HQ scope."""

import pytest
from django.urls import reverse

from crm.channels.models import DealRegistration
from crm.channels.services.deals import deal_register
from crm.channels.tests.marketing_fixtures import mkt
from crm.core.models import Notification
from crm.org.tests.factories import make_role

__all__ = ["mkt"]


@pytest.fixture
def clash(mkt):
    """partner_a registers 华为技术 first, partner_c second: a conflict."""
    mkt.deal_a = deal_register(
        actor=mkt.pa_user, data={"customer_name": "杭州华为技术有限公司"}
    )
    mkt.deal_c = deal_register(
        actor=mkt.pc_admin,
        data={"customer_name": "华为技术有限公司", "region": mkt.guangzhou},
    )
    return mkt


def test_portal_registration_form(mkt, client_for):
    client = client_for(mkt.pa_user)
    assert client.get(reverse("portal:deal-create")).status_code == 200
    response = client.post(
        reverse("portal:deal-create"),
        {
            "customer_name": "浙江中建工程有限公司",
            "region": mkt.hangzhou.pk,
            "project": "地铁工地",
            "expected_amount": "880000",
            "expected_close_on": "2026-09-30",
        },
    )
    deal = DealRegistration.objects.get()
    assert response.status_code == 302
    assert deal.partner == mkt.partner_a
    assert deal.status == "pending"
    assert deal.submitted_by == mkt.pa_user
    listing = client.get(reverse("portal:deal-list")).content.decode()
    assert deal.number in listing


def test_portal_api_registration_reports_the_conflict(clash, client_for):
    response = client_for(clash.pa_admin).get(
        f"/api/v1/portal/deals/{clash.deal_a.pk}/"
    )
    assert response.json()["status"] == "conflict"
    created = client_for(clash.pc_admin).post(
        "/api/v1/portal/deals/",
        {"customer_name": "华为技术", "expected_amount": "10"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["status"] == "conflict"
    assert created.json()["number"].startswith("BB")


def test_portal_isolation(clash, client_for):
    client = client_for(clash.pa_user)
    assert (
        client.get(reverse("portal:deal-detail", args=[clash.deal_c.pk])).status_code
        == 404
    )
    assert client.get(f"/api/v1/portal/deals/{clash.deal_c.pk}/").status_code == 404
    listed = client.get("/api/v1/portal/deals/").json()["results"]
    assert [d["id"] for d in listed] == [clash.deal_a.pk]
    hq = client_for(clash.mgr_a)
    assert (
        hq.get(reverse("portal:deal-detail", args=[clash.deal_a.pk])).status_code == 404
    )
    assert hq.get(f"/api/v1/portal/deals/{clash.deal_a.pk}/").status_code == 403


def test_hq_scope(clash, client_for):
    client = client_for(clash.mgr_a)
    listing = client.get(reverse("channels:deal-list"), {"status": "conflict"})
    text = listing.content.decode()
    assert reverse("channels:deal-detail", args=[clash.deal_a.pk]) in text
    assert reverse("channels:deal-detail", args=[clash.deal_c.pk]) not in text
    assert (
        client.get(reverse("channels:deal-detail", args=[clash.deal_c.pk])).status_code
        == 404
    )
    # A partner outside the scope is not even a valid filter choice.
    api = client.get("/api/v1/channels/deals/", {"partner": clash.partner_c.pk})
    assert api.status_code == 400
    api = client.get("/api/v1/channels/deals/")
    assert [d["id"] for d in api.json()["results"]] == [clash.deal_a.pk]
    assert client.get(f"/api/v1/channels/deals/{clash.deal_c.pk}/").status_code == 404
    clash.mgr_a.groups.add(make_role("导出", "core.export_data"))
    export = client.get("/export/channels.dealregistration/", {"format": "csv"})
    lines = export.content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [clash.deal_a.number]


def test_hq_filters_conflicts_and_partner(clash, client_for):
    client = client_for(clash.admin)  # sees both partners
    rows = client.get("/api/v1/channels/deals/", {"status": "conflict"}).json()
    assert {d["number"] for d in rows["results"]} == {
        clash.deal_a.number,
        clash.deal_c.number,
    }
    rows = client.get("/api/v1/channels/deals/", {"partner": clash.partner_c.pk})
    assert [d["id"] for d in rows.json()["results"]] == [clash.deal_c.pk]


def test_conflict_detail_shows_the_competitors_side_by_side(clash, client_for):
    page = client_for(clash.admin).get(
        reverse("channels:deal-detail", args=[clash.deal_c.pk])
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert f'data-deal="{clash.deal_a.pk}"' in text
    assert f'data-deal="{clash.deal_c.pk}"' in text
    assert 'id="decide-form"' in text
    # mgr_a sees the competitor card but not its details.
    page = client_for(clash.mgr_a).get(
        reverse("channels:deal-detail", args=[clash.deal_a.pk])
    )
    assert f'data-deal="{clash.deal_c.pk}"' in page.content.decode()
    assert "广州市" not in page.content.decode()


def test_decide_by_api_then_twice_is_409(clash, client_for):
    client = client_for(clash.admin)
    url = f"/api/v1/channels/deals/{clash.deal_a.pk}/decide/"
    response = client.post(
        url,
        {"decision": "approve", "note": "恒通先报备"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved"
    assert body["valid_until"]
    assert [c["status"] for c in body["competing"]] == ["rejected"]
    assert (
        client.post(
            url, {"decision": "reject"}, content_type="application/json"
        ).status_code
        == 409
    )
    loser = Notification.objects.get(recipient=clash.pc_admin)
    assert "恒通先报备" in loser.body


def test_decide_by_page(clash, client_for):
    client = client_for(clash.mgr_c)
    response = client.post(
        reverse("channels:deal-decide", args=[clash.deal_c.pk]),
        {"decision": "approve"},
    )
    assert response.status_code == 302
    assert DealRegistration.objects.get(pk=clash.deal_a.pk).status == "rejected"
    assert Notification.objects.filter(
        recipient=clash.pa_user, kind="channels.deal_decided"
    ).exists()
    # Without the special permission: 403.
    other = deal_register(actor=clash.pa_user, data={"customer_name": "新客户"})
    clash.mgr_a.groups.clear()
    clash.mgr_a.groups.add(
        make_role("只读", "channels.view_dealregistration", "channels.view_partner")
    )
    response = client_for(clash.mgr_a).post(
        reverse("channels:deal-decide", args=[other.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
