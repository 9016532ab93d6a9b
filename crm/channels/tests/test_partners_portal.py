"""D3 portal pages and API of the partners area: the overview's numbers (hand-computed,
the other partner's data never counted), the company profile, a partner admin's own
users (never another partner's: 404; not themselves), and /api/v1/portal/me/."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token

from crm.channels.models import (
    Agreement,
    PartnerScore,
    PartnerUser,
    PurchaseOrder,
    ScorePeriod,
    SellThroughLine,
    SellThroughReport,
    StockCount,
)
from crm.channels.selectors.partners import portal_overview
from crm.channels.services import partners as services
from crm.core.errors import Forbidden, Invalid, NotFound

TODAY = datetime.date(2026, 5, 20)


def sale(partner, product, day, amount, ref):
    report = SellThroughReport.objects.create(
        partner=partner, reference=ref, source="portal"
    )
    SellThroughLine.objects.create(
        report=report,
        partner=partner,
        sold_on=day,
        product=product,
        quantity=Decimal("1"),
        amount=Decimal(amount),
    )


def order(partner, number, status, total, day=TODAY):
    return PurchaseOrder.objects.create(
        partner=partner,
        number=number,
        status=status,
        ordered_on=day,
        total=Decimal(total),
        owner=partner.owner,
    )


@pytest.fixture
def numbers(channel_org):
    a, c = channel_org.partner_a, channel_org.partner_c
    p1 = channel_org.catalogue.p1
    sale(a, p1, datetime.date(2026, 5, 1), "90000", "A1")  # this month
    sale(a, p1, datetime.date(2026, 5, 20), "10000.50", "A2")  # this month, today
    sale(a, p1, datetime.date(2026, 5, 21), "77777", "A3")  # tomorrow: not yet
    sale(a, p1, datetime.date(2026, 2, 3), "30000", "A4")  # this year
    sale(a, p1, datetime.date(2025, 12, 31), "55555", "A5")  # last year
    sale(c, p1, datetime.date(2026, 5, 2), "99999", "C1")  # another partner
    order(a, "CG1", PurchaseOrder.Status.SUBMITTED, "180000")
    order(a, "CG2", PurchaseOrder.Status.SUBMITTED, "20000")
    order(a, "CG3", PurchaseOrder.Status.APPROVED, "5000")
    order(c, "CG4", PurchaseOrder.Status.SUBMITTED, "1")
    StockCount.objects.create(
        partner=a, product=p1, counted_on=datetime.date(2026, 4, 30), quantity=3
    )
    StockCount.objects.create(
        partner=c, product=p1, counted_on=datetime.date(2026, 5, 19), quantity=3
    )
    Agreement.objects.create(
        partner=a,
        number="XY1",
        title="2026 年度经销协议",
        status=Agreement.Status.ACTIVE,
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 6, 19),
        owner=a.owner,
    )
    Agreement.objects.create(
        partner=a,
        number="XY0",
        title="旧协议",
        status=Agreement.Status.EXPIRED,
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2025, 12, 31),
        owner=a.owner,
    )
    q1 = ScorePeriod.objects.create(
        name="2026Q1",
        kind="quarter",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 3, 31),
    )
    q4 = ScorePeriod.objects.create(
        name="2025Q4",
        kind="quarter",
        starts_on=datetime.date(2025, 10, 1),
        ends_on=datetime.date(2025, 12, 31),
    )
    PartnerScore.objects.create(period=q1, partner=a, total=Decimal("87.50"), rank=2)
    PartnerScore.objects.create(period=q4, partner=a, total=Decimal("60"), rank=9)
    PartnerScore.objects.create(period=q1, partner=c, total=Decimal("99"), rank=1)
    return channel_org


def test_the_overview_numbers(numbers):
    o = portal_overview(partner=numbers.partner_a, today=TODAY)
    assert o["sell_through_month"] == Decimal("100000.50")  # 90000 + 10000.50
    assert o["sell_through_year"] == Decimal("130000.50")  # + 30000
    assert o["orders_waiting"] == 2
    assert o["orders_waiting_total"] == Decimal("200000")
    assert o["last_stock_count"] == datetime.date(2026, 4, 30)
    assert o["agreement"].number == "XY1"
    assert o["agreement_days_left"] == 30
    assert (o["score"].period.name, o["score"].total, o["score"].rank) == (
        "2026Q1",
        Decimal("87.50"),
        2,
    )


def test_the_overview_of_a_partner_without_data(channel_org):
    o = portal_overview(partner=channel_org.partner_a2, today=TODAY)
    assert o["sell_through_month"] == 0
    assert o["orders_waiting"] == 0
    assert o["last_stock_count"] is None
    assert o["agreement"] is None
    assert o["score"] is None


def test_the_home_page_shows_the_partners_own_figures(numbers, client_for):
    today = timezone.localdate()
    Agreement.objects.filter(number="XY1").update(
        starts_on=today - datetime.timedelta(days=100),
        ends_on=today + datetime.timedelta(days=30),
    )
    page = client_for(numbers.pa_user).get("/portal/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "杭州恒通机械有限公司" in text
    assert "2026 年度经销协议" in text
    assert "99,999" not in text
    assert "99999" not in text
    empty = client_for(numbers.pc_admin).get("/portal/")
    assert "2026 年度经销协议" not in empty.content.decode()


def test_the_company_page_is_read_only_and_own(channel_org, client_for):
    page = client_for(channel_org.pa_user).get("/portal/company/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "QD000001" in text
    assert "<form" not in text.split("crm-portal-content")[1].split("</main>")[0]
    assert client_for(channel_org.mgr_a).get("/portal/company/").status_code == 404


# A partner admin's users


def member(user):
    return PartnerUser.objects.get(user=user)


def test_a_partner_admin_manages_its_own_users(channel_org, client_for):
    client = client_for(channel_org.pa_admin)
    page = client.get("/portal/users/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "pa_user" in text
    assert "pc_admin" not in text
    created = client.post(
        "/portal/users/new/",
        {"username": "pa_clerk", "name": "文员", "password": "Hengtong#2026x"},
    )
    assert created.status_code == 302
    clerk = PartnerUser.objects.get(user__username="pa_clerk")
    assert clerk.partner == channel_org.partner_a
    assert not clerk.is_admin
    assert clerk.user.department_id is None
    assert not clerk.user.groups.exists()
    assert not clerk.user.user_permissions.exists()
    assert client.post(f"/portal/users/{clerk.pk}/admin/").status_code == 302
    clerk.refresh_from_db()
    assert clerk.is_admin
    reset = client.post(
        f"/portal/users/{clerk.pk}/password/", {"password": "Neues#Passwort9"}
    )
    assert reset.status_code == 302
    clerk.user.refresh_from_db()
    assert clerk.user.check_password("Neues#Passwort9")
    assert client.post(f"/portal/users/{clerk.pk}/deactivate/").status_code == 302
    clerk.user.refresh_from_db()
    assert not clerk.user.is_active
    assert client.post(f"/portal/users/{clerk.pk}/activate/").status_code == 302
    clerk.user.refresh_from_db()
    assert clerk.user.is_active


def test_another_partners_users_are_not_found(channel_org, client_for):
    client = client_for(channel_org.pa_admin)
    pc = member(channel_org.pc_admin)
    for path in ("deactivate", "activate", "admin", "password"):
        assert client.post(f"/portal/users/{pc.pk}/{path}/").status_code == 404
    assert client.get(f"/portal/users/{pc.pk}/password/").status_code == 404
    channel_org.pc_admin.refresh_from_db()
    assert channel_org.pc_admin.is_active


def test_an_admin_cannot_deactivate_or_demote_themselves(channel_org, client_for):
    me = member(channel_org.pa_admin)
    with translation.override("en"), pytest.raises(Invalid) as exc:
        services.partner_user_deactivate(actor=channel_org.pa_admin, member=me)
    assert exc.value.message == "You cannot deactivate yourself."
    with pytest.raises(Invalid):
        services.partner_user_set_admin(
            actor=channel_org.pa_admin, member=me, is_admin=False
        )
    client_for(channel_org.pa_admin).post(f"/portal/users/{me.pk}/deactivate/")
    channel_org.pa_admin.refresh_from_db()
    assert channel_org.pa_admin.is_active


def test_plain_partner_users_and_hq_cannot_manage_portal_users(channel_org, client_for):
    assert client_for(channel_org.pa_user).get("/portal/users/").status_code == 404
    assert client_for(channel_org.mgr_a).get("/portal/users/").status_code == 404
    with pytest.raises(Forbidden):
        services.partner_user_create(
            actor=channel_org.pa_user,
            partner=channel_org.partner_a,
            data={"username": "x", "password": "Hengtong#2026x"},
        )
    with pytest.raises(NotFound):
        services.partner_user_create(
            actor=channel_org.pa_admin,
            partner=channel_org.partner_c,
            data={"username": "x", "password": "Hengtong#2026x"},
        )


def test_a_taken_username_is_refused(channel_org, client_for):
    response = client_for(channel_org.pa_admin).post(
        "/portal/users/new/", {"username": "PC_ADMIN", "password": "Hengtong#2026x"}
    )
    assert response.status_code == 400


# Portal API


def api(user):
    token = Token.objects.create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_me(channel_org):
    body = api(channel_org.pa_user).get("/api/v1/portal/me/").json()
    assert body["username"] == "pa_user"
    assert body["is_partner_admin"] is False
    assert body["partner"]["number"] == "QD000001"
    assert api(channel_org.mgr_a).get("/api/v1/portal/me/").status_code == 403


def test_users_api_for_partner_admins(channel_org):
    client = api(channel_org.pa_admin)
    rows = client.get("/api/v1/portal/users/").json()
    assert {r["username"] for r in rows} == {"pa_admin", "pa_user"}
    created = client.post(
        "/api/v1/portal/users/",
        {"username": "pa_api2", "password": "Hengtong#2026x", "is_admin": True},
        content_type="application/json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    demoted = client.post(
        f"/api/v1/portal/users/{pk}/set-admin/",
        {"is_admin": False},
        content_type="application/json",
    )
    assert demoted.json()["is_admin"] is False
    assert (
        client.post(f"/api/v1/portal/users/{pk}/deactivate/").json()["is_active"]
        is False
    )
    me = member(channel_org.pa_admin).pk
    assert client.post(f"/api/v1/portal/users/{me}/deactivate/").status_code == 400
    pc = member(channel_org.pc_admin).pk
    assert client.get(f"/api/v1/portal/users/{pc}/").status_code == 404
    assert client.post(f"/api/v1/portal/users/{pc}/deactivate/").status_code == 404
    assert (
        client.post(
            f"/api/v1/portal/users/{pc}/reset-password/",
            {"password": "Hengtong#2026x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert api(channel_org.pa_user).get("/api/v1/portal/users/").status_code == 403
    assert api(channel_org.mgr_a).get("/api/v1/portal/users/").status_code == 403
