"""S1 lead pages: the list (scope, search, filters, export, import button), the detail
page (404 outside the scope, history, follow-ups recorded there), create and edit."""

import io

import pytest
from openpyxl import load_workbook

from crm.core.tests import pages
from crm.sales.models import Lead, LeadFollowUp
from crm.sales.tests.leads_fixtures import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("english")


def test_the_list_shows_only_the_reps_own_leads(sales_org, make_lead, client_for):
    make_lead(sales_org.rep_a, name="甲的线索", number="XS-A1")
    make_lead(sales_org.rep_b, name="乙的线索", number="XS-B1")
    page = client_for(sales_org.rep_b).get("/sales/leads/")
    assert page.status_code == 200
    text = pages.text(page)
    assert "乙的线索" in text
    assert "甲的线索" not in text
    assert pages.record_count(page) == "1 record"
    # Search and filters.
    rep_a = client_for(sales_org.rep_a)
    assert "甲的线索" in pages.text(rep_a.get("/sales/leads/", {"q": "XS-A1"}))
    assert "甲的线索" not in pages.text(
        rep_a.get("/sales/leads/", {"status": "qualified"})
    )


def test_the_export_keeps_to_the_scope(sales_org, lead_manager, make_lead, client_for):
    make_lead(sales_org.rep_a, name="华东线索")
    make_lead(sales_org.rep_c, name="华南线索")
    response = client_for(lead_manager).get("/export/sales.lead/", {"format": "xlsx"})
    assert response.status_code == 200, response.content[:300]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    names = [r[1] for r in rows[1:]]
    assert names == ["华东线索"]


def test_another_reps_lead_is_not_found(sales_org, make_lead, client_for):
    lead = make_lead(sales_org.rep_a)
    rep_b = client_for(sales_org.rep_b)
    for url in (
        f"/sales/leads/{lead.pk}/",
        f"/sales/leads/{lead.pk}/edit/",
        f"/sales/leads/{lead.pk}/convert/",
    ):
        assert rep_b.get(url).status_code == 404, url
    response = rep_b.post(f"/sales/leads/{lead.pk}/follow-ups/", {"content": "x"})
    assert response.status_code == 404
    assert not LeadFollowUp.objects.exists()


def test_create_edit_and_history(sales_org, client_for):
    client = client_for(sales_org.rep_a)
    assert client.get("/sales/leads/new/").status_code == 200
    response = client.post(
        "/sales/leads/new/",
        {
            "name": "赵六",
            "company": "苏州某某",
            "mobile": "13600001234",
            "source": "partner",
        },
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.owner, lead.source) == (sales_org.rep_a, "partner")
    bad = client.post("/sales/leads/new/", {"name": "x", "mobile": "12"})
    assert bad.status_code == 400
    response = client.post(
        f"/sales/leads/{lead.pk}/edit/",
        {
            "name": "赵六",
            "company": "苏州新公司",
            "source": "partner",
            "status": "qualified",
            "version": 1,
        },
    )
    assert response.status_code == 302
    page = client.get(f"/sales/leads/{lead.pk}/")
    assert page.status_code == 200
    history = pages.section(page, 'id="tab-history"')
    assert "苏州新公司" in history
    assert "Qualified" in pages.text(page)


def test_follow_ups_are_recorded_on_the_lead_page(sales_org, make_lead, client_for):
    lead = make_lead(sales_org.rep_a)
    client = client_for(sales_org.rep_a)
    url = f"/sales/leads/{lead.pk}/follow-ups/"
    bad = client.post(url, {"kind": "call", "content": ""})
    assert bad.status_code == 400
    assert "This field is required." in pages.section(bad, 'id="follow-up-form"')
    response = client.post(
        url,
        {
            "kind": "visit",
            "content": "上门拜访，客户有意向",
            "next_follow_up_on": "2099-01-02",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/sales/leads/{lead.pk}/")
    follow_ups = pages.section(page, 'id="tab-follow-ups"')
    assert "上门拜访，客户有意向" in follow_ups
    assert "Visit" in follow_ups
    lead.refresh_from_db()
    assert (lead.status, str(lead.next_follow_up_on)) == ("contacted", "2099-01-02")


def test_a_converted_lead_offers_no_edit(sales_org, make_lead, client_for, customer):
    lead = make_lead(sales_org.rep_a, status=Lead.Status.CONVERTED, customer=customer)
    client = client_for(sales_org.rep_a)
    page = client.get(f"/sales/leads/{lead.pk}/")
    html = page.content.decode()
    assert f"/sales/leads/{lead.pk}/edit/" not in html
    assert f"/sales/leads/{lead.pk}/convert/" not in html
    assert 'id="follow-up-form"' not in html
    assert "A converted lead is read-only." in pages.text(page)
    assert f"/customers/{customer.pk}/" in html
    # Typed URLs are refused too.
    response = client.post(f"/sales/leads/{lead.pk}/edit/", {"name": "x", "version": 1})
    assert response.status_code == 302  # back with the message
    lead.refresh_from_db()
    assert lead.name != "x"


def test_the_list_offers_import_and_rules_to_those_allowed(
    sales_org, lead_manager, client_for
):
    rep_page = client_for(sales_org.rep_a).get("/sales/leads/").content.decode()
    assert "/import/sales.lead/" in rep_page
    assert "/sales/leads/rules/" not in rep_page
    manager_page = client_for(lead_manager).get("/sales/leads/").content.decode()
    assert "/sales/leads/rules/" in manager_page


def test_a_list_page_costs_the_same_queries_whatever_its_size(
    sales_org, lead_manager, make_lead, client_for
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(lead_manager)
    make_lead(sales_org.rep_a)
    client.get("/sales/leads/")  # warm caches (parameters, permissions)
    with CaptureQueriesContext(connection) as few:
        client.get("/sales/leads/")
    for _ in range(20):
        make_lead(sales_org.rep_b)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/sales/leads/")
    assert pages.record_count(response) == "21 records"
    assert len(many) == len(few)
