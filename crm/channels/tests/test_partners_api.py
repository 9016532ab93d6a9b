"""D1 HQ API: partners in scope, create with the sequence, versioned update (409),
territories with the overlap rule, portal users, tiers."""

import pytest
from django.utils import translation

from crm.channels.models import PartnerUser, Territory
from crm.channels.tests.partners_fixtures import GUANGDONG, GUANGZHOU, d, region
from crm.org.tests.factories import make_role

BASE = "/api/v1/channels"


def test_the_list_and_detail_stay_in_scope(channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    rows = client.get(f"{BASE}/partners/").json()["results"]
    assert {r["number"] for r in rows} == {"QD000001", "QD000002"}
    assert client.get(f"{BASE}/partners/{channel_org.partner_c.pk}/").status_code == 404
    found = client.get(f"{BASE}/partners/?q=力拓").json()["results"]
    assert [r["number"] for r in found] == ["QD000002"]


def test_create_and_stale_update(channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    response = client.post(
        f"{BASE}/partners/",
        {"name": "嘉兴联合机械", "kind": "agent", "credit_limit": "1000.00"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "QD000004"
    assert body["owner"] == channel_org.mgr_a.pk
    pk, version = body["id"], body["version"]
    ok = client.patch(
        f"{BASE}/partners/{pk}/",
        {"phone": "0573-1", "version": version},
        content_type="application/json",
    )
    assert ok.status_code == 200
    stale = client.patch(
        f"{BASE}/partners/{pk}/",
        {"phone": "0573-2", "version": version},
        content_type="application/json",
    )
    assert stale.status_code == 409
    negative = client.patch(
        f"{BASE}/partners/{pk}/",
        {"credit_limit": "-5", "version": version + 1},
        content_type="application/json",
    )
    assert negative.status_code == 400
    assert "credit_limit" in negative.json()["fields"]


def test_a_cycle_is_refused(channel_org, client_for):
    a = channel_org.partner_a
    response = client_for(channel_org.mgr_a).patch(
        f"{BASE}/partners/{a.pk}/",
        {"parent": channel_org.partner_a2.pk, "version": a.version},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]


def test_territories_through_the_api(english, channel_org, client_for):
    Territory.objects.create(
        partner=channel_org.partner_c,
        region=region(GUANGDONG),
        starts_on=d("2026-01-01"),
    )
    client = client_for(channel_org.mgr_a)
    url = f"{BASE}/partners/{channel_org.partner_a.pk}/territories/"
    with translation.override("en"):
        clash = client.post(
            url,
            {"region": int(GUANGZHOU), "starts_on": "2030-01-01"},
            content_type="application/json",
        )
    assert clash.status_code == 409
    assert "广州粤达机械设备有限公司 holds 广东省" in clash.json()["message"]
    shared = client.post(
        url,
        {"region": int(GUANGZHOU), "starts_on": "2030-01-01", "exclusive": False},
        content_type="application/json",
    )
    assert shared.status_code == 201
    assert [t["region"] for t in client.get(url).json()] == [int(GUANGZHOU)]
    pk = shared.json()["id"]
    ended = client.post(
        f"{BASE}/territories/{pk}/end/",
        {"ends_on": "2030-12-31"},
        content_type="application/json",
    )
    assert ended.json()["ends_on"] == "2030-12-31"
    # Another manager's partner's territory is not found.
    other = Territory.objects.get(partner=channel_org.partner_c)
    assert client.get(f"{BASE}/territories/{other.pk}/").status_code == 404
    assert client.delete(f"{BASE}/territories/{other.pk}/").status_code == 404
    assert client.delete(f"{BASE}/territories/{pk}/").status_code == 403
    assert (
        client_for(channel_org.admin).delete(f"{BASE}/territories/{pk}/").status_code
        == 204
    )


def test_portal_users_through_the_api(channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    url = f"{BASE}/partners/{channel_org.partner_a.pk}/users/"
    payload = {"username": "pa_api", "password": "Hengtong#2026x", "name": "接口"}
    assert client.post(url, payload, content_type="application/json").status_code == 403
    channel_org.mgr_a.groups.add(make_role("门户用户", "channels.manage_partnerusers"))
    created = client.post(url, payload, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["username"] == "pa_api"
    assert {u["username"] for u in client.get(url).json()} == {
        "pa_admin",
        "pa_user",
        "pa_api",
    }
    weak = client.post(
        url, {"username": "pa_weak", "password": "123"}, content_type="application/json"
    )
    assert weak.status_code == 400
    assert "password" in weak.json()["fields"]
    member = created.json()["id"]
    off = client.post(f"{BASE}/partner-users/{member}/deactivate/")
    assert off.status_code == 200
    assert off.json()["is_active"] is False
    pc = PartnerUser.objects.get(user=channel_org.pc_admin)
    assert client.post(f"{BASE}/partner-users/{pc.pk}/deactivate/").status_code == 404


def test_tiers_through_the_api(channel_org, client_for):
    client = client_for(channel_org.admin)
    created = client.post(
        f"{BASE}/tiers/",
        {"name": "三级经销商", "rank": 3},
        content_type="application/json",
    )
    assert created.status_code == 201
    duplicate = client.post(
        f"{BASE}/tiers/", {"name": "三级经销商"}, content_type="application/json"
    )
    assert duplicate.status_code == 400
    names = [t["name"] for t in client.get(f"{BASE}/tiers/").json()["results"]]
    assert names == ["一级经销商", "二级经销商", "三级经销商"]


@pytest.mark.parametrize("path", ["partners/", "tiers/", "territories/"])
def test_partner_users_get_no_hq_partner_api(channel_org, client_for, path):
    assert client_for(channel_org.pa_admin).get(f"{BASE}/{path}").status_code == 404
