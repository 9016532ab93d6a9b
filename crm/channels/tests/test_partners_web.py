"""D1 HQ partner pages: list in scope with search, filters, sort and export; detail with
territories, network, portal users and links; create/edit; tiers; territories and
portal users from the page."""

import io

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from openpyxl import load_workbook

from crm.channels.models import Partner, PartnerUser, Territory, Tier
from crm.channels.tests.partners_fixtures import (
    GUANGDONG,
    HANGZHOU,
    ZHEJIANG,
    d,
    region,
)
from crm.core.models import AuditEvent
from crm.org.tests.factories import make_role


@pytest.fixture
def exporter(channel_org):
    channel_org.mgr_a.groups.add(make_role("导出", "core.export_data"))
    return channel_org


def test_the_list_shows_only_the_managers_partners(channel_org, client_for):
    page = client_for(channel_org.mgr_a).get("/channels/partners/").content.decode()
    assert "杭州恒通机械有限公司" in page
    assert "宁波力拓工程机械有限公司" in page
    assert "广州粤达机械设备有限公司" not in page
    everything = client_for(channel_org.admin).get("/channels/partners/")
    assert "广州粤达机械设备有限公司" in everything.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=QD000002", {"QD000002"}),
        ("q=恒通", {"QD000001"}),
        ("kind=agent", {"QD000003"}),
        ("status=suspended", {"QD000002"}),
        ("tier={silver}", {"QD000002"}),
        ("owner={mgr_c}", {"QD000003"}),
        ("region=440000", {"QD000003"}),
        ("region=330100", {"QD000001"}),
    ],
)
def test_search_and_filters(channel_org, client_for, query, expected):
    Partner.objects.filter(pk=channel_org.partner_c.pk).update(
        kind="agent", region=region("440100")
    )
    Partner.objects.filter(pk=channel_org.partner_a.pk).update(region=region("330102"))
    Partner.objects.filter(pk=channel_org.partner_a2.pk).update(
        status="suspended", region=region("330200")
    )
    query = query.format(silver=channel_org.silver.pk, mgr_c=channel_org.mgr_c.pk)
    page = client_for(channel_org.admin).get(f"/channels/partners/?{query}")
    assert page.status_code == 200
    shown = {
        n for n in ("QD000001", "QD000002", "QD000003") if n in page.content.decode()
    }
    assert shown == expected


def test_sorting_by_name_descending(channel_org, client_for):
    page = client_for(channel_org.admin).get("/channels/partners/?sort=-number")
    text = page.content.decode()
    assert text.index("QD000003") < text.index("QD000002") < text.index("QD000001")


