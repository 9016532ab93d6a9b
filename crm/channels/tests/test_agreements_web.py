"""D2 HQ pages: the agreement list (search, partner/status/expiry filters, sort, export,
scope), the detail page, the draft form, rule editing and the status actions."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.channels.models import Agreement
from crm.channels.tests.agreements_fixtures import make_agreement
from crm.core.audit import audit_record
from crm.org.tests.factories import make_role

D = datetime.date
S = Agreement.Status


@pytest.fixture
def agreements(channel_org):
    org = channel_org
    exporter = make_role("导出", "core.export_data")
    for user in (org.mgr_a, org.mgr_c):
        user.groups.add(exporter)
    today = timezone.localdate()
    return {
        "a": make_agreement(
            org.partner_a,
            number="XY000011",
            title="恒通 2026 经销协议",
            starts_on=today - datetime.timedelta(days=300),
            ends_on=today + datetime.timedelta(days=20),
        ),
        "a2": make_agreement(
            org.partner_a2,
            number="XY000012",
            title="力拓 2026 经销协议",
            starts_on=today - datetime.timedelta(days=100),
            ends_on=today + datetime.timedelta(days=200),
        ),
        "draft": make_agreement(
            org.partner_a,
            number="XY000013",
            title="恒通 2027 经销协议",
            status=S.DRAFT,
            starts_on=today + datetime.timedelta(days=21),
            ends_on=today + datetime.timedelta(days=385),
        ),
        "c": make_agreement(
            org.partner_c, number="XY000014", title="粤达 2026 经销协议"
        ),
    }


def english(client):
    """The language switch's cookie: the pages in English."""
    client.cookies["django_language"] = "en"
    return client


def numbers(response) -> set[str]:
    text = response.content.decode()
    return {n for n in ("XY000011", "XY000012", "XY000013", "XY000014") if n in text}


