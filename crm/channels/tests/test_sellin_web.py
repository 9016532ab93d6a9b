"""D4 sell-in pages and APIs: the portal order form with line rows, HQ approval and
receipts through the pages, the APIs, and isolation — a partner user against another
partner's order ids gets 404 everywhere; a channel manager does not see another
manager's partners' orders in the list, detail, API or export."""

from decimal import Decimal

from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from crm.channels.models import PurchaseOrder, ReceiptLine

pytest_plugins = ["crm.channels.tests.sellin_fixtures"]

S = PurchaseOrder.Status
D = Decimal


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def formset_data(rows, **header):
    data = {
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "200",
        **header,
    }
    for i, (product, quantity) in enumerate(rows):
        data[f"lines-{i}-product"] = str(product.pk)
        data[f"lines-{i}-quantity"] = str(quantity)
    return data


# Portal pages


def test_portal_form_creates_a_priced_draft(sellin_org, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    client = client_for(org.pa_user)
    page = client.get(reverse("portal:purchaseorder-create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-product-picker" in html
    assert "po-line-template" in html
    assert "FL-01" not in html  # outside the agreement's product scope: not offered
    response = client.post(
        reverse("portal:purchaseorder-create"),
        formset_data([(cat.p1, 2), (cat.p2, 1)], shipping_address="杭州"),
    )
    order = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "portal:purchaseorder-detail", args=[order.pk]
    )
    assert order.total == D("360000")  # 2 × 81 000 + 198 000
    assert order.partner == org.partner_a
    detail = client.get(response["Location"]).content.decode()
    assert order.number in detail
    assert "162,000.00" in detail


def test_portal_form_refuses_a_product_outside_the_scope(sellin_org, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    org.agreement.categories.set([cat.excavators])
    response = client_for(org.pa_user).post(
        reverse("portal:purchaseorder-create"), formset_data([(cat.p3, 1)])
    )
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    assert not PurchaseOrder.objects.exists()


def test_portal_edit_with_a_stale_version_is_refused(sellin_org, make_po, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)])
    client = client_for(org.pa_user)
    url = reverse("portal:purchaseorder-edit", args=[order.pk])
    assert client.get(url).status_code == 200
    data = formset_data([(cat.p1, 2)], version=str(order.version))
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 409  # the version read is stale now
    order.refresh_from_db()
    assert order.total == D("162000")


def test_portal_submit_cancel_and_receive(sellin_org, make_po, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    client = client_for(org.pa_user)
    order = make_po(org, org.pa_user, [(cat.p1, 3)])
    client.post(reverse("portal:purchaseorder-submit", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == S.SUBMITTED
    other = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    client.post(reverse("portal:purchaseorder-cancel", args=[other.pk]))
    other.refresh_from_db()
    assert other.status == S.CANCELLED
    hq = client_for(org.mgr_a)
    hq.post(
        reverse("channels:purchaseorder-approve", args=[order.pk]), {"note": "同意"}
    )
    order.refresh_from_db()
    assert order.status == S.APPROVED
    line = order.lines.get()
    receive = reverse("portal:purchaseorder-receive", args=[order.pk])
    client.post(receive, {f"quantity_{line.pk}": "5"})  # only 3 open: refused
    assert not ReceiptLine.objects.exists()
    client.post(receive, {f"quantity_{line.pk}": "3"})
    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert ReceiptLine.objects.get().amount == D("243000")


def test_portal_list_shows_only_the_partners_orders(sellin_org, make_po, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    mine = make_po(org, org.pa_user, [(cat.p1, 1)])
    theirs = make_po(org, org.pc_admin, [(cat.p1, 1)])
    html = client_for(org.pa_user).get(reverse("portal:purchaseorder-list")).content
    assert mine.number.encode() in html
    assert theirs.number.encode() not in html


# HQ pages


def test_hq_detail_shows_the_credit_check_and_approves_with_override(
    sellin_org, make_po, client_for
):
    org, cat = sellin_org, sellin_org.catalogue
    org.partner_a.credit_limit = D("100000")
    org.partner_a.save()
    order = make_po(org, org.pa_user, [(cat.p2, 1)], to="submitted")  # 198 000
    client = client_for(org.manager)
    page = client.get(reverse("channels:purchaseorder-detail", args=[order.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "credit-check" in html
    assert "198,000.00" in html
    assert 'name="override_reason"' in html
    url = reverse("channels:purchaseorder-approve", args=[order.pk])
    client.post(url, {"note": ""})
    order.refresh_from_db()
    assert order.status == S.SUBMITTED  # over the limit, no reason
    client.post(url, {"override_reason": "战略客户"})
    order.refresh_from_db()
    assert order.status == S.APPROVED
    assert "战略客户" in order.decision_note


def test_hq_reject_and_receive_pages(sellin_org, make_po, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    client = client_for(org.mgr_a)
    rejected = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    client.post(
        reverse("channels:purchaseorder-reject", args=[rejected.pk]), {"note": "停产"}
    )
    rejected.refresh_from_db()
    assert (rejected.status, rejected.decision_note) == (S.REJECTED, "停产")
    approved = make_po(org, org.pa_user, [(cat.p1, 2)], to="approved")
    line = approved.lines.get()
    client.post(
        reverse("channels:purchaseorder-receive", args=[approved.pk]),
        {f"quantity_{line.pk}": "1"},
    )
    line.refresh_from_db()
    assert line.received_quantity == D("1")


def test_hq_list_filters_and_export_stay_in_scope(sellin_org, make_po, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    a = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    a_draft = make_po(org, org.pa_user, [(cat.p1, 2)])
    c = make_po(org, org.pc_admin, [(cat.p1, 1)], to="submitted")
    client = client_for(org.mgr_a)
    url = reverse("channels:purchaseorder-list")
    html = client.get(url).content.decode()
    assert a.number in html
    assert a_draft.number in html
    assert c.number not in html
    assert "广州粤达机械设备有限公司" not in html  # not even in the partner filter
    filtered = client.get(url, {"status": "submitted"}).content.decode()
    assert a.number in filtered
    assert a_draft.number not in filtered
    by_partner = client.get(url, {"partner": org.partner_c.pk}).content.decode()
    assert c.number not in by_partner
    searched = client.get(url, {"q": "恒通"}).content.decode()
    assert a.number in searched
    export = client.get("/export/channels.purchaseorder/?format=csv")
    text = export.content.decode("utf-8-sig")
    assert a.number in text
    assert c.number not in text
    detail = reverse("channels:purchaseorder-detail", args=[c.pk])
    assert client.get(detail).status_code == 404
    assert client_for(org.mgr_c).get(detail).status_code == 200


def test_hq_approval_out_of_scope_is_404(sellin_org, make_po, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    c = make_po(org, org.pc_admin, [(cat.p1, 1)], to="submitted")
    client = client_for(org.mgr_a)
    for name in ("approve", "reject", "receive"):
        url = reverse(f"channels:purchaseorder-{name}", args=[c.pk])
        assert client.post(url, {"note": "x"}).status_code == 404
    c.refresh_from_db()
    assert c.status == S.SUBMITTED


# Isolation: a partner user against another partner's ids


def test_a_partner_user_gets_404_on_another_partners_order(
    sellin_org, make_po, client_for
):
    org, cat = sellin_org, sellin_org.catalogue
    draft = make_po(org, org.pc_admin, [(cat.p1, 1)])
    approved = make_po(org, org.pc_admin, [(cat.p1, 1)], to="approved")
    client = client_for(org.pa_user)
    for order in (draft, approved):
        for name in ("detail", "edit"):
            url = reverse(f"portal:purchaseorder-{name}", args=[order.pk])
            assert client.get(url).status_code == 404, url
        for name in ("submit", "cancel", "receive", "edit"):
            url = reverse(f"portal:purchaseorder-{name}", args=[order.pk])
            assert client.post(url, {}).status_code == 404, url
    api = api_for(org.pa_user)
    base = "/api/v1/portal/purchase-orders"
    for order in (draft, approved):
        assert api.get(f"{base}/{order.pk}/").status_code == 404
        assert api.post(f"{base}/{order.pk}/submit/").status_code == 404
        line = order.lines.get()
        body = {"lines": [{"line": line.pk, "quantity": "1"}]}
        assert (
            api.post(f"{base}/{order.pk}/receive/", body, format="json").status_code
            == 404
        )
    listed = api.get(f"{base}/").json()
    assert listed["count"] == 0
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    # partner users never reach the HQ pages or API of purchase orders
    assert (
        client.get(
            reverse("channels:purchaseorder-detail", args=[draft.pk])
        ).status_code
        == 404
    )
    assert api.get(f"/api/v1/channels/purchase-orders/{draft.pk}/").status_code in (
        403,
        404,
    )


def test_hq_users_do_not_use_the_portal(sellin_org, make_po, client_for):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)])
    for user in (org.mgr_a, org.admin):
        client = client_for(user)
        assert client.get(reverse("portal:purchaseorder-list")).status_code == 404
        url = reverse("portal:purchaseorder-detail", args=[order.pk])
        assert client.get(url).status_code == 404
        api = api_for(user)
        assert api.get("/api/v1/portal/purchase-orders/").status_code == 403
        assert api.get(f"/api/v1/portal/purchase-orders/{order.pk}/").status_code == 403


# APIs


def test_portal_api_create_submit_and_receive(sellin_org):
    org, cat = sellin_org, sellin_org.catalogue
    api = api_for(org.pa_user)
    created = api.post(
        "/api/v1/portal/purchase-orders/",
        {"lines": [{"product": cat.p1.pk, "quantity": "2"}], "notes": "月度补货"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert D(body["total"]) == D("162000")
    assert D(body["lines"][0]["unit_price"]) == D("81000")
    pk = body["id"]
    with translation.override("en"):
        refused = api.post(
            "/api/v1/portal/purchase-orders/",
            {"lines": [{"product": cat.p3.pk, "quantity": "1"}]},
            format="json",
        )
    assert refused.status_code == 400
    assert "FL-01" in refused.json()["fields"]["lines.0.product"][0]
    submitted = api.post(f"/api/v1/portal/purchase-orders/{pk}/submit/")
    assert submitted.json()["status"] == "submitted"
    assert api.post(f"/api/v1/portal/purchase-orders/{pk}/submit/").status_code == 409
    hq = api_for(org.mgr_a)
    approved = hq.post(f"/api/v1/channels/purchase-orders/{pk}/approve/", {})
    assert approved.status_code == 200
    assert (
        hq.post(f"/api/v1/channels/purchase-orders/{pk}/approve/", {}).status_code
        == 409
    )
    line = approved.json()["lines"][0]["id"]
    over = api.post(
        f"/api/v1/portal/purchase-orders/{pk}/receive/",
        {"lines": [{"line": line, "quantity": "3"}]},
        format="json",
    )
    assert over.status_code == 400
    done = api.post(
        f"/api/v1/portal/purchase-orders/{pk}/receive/",
        {
            "lines": [{"line": line, "quantity": "2"}],
            "received_on": str(approved.json()["ordered_on"]),
        },
        format="json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "received"
    assert D(done.json()["receipts"][0]["lines"][0]["amount"]) == D("162000")


def test_hq_api_list_scope_credit_refusal_and_reject(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    org.partner_a.credit_limit = D("100000")
    org.partner_a.save()
    a = make_po(org, org.pa_user, [(cat.p2, 1)], to="submitted")
    c = make_po(org, org.pc_admin, [(cat.p1, 1)], to="submitted")
    hq = api_for(org.mgr_a)
    numbers = [
        row["number"]
        for row in hq.get("/api/v1/channels/purchase-orders/").json()["results"]
    ]
    assert numbers == [a.number]
    assert hq.get(f"/api/v1/channels/purchase-orders/{c.pk}/").status_code == 404
    assert (
        hq.get(
            "/api/v1/channels/purchase-orders/", {"partner": org.partner_a.pk}
        ).json()["count"]
        == 1
    )
    refused = hq.post(f"/api/v1/channels/purchase-orders/{a.pk}/approve/", {})
    assert refused.status_code == 409
    assert "override_reason" in refused.json()["fields"]
    rejected = hq.post(
        f"/api/v1/channels/purchase-orders/{a.pk}/reject/", {"note": "超信用"}
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "超信用"


def test_list_queries_do_not_grow_with_the_rows(sellin_org, make_po, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    org, cat = sellin_org, sellin_org.catalogue
    make_po(org, org.pa_user, [(cat.p1, 1)])
    hq, portal = client_for(org.mgr_a), client_for(org.pa_user)
    urls = (
        (hq, reverse("channels:purchaseorder-list")),
        (portal, reverse("portal:purchaseorder-list")),
        (hq, "/api/v1/channels/purchase-orders/"),
        (portal, "/api/v1/portal/purchase-orders/"),
    )
    counts = []
    for rows in (1, 5):
        while PurchaseOrder.objects.count() < rows:
            make_po(org, org.pa_user, [(cat.p2, 1)], to="submitted")
        seen = []
        for client, url in urls:
            client.get(url)  # warm the session and caches
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            seen.append(len(queries))
        counts.append(seen)
    assert counts[0] == counts[1]


def test_portal_api_edits_a_draft_with_its_version_and_cancels(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)])
    api = api_for(org.pa_user)
    url = f"/api/v1/portal/purchase-orders/{order.pk}/"
    body = {
        "version": order.version,
        "lines": [{"product": cat.p2.pk, "quantity": "3"}],
        "notes": "改为中型",
    }
    changed = api.patch(url, body, format="json")
    assert changed.status_code == 200, changed.content
    assert D(changed.json()["total"]) == D("594000")  # 3 × 198 000
    assert api.patch(url, body, format="json").status_code == 409  # stale version
    missing = api.patch(url, {"notes": "x"}, format="json")
    assert missing.status_code == 400
    cancelled = api.post(f"{url}cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert api.post(f"{url}cancel/").status_code == 409
    other = make_po(org, org.pc_admin, [(cat.p1, 1)])
    other_url = f"/api/v1/portal/purchase-orders/{other.pk}/"
    patch = {"version": other.version, "notes": "x"}
    assert api.patch(other_url, patch, format="json").status_code == 404
    assert api.post(f"{other_url}cancel/").status_code == 404
    other.refresh_from_db()
    assert (other.status, other.notes) == (S.DRAFT, "")