def test_the_export_holds_only_the_scope(exporter, client_for):
    response = client_for(exporter.mgr_a).get("/export/channels.partner/?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(
        io.BytesIO(
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
    ).active
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {"QD000001", "QD000002"}


def test_the_detail_page(channel_org, client_for):
    a = channel_org.partner_a
    Territory.objects.create(
        partner=a, region=region(HANGZHOU), exclusive=True, starts_on=d("2026-01-01")
    )
    page = client_for(channel_org.mgr_a).get(f"/channels/partners/{a.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "浙江省 杭州市" in text  # territory
    assert "宁波力拓工程机械有限公司" in text  # child partner
    assert "pa_admin" in text
    assert "pa_user" in text
    assert "pc_admin" not in text
    # Links to the other areas' lists of this partner's records, where they exist.
    for name in ("channels:agreement-list", "channels:purchaseorder-list"):
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        assert f'href="{url}?partner={a.pk}"' in text


def test_another_managers_partner_is_not_found(channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    c = channel_org.partner_c
    assert client.get(f"/channels/partners/{c.pk}/").status_code == 404
    assert client.get(f"/channels/partners/{c.pk}/edit/").status_code == 404
    assert (
        client.post(
            f"/channels/partners/{c.pk}/territories/add/",
            {"region_province": ZHEJIANG, "starts_on": "2026-01-01", "exclusive": "on"},
        ).status_code
        == 404
    )


def test_create_and_edit_through_the_form(channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    response = client.post(
        "/channels/partners/new/",
        {
            "name": "绍兴顺达机械",
            "kind": "dealer",
            "status": "active",
            "tier": channel_org.silver.pk,
            "parent": channel_org.partner_a.pk,
            "credit_limit": "500000",
            "regions_served": [ZHEJIANG, GUANGDONG],
            "region_province": ZHEJIANG,
            "region_city": "330600",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    partner = Partner.objects.get(name="绍兴顺达机械")
    assert partner.number == "QD000004"
    assert partner.owner == channel_org.mgr_a
    assert partner.parent == channel_org.partner_a
    assert partner.region.code == "330600"
    assert {r.code for r in partner.regions_served.all()} == {ZHEJIANG, GUANGDONG}
    data = {
        "name": "绍兴顺达机械有限公司",
        "kind": "dealer",
        "status": "active",
        "credit_limit": "600000",
        "version": partner.version,
    }
    assert (
        client.post(f"/channels/partners/{partner.pk}/edit/", data).status_code == 302
    )
    # The same form again, now stale.
    with translation.override("en"):
        stale = client.post(f"/channels/partners/{partner.pk}/edit/", data)
    assert stale.status_code == 409
    partner.refresh_from_db()
    assert partner.name == "绍兴顺达机械有限公司"
    assert partner.parent is None  # emptied by the edit


def test_the_form_refuses_a_negative_credit_limit_and_a_cycle(channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    a = channel_org.partner_a
    response = client.post(
        f"/channels/partners/{a.pk}/edit/",
        {
            "name": a.name,
            "kind": "dealer",
            "status": "active",
            "credit_limit": "-1",
            "version": a.version,
        },
    )
    assert response.status_code == 400
    # The child cannot even be offered as a parent.
    response = client.post(
        f"/channels/partners/{a.pk}/edit/",
        {
            "name": a.name,
            "kind": "dealer",
            "status": "active",
            "credit_limit": "0",
            "parent": channel_org.partner_a2.pk,
            "version": a.version,
        },
    )
    assert response.status_code == 400
    a.refresh_from_db()
    assert a.parent_id is None


def test_a_clashing_territory_is_refused_on_the_page_with_the_reason(
    channel_org, client_for, english
):
    Territory.objects.create(
        partner=channel_org.partner_c,
        region=region(ZHEJIANG),
        starts_on=d("2026-01-01"),
        ends_on=d("2026-12-31"),
    )
    client = client_for(channel_org.mgr_a)
    response = client.post(
        f"/channels/partners/{channel_org.partner_a.pk}/territories/add/",
        {
            "region_province": ZHEJIANG,
            "region_city": HANGZHOU,
            "starts_on": "2026-05-01",
            "exclusive": "on",
        },
    )
    assert response.status_code == 409
    assert (
        "广州粤达机械设备有限公司 holds 浙江省 exclusively from 2026-01-01 until 2026-12-31"
        in response.content.decode()
    )
    ok = client.post(
        f"/channels/partners/{channel_org.partner_a.pk}/territories/add/",
        {
            "region_province": ZHEJIANG,
            "region_city": HANGZHOU,
            "starts_on": "2027-01-01",
            "exclusive": "on",
        },
    )
    assert ok.status_code == 302
    territory = Territory.objects.get(partner=channel_org.partner_a)
    assert territory.region.code == HANGZHOU
    ended = client.post(
        f"/channels/territories/{territory.pk}/end/", {"ends_on": "2027-06-30"}
    )
    assert ended.status_code == 302
    territory.refresh_from_db()
    assert territory.ends_on == d("2027-06-30")
    # The manager's role has no delete: removing is refused.
    assert (
        client.post(f"/channels/territories/{territory.pk}/remove/").status_code == 403
    )


def test_hq_creates_and_deactivates_portal_users(channel_org, client_for):
    channel_org.mgr_a.groups.add(make_role("门户用户", "channels.manage_partnerusers"))
    client = client_for(channel_org.mgr_a)
    a = channel_org.partner_a
    response = client.post(
        f"/channels/partners/{a.pk}/users/new/",
        {
            "username": "pa_new",
            "name": "新用户",
            "email": "new@example.com",
            "password": "Hengtong#2026x",
            "is_admin": "on",
        },
    )
    assert response.status_code == 302
    member = PartnerUser.objects.get(user__username="pa_new")
    assert member.partner == a
    assert member.is_admin
    assert member.user.department_id is None
    assert not member.user.groups.exists()
    assert member.user.check_password("Hengtong#2026x")
    assert (
        client.post(f"/channels/partner-users/{member.pk}/deactivate/").status_code
        == 302
    )
    member.user.refresh_from_db()
    assert not member.user.is_active
    # Not for partners outside the scope.
    c = channel_org.partner_c
    assert client.get(f"/channels/partners/{c.pk}/users/new/").status_code == 404
    pc = PartnerUser.objects.get(user=channel_org.pc_admin)
    assert (
        client.post(f"/channels/partner-users/{pc.pk}/deactivate/").status_code == 404
    )
    channel_org.pc_admin.refresh_from_db()
    assert channel_org.pc_admin.is_active


def test_without_the_permission_hq_cannot_create_portal_users(channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    a = channel_org.partner_a
    assert client.get(f"/channels/partners/{a.pk}/users/new/").status_code == 403
    member = PartnerUser.objects.get(user=channel_org.pa_user)
    assert (
        client.post(f"/channels/partner-users/{member.pk}/deactivate/").status_code
        == 403
    )


def test_tiers_page_add_and_edit(channel_org, client_for):
    client = client_for(channel_org.admin)
    page = client.get("/channels/tiers/")
    assert "一级经销商" in page.content.decode()
    assert (
        client.post("/channels/tiers/new/", {"name": "核心代理", "rank": 3}).status_code
        == 302
    )
    tier = Tier.objects.get(name="核心代理")
    duplicate = client.post("/channels/tiers/new/", {"name": "核心代理", "rank": 4})
    assert duplicate.status_code == 400
    response = client.post(
        f"/channels/tiers/{tier.pk}/edit/", {"name": "核心代理商", "rank": 3}
    )
    assert response.status_code == 302
    tier.refresh_from_db()
    assert tier.name == "核心代理商"
    assert AuditEvent.objects.filter(object_id=str(tier.pk)).count() == 2
    # A channel manager's role does not manage tiers.
    assert client_for(channel_org.mgr_a).get("/channels/tiers/").status_code == 403


def test_the_list_costs_the_same_queries_for_more_rows(channel_org, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(channel_org.admin)
    client.get("/channels/partners/")  # warm caches (parameters, sessions)
    with CaptureQueriesContext(connection) as few:
        client.get("/channels/partners/")
    for i in range(20):
        Partner.objects.create(
            number=f"QD1{i:05d}",
            name=f"批量{i}",
            owner=channel_org.mgr_c,
            tier=channel_org.gold,
            region=region(HANGZHOU),
            parent=channel_org.partner_c,
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/channels/partners/")
    assert len(many) == len(few)
