"""D5 pages: the portal's report form, list, detail, end customers and API keys; the HQ
report list, lines with totals, exports and detail inside the viewer's scope."""

import csv
import io
from decimal import Decimal

from crm.channels.models import ApiKey, SellThroughReport
from crm.channels.services.sellthrough import api_key_create
from crm.core.scopes import DataScope
from crm.org.tests.factories import make_role

pytest_plugins = ["crm.channels.tests.sellthrough_fixtures"]
NEW = "/portal/sell-through/new/"


def form_data(st, reference, rows):
    data = {
        "reference": reference,
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "200",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    return data


def row(st, **values):
    data = {
        "sold_on": st.yesterday.isoformat(),
        "product": st.catalogue.p1.pk,
        "quantity": "2",
        "amount": "180000",
        "end_customer_name": "杭州西湖建设工程有限公司",
        "region": st.hangzhou.pk,
    }
    data.update(values)
    return data


# Portal


def test_the_form_proposes_a_report_id_and_stores_the_report(st, client_for):
    client = client_for(st.pa_user)
    page = client.get(NEW).content.decode()
    proposed = f"{st.partner_a.number}-{st.today:%Y%m%d}-001"
    assert f'value="{proposed}"' in page

    empty = {"sold_on": "", "product": "", "quantity": "", "amount": ""}
    empty |= {"end_customer_name": "", "region": ""}
    response = client.post(
        NEW,
        form_data(
            st,
            proposed,
            [row(st), row(st, quantity="1", amount="90000"), empty],
        ),
    )

    report = SellThroughReport.objects.get()
    assert response.status_code == 302
    assert response.url == f"/portal/sell-through/{report.pk}/"
    assert report.reference == proposed
    assert report.source == SellThroughReport.Source.PORTAL
    assert report.total_quantity == Decimal("3")
    detail = client.get(response.url).content.decode()
    assert "杭州西湖建设工程有限公司" in detail
    assert "270,000.00" in detail


def test_a_bad_line_is_shown_on_its_row_and_nothing_is_stored(st, client_for, english):
    client = client_for(st.pa_user)

    response = client.post(NEW, form_data(st, "F-1", [row(st), row(st, quantity="0")]))

    assert response.status_code == 400
    formset = response.context["formset"]
    assert formset.forms[0].errors == {}
    assert formset.forms[1].errors["quantity"] == [
        "Line 2: the quantity must be greater than 0."
    ]
    assert SellThroughReport.objects.count() == 0


def test_the_form_resubmitted_is_not_counted_twice_and_changed_is_409(
    st, client_for, english
):
    client = client_for(st.pa_user)
    client.post(NEW, form_data(st, "F-2", [row(st)]))

    again = client.post(NEW, form_data(st, "F-2", [row(st)]), follow=True)
    changed = client.post(NEW, form_data(st, "F-2", [row(st, quantity="7")]))

    assert "nothing was counted twice" in again.content.decode()
    assert changed.status_code == 409
    assert "F-2 was already submitted" in changed.content.decode()
    assert SellThroughReport.objects.get().total_quantity == Decimal("2")


def test_the_portal_list_and_detail_are_the_partners_own(st, client_for):
    own = st.submit("OWN-1")
    other = st.submit("OTHER-1", actor=st.pc_admin, partner=st.partner_c)
    client = client_for(st.pa_user)

    page = client.get("/portal/sell-through/").content.decode()

    assert "OWN-1" in page
    assert "OTHER-1" not in page
    assert client.get(f"/portal/sell-through/{own.pk}/").status_code == 200
    assert client.get(f"/portal/sell-through/{other.pk}/").status_code == 404
    assert client_for(st.mgr_a).get("/portal/sell-through/").status_code == 404


def test_the_customers_page_lists_the_partners_end_customers_with_totals(
    st, client_for
):
    st.submit(
        "EC-1",
        [
            st.line(end_customer_name="杭州西湖建设工程有限公司", amount="100"),
            st.line(end_customer_name="杭州西湖建设工程有限公司", amount="50"),
            st.line(end_customer_name="滨江物流有限公司", amount="30", quantity="1"),
        ],
    )
    st.submit(
        "EC-C",
        [st.line(end_customer_name="广州天河某客户有限公司")],
        actor=st.pc_admin,
        partner=st.partner_c,
    )

    response = client_for(st.pa_user).get("/portal/customers/")

    rows = {
        r["end_customer__name"]: (r["lines"], r["quantity"], r["amount"])
        for r in response.context["page"]
    }
    assert rows == {
        "杭州西湖建设工程有限公司": (2, Decimal("4"), Decimal("150")),
        "滨江物流有限公司": (1, Decimal("1"), Decimal("30")),
    }
    assert "广州天河某客户有限公司" not in response.content.decode()


def test_partner_admins_create_list_and_revoke_keys_in_the_portal(st, client_for):
    client = client_for(st.pa_admin)

    response = client.post("/portal/api-keys/", {"name": "金蝶 ERP"})

    key = ApiKey.objects.get()
    raw = response.context["raw_key"]
    assert raw.startswith(key.prefix + ".")
    assert raw in response.content.decode()
    listed = client.get("/portal/api-keys/").content.decode()
    assert raw not in listed  # shown once
    assert key.prefix in listed
    client.post(f"/portal/api-keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_api_key_pages_are_for_the_partners_admins_only(st, client_for):
    other, _raw = api_key_create(actor=st.pc_admin, partner=st.partner_c, name="C")

    assert client_for(st.pa_user).get("/portal/api-keys/").status_code == 404
    admin = client_for(st.pa_admin)
    assert admin.post(f"/portal/api-keys/{other.pk}/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


# HQ


def test_the_hq_list_shows_reports_in_the_managers_scope(st, client_for):
    st.submit("A-REPORT")
    st.submit("C-REPORT", actor=st.pc_admin, partner=st.partner_c)
    client = client_for(st.mgr_a)

    page = client.get("/channels/sell-through/").content.decode()
    filtered = client.get(
        "/channels/sell-through/", {"partner": st.partner_c.pk}
    ).content.decode()

    assert "A-REPORT" in page
    assert "C-REPORT" not in page
    assert "C-REPORT" not in filtered
    head = client_for(st.manager).get("/channels/sell-through/").content.decode()
    assert "A-REPORT" in head


def test_the_hq_list_filters_by_partner_and_source(st, client_for):
    st.submit("A-REPORT")
    st.submit("A2-REPORT", actor=st.mgr_a, partner=st.partner_a2, source="hq")
    client = client_for(st.mgr_a)

    by_partner = client.get("/channels/sell-through/", {"partner": st.partner_a2.pk})
    by_source = client.get("/channels/sell-through/", {"source": "portal"})

    assert [r["obj"].reference for r in by_partner.context["rows"]] == ["A2-REPORT"]
    assert [r["obj"].reference for r in by_source.context["rows"]] == ["A-REPORT"]


def test_the_hq_detail_is_404_outside_the_scope(st, client_for):
    own = st.submit("A-REPORT")
    other = st.submit("C-REPORT", actor=st.pc_admin, partner=st.partner_c)
    client = client_for(st.mgr_a)

    detail = client.get(f"/channels/sell-through/{own.pk}/")
    assert detail.status_code == 200
    assert "杭州西湖建设工程有限公司" in detail.content.decode()
    assert client.get(f"/channels/sell-through/{other.pk}/").status_code == 404


def test_the_lines_page_totals_what_the_filters_select(st, client_for):
    st.submit(
        "A-1",
        [
            st.line(quantity="2", amount="100"),
            st.line(product=st.catalogue.p3.pk, quantity="10", amount="60"),
            st.line(quantity="1", amount="40", region=st.tianhe.pk),
        ],
    )
    st.submit("C-1", actor=st.pc_admin, partner=st.partner_c)
    client = client_for(st.mgr_a)

    everything = client.get("/channels/sell-through/lines/")
    p1 = client.get("/channels/sell-through/lines/", {"product": st.catalogue.p1.pk})
    zhejiang = client.get("/channels/sell-through/lines/", {"region": st.zhejiang.pk})

    totals = everything.wsgi_request.sellthrough_totals
    assert totals == {"quantity": Decimal("13"), "amount": Decimal("200"), "lines": 3}
    assert p1.wsgi_request.sellthrough_totals["amount"] == Decimal("140")
    assert zhejiang.wsgi_request.sellthrough_totals["quantity"] == Decimal("12")
    assert 'id="total-amount"' in everything.content.decode()


def test_exports_hold_only_the_scope(st, client_for):
    st.submit("A-REPORT")
    st.submit("C-REPORT", actor=st.pc_admin, partner=st.partner_c)
    exporter = make_role("渠道导出", "core.export_data", scope=DataScope.OWN)
    st.mgr_a.groups.add(exporter)
    client = client_for(st.mgr_a)

    reports = client.get(
        "/export/channels.sellthroughreport/", {"format": "csv"}
    ).content.decode("utf-8-sig")
    lines = client.get(
        "/export/channels.sellthroughline/", {"format": "csv"}
    ).content.decode("utf-8-sig")

    report_rows = list(csv.reader(io.StringIO(reports)))
    line_rows = list(csv.reader(io.StringIO(lines)))
    assert [r[0] for r in report_rows[1:]] == ["A-REPORT"]
    assert len(line_rows) == 2
    assert "C-REPORT" not in lines


def test_partner_users_never_reach_the_hq_pages(st, client_for):
    client = client_for(st.pa_admin)
    assert client.get("/channels/sell-through/").status_code == 404
    assert client.get("/channels/sell-through/lines/").status_code == 404


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_cost_the_same_queries_whatever_the_rows(st, client_for):
    hq, portal = client_for(st.mgr_a), client_for(st.pa_user)
    urls = ("/channels/sell-through/", "/channels/sell-through/lines/")
    st.submit("Q-1")
    before = [_queries(hq, url) for url in urls]
    before.append(_queries(portal, "/portal/sell-through/"))
    before.append(_queries(portal, "/portal/customers/"))
    for n in range(2, 7):
        st.submit(
            f"Q-{n}",
            [
                st.line(end_customer_name=f"查询计数客户{n}有限公司"),
                st.line(region=st.tianhe.pk, quantity="1"),
            ],
        )

    after = [_queries(hq, url) for url in urls]
    after.append(_queries(portal, "/portal/sell-through/"))
    after.append(_queries(portal, "/portal/customers/"))

    assert after == before