def test_list_holds_only_the_scope(agreements, channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    response = client.get("/channels/agreements/")
    assert response.status_code == 200
    assert numbers(response) == {"XY000011", "XY000012", "XY000013"}
    assert numbers(client_for(channel_org.mgr_c).get("/channels/agreements/")) == {
        "XY000014"
    }
    # Another partner's agreement by id: not found.
    assert client.get(f"/channels/agreements/{agreements['c'].pk}/").status_code == 404


def test_list_filters_search_and_sort(agreements, channel_org, client_for):
    client = client_for(channel_org.mgr_a)
    org = channel_org
    # The partner page links here with ?partner=<id>.
    by_partner = client.get(f"/channels/agreements/?partner={org.partner_a.pk}")
    assert numbers(by_partner) == {"XY000011", "XY000013"}
    assert numbers(client.get("/channels/agreements/?status=draft")) == {"XY000013"}
    # Active and ending within 30 days: only XY000011 (20 days left).
    assert numbers(client.get("/channels/agreements/?expiring_within=30")) == {
        "XY000011"
    }
    assert numbers(client.get("/channels/agreements/?expiring_within=365")) == {
        "XY000011",
        "XY000012",
    }
    assert numbers(client.get("/channels/agreements/?q=力拓")) == {"XY000012"}
    assert numbers(client.get("/channels/agreements/?q=XY000013")) == {"XY000013"}
    # Someone else's partner as a filter finds nothing of theirs.
    assert (
        numbers(client.get(f"/channels/agreements/?partner={org.partner_c.pk}"))
        == set()
    )
    text = client.get("/channels/agreements/?sort=ends_on").content.decode()
    assert text.index("XY000011") < text.index("XY000012") < text.index("XY000013")
    text = client.get("/channels/agreements/?sort=-ends_on").content.decode()
    assert text.index("XY000013") < text.index("XY000012") < text.index("XY000011")


def test_export_holds_only_the_scope(agreements, channel_org, client_for):
    response = client_for(channel_org.mgr_a).get(
        "/export/channels.agreement/?format=csv"
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "XY000011" in text
    assert "XY000012" in text
    assert "XY000014" not in text
    assert "杭州恒通机械有限公司" in text


def test_detail_shows_rules_scope_links_and_history(
    agreements, channel_org, client_for
):
    org = channel_org
    old = agreements["a"]
    old.rules.create(kind="rebate", threshold_percent=100, percent=Decimal("2.5"))
    old.rules.create(kind="penalty", threshold_percent=60, amount=Decimal("20000"))
    old.territory.set(["330100"])
    old.categories.set([org.catalogue.excavators])
    renewal = make_agreement(
        org.partner_a, number="XY000020", status=S.DRAFT, previous=old
    )
    audit_record(actor=org.mgr_a, obj=old, action="activate", note="签约生效")
    client = client_for(org.mgr_a)
    text = client.get(f"/channels/agreements/{old.pk}/").content.decode()
    for marker in (
        'id="rebate-table"',
        'id="penalty-table"',
        "2.5%",
        "20,000.00",
        'id="territory-list"',
        "杭州",
        "挖掘机",
        'id="renewal-link"',
        "XY000020",
        'id="history-tab"',
        "签约生效",
        'id="terminate-form"',
    ):
        assert marker in text, marker
    assert 'id="agreement-renew"' not in text  # renewed already
    assert 'id="rule-add-form"' not in text  # in force: rules are as signed
    text = client.get(f"/channels/agreements/{renewal.pk}/").content.decode()
    assert 'id="previous-link"' in text
    assert 'id="agreement-activate"' in text
    assert 'id="rule-add-form"' in text


def test_create_and_edit_a_draft_with_a_stale_version(channel_org, client_for):
    org = channel_org
    client = client_for(org.mgr_a)
    form = client.get(f"/channels/agreements/new/?partner={org.partner_a.pk}")
    assert form.status_code == 200
    response = client.post(
        "/channels/agreements/new/",
        {
            "partner": org.partner_a.pk,
            "title": "恒通 2026 经销协议",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "discount_percent": "8",
            "annual_target": "5000000",
            "territory": ["330100", "330200"],
            "categories": [org.catalogue.excavators.pk],
        },
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.number == "XY000001"
    assert response["Location"] == f"/channels/agreements/{agreement.pk}/"
    assert sorted(agreement.territory.values_list("code", flat=True)) == [
        "330100",
        "330200",
    ]
    data = {
        "partner": org.partner_a.pk,
        "title": "恒通 2026 经销协议（修订）",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "discount_percent": "8",
        "annual_target": "5000000",
        "version": 1,
    }
    assert (
        client.post(f"/channels/agreements/{agreement.pk}/edit/", data).status_code
        == 302
    )
    # The same form sent again carries version 1: refused, nothing changed.
    data["title"] = "lost"
    stale = client.post(f"/channels/agreements/{agreement.pk}/edit/", data)
    assert stale.status_code == 409
    agreement.refresh_from_db()
    assert agreement.title == "恒通 2026 经销协议（修订）"
    assert agreement.version == 2
    # Bad dates: the field is named.
    bad = english(client).post(
        "/channels/agreements/new/",
        {**data, "starts_on": "2026-06-01", "ends_on": "2026-05-01"},
    )
    assert bad.status_code == 400
    assert "The end date is before the start date." in bad.content.decode()


def test_rules_activation_renewal_and_termination_by_page(
    agreements, channel_org, client_for
):
    org = channel_org
    client = client_for(org.mgr_a)
    draft = agreements["draft"]
    url = f"/channels/agreements/{draft.pk}"
    client.post(
        f"{url}/rules/",
        {"kind": "rebate", "threshold_percent": "100", "percent": "2"},
    )
    client.post(
        f"{url}/rules/",
        {"kind": "penalty", "threshold_percent": "60", "amount": "10000"},
    )
    clash = english(client).post(
        f"{url}/rules/",
        {"kind": "rebate", "threshold_percent": "100", "percent": "3"},
        follow=True,
    )
    assert "already has a rebate at 100%" in clash.content.decode()
    rebate = draft.rules.get(kind="rebate")
    client.post(
        f"{url}/rules/{rebate.pk}/",
        {"kind": "rebate", "threshold_percent": "100", "percent": "2.5"},
    )
    rebate.refresh_from_db()
    assert rebate.percent == Decimal("2.5")
    penalty = draft.rules.get(kind="penalty")
    client.post(f"{url}/rules/{penalty.pk}/delete/")
    assert list(draft.rules.values_list("kind", flat=True)) == ["rebate"]

    # Activation: it starts the day after XY000011 ends, so it does not overlap.
    assert client.post(f"{url}/activate/").status_code == 302
    draft.refresh_from_db()
    assert draft.status == S.ACTIVE

    renew = client.post(f"{url}/renew/")
    renewal = Agreement.objects.get(previous=draft)
    assert renew["Location"] == f"/channels/agreements/{renewal.pk}/"
    assert renewal.rules.get().percent == Decimal("2.5")

    client.post(f"{url}/terminate/", {"text": "合作终止"})
    draft.refresh_from_db()
    assert draft.status == S.TERMINATED
    assert draft.termination_reason == "合作终止"
    # Another partner's agreement cannot be acted on.
    theirs = agreements["c"]
    assert client.post(f"/channels/agreements/{theirs.pk}/renew/").status_code == 404


def test_overlap_refusal_is_shown_on_the_page(agreements, channel_org, client_for):
    org = channel_org
    overlapping = make_agreement(org.partner_a, status=S.DRAFT, number="XY000030")
    client = client_for(org.mgr_a)
    page = english(client).post(
        f"/channels/agreements/{overlapping.pk}/activate/",
        follow=True,
    )
    assert "Agreement XY000011" in page.content.decode()
    overlapping.refresh_from_db()
    assert overlapping.status == S.DRAFT
