"""D4 sell-in rules: pricing by the agreement, product scope, drafts and versions,
submission, approval with the credit check (and its override), goods received and
the sell-in selectors. Expected numbers are worked out by hand in each test."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from crm.channels.models import PurchaseOrder, Receipt, ReceiptLine
from crm.channels.selectors.sellin import (
    open_exposure,
    sell_in_amount,
    sell_in_received,
)
from crm.channels.services import sellin as services
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent, Notification

pytest_plugins = ["crm.channels.tests.sellin_fixtures"]


def lines(*pairs):
    return [{"product": p, "quantity": Decimal(str(q))} for p, q in pairs]


S = PurchaseOrder.Status
D = Decimal


# Creation and prices


def test_prices_follow_the_agreement_discount_and_owner_is_the_channel_manager(
    sellin_org, make_po
):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 2), (cat.p2, 1)])
    got = [
        (line.product_id, line.unit_price, line.amount) for line in order.lines.all()
    ]
    # price list 90 000 and 220 000, 10 % off: 81 000 and 198 000
    assert got == [
        (cat.p1.pk, D("81000"), D("162000")),
        (cat.p2.pk, D("198000"), D("198000")),
    ]
    assert order.total == D("360000")
    assert order.number.startswith("CG")
    assert order.status == S.DRAFT
    assert order.ordered_on == timezone.localdate()
    assert order.owner == org.mgr_a
    assert order.department == org.mgr_a.department


def test_without_an_agreement_the_list_price_applies(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pc_admin, [(cat.p1, 3)])
    assert order.lines.get().unit_price == D("100000")
    assert order.total == D("300000")
    assert order.owner == org.mgr_c


def test_an_expired_agreement_does_not_price(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    today = timezone.localdate()
    org.agreement.starts_on = today - datetime.timedelta(days=400)
    org.agreement.ends_on = today - datetime.timedelta(days=1)
    org.agreement.save()
    order = make_po(org, org.pa_user, [(cat.p1, 1)])
    assert order.lines.get().unit_price == D("100000")


def test_a_product_outside_the_agreement_scope_is_refused_by_name(sellin_org):
    org, cat = sellin_org, sellin_org.catalogue
    with translation.override("en"), pytest.raises(Invalid) as exc:
        services.purchase_order_create(
            actor=org.pa_user,
            partner=org.partner_a,
            data={},
            lines=lines((cat.p1, 1), (cat.p3, 5)),
        )
    message = exc.value.fields["lines.1.product"][0]
    assert "FL-01 机油滤芯" in message
    assert "XY000001" in message
    assert not PurchaseOrder.objects.exists()


def test_a_product_in_a_sub_category_of_the_scope_is_allowed(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    org.agreement.categories.set([cat.excavators])
    order = make_po(org, org.pa_user, [(cat.p2, 1)])
    assert order.total == D("198000")
    with pytest.raises(Invalid):
        make_po(org, org.pa_user, [(cat.p3, 1)])


@pytest.mark.parametrize("quantity", ["0", "-1", "1.00001"])
def test_bad_quantities_are_refused_naming_the_line(sellin_org, quantity):
    org, cat = sellin_org, sellin_org.catalogue
    with pytest.raises(Invalid) as exc:
        services.purchase_order_create(
            actor=org.pa_user,
            partner=org.partner_a,
            data={},
            lines=[{"product": cat.p1, "quantity": quantity}],
        )
    assert "lines.0.quantity" in exc.value.fields


def test_an_order_needs_a_line(sellin_org):
    org = sellin_org
    with pytest.raises(Invalid) as exc:
        services.purchase_order_create(
            actor=org.pa_user, partner=org.partner_a, data={}, lines=[]
        )
    assert "lines" in exc.value.fields


def test_hq_users_do_not_place_partner_orders(sellin_org):
    org, cat = sellin_org, sellin_org.catalogue
    with pytest.raises(Forbidden):
        services.purchase_order_create(
            actor=org.mgr_a, partner=org.partner_a, data={}, lines=lines((cat.p1, 1))
        )
    with pytest.raises(NotFound):
        services.purchase_order_create(
            actor=org.pa_user, partner=org.partner_c, data={}, lines=lines((cat.p1, 1))
        )


# Drafts


def test_a_draft_is_edited_with_its_version_and_prices_again(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)])
    updated = services.purchase_order_update(
        actor=org.pa_admin,
        order=order,
        data={"shipping_address": "杭州市余杭区"},
        lines=lines((cat.p2, 2)),
        version=order.version,
    )
    assert updated.total == D("396000")  # 2 × 198 000
    assert updated.shipping_address == "杭州市余杭区"
    assert [line.product_id for line in updated.lines.all()] == [cat.p2.pk]
    with pytest.raises(Conflict):  # the version read before the change is stale now
        services.purchase_order_update(
            actor=org.pa_user,
            order=order,
            data={},
            lines=lines((cat.p1, 1)),
            version=order.version,
        )


def test_only_drafts_are_edited(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    with pytest.raises(Conflict):
        services.purchase_order_update(
            actor=org.pa_user,
            order=order,
            data={},
            lines=lines((cat.p1, 2)),
            version=order.version,
        )


def test_submission_notifies_the_channel_manager(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    assert order.status == S.SUBMITTED
    assert order.submitted_by == org.pa_user
    note = Notification.objects.get(recipient=org.mgr_a)
    assert order.number in note.title
    assert note.url == f"/channels/purchase-orders/{order.pk}/"
    with pytest.raises(Conflict):
        services.purchase_order_submit(actor=org.pa_user, order=order)


def test_cancel_while_draft_or_submitted_only(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    draft = make_po(org, org.pa_user, [(cat.p1, 1)])
    submitted = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    approved = make_po(org, org.pa_user, [(cat.p1, 1)], to="approved")
    for order in (draft, submitted):
        assert (
            services.purchase_order_cancel(actor=org.pa_user, order=order).status
            == S.CANCELLED
        )
    with pytest.raises(Conflict):
        services.purchase_order_cancel(actor=org.pa_user, order=approved)


# Approval


def test_approval_in_scope_once_and_the_partner_users_are_told(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    with pytest.raises(NotFound):  # partner_a is not mgr_c's
        services.purchase_order_approve(actor=org.mgr_c, order=order)
    with pytest.raises(Forbidden):  # no approval permission
        services.purchase_order_approve(actor=org.rep_a, order=order)
    approved = services.purchase_order_approve(
        actor=org.mgr_a, order=order, note="按时发货"
    )
    assert approved.status == S.APPROVED
    assert approved.decided_by == org.mgr_a
    assert approved.decision_note == "按时发货"
    told = set(
        Notification.objects.filter(kind="channels.purchaseorder.approved").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"pa_admin", "pa_user"}
    with pytest.raises(Conflict):
        services.purchase_order_approve(actor=org.mgr_a, order=order)
    with pytest.raises(Conflict):
        services.purchase_order_reject(actor=org.mgr_a, order=order, note="晚了")


def test_rejection_needs_a_note_and_tells_the_partner(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    with pytest.raises(Invalid):
        services.purchase_order_reject(actor=org.mgr_a, order=order, note=" ")
    rejected = services.purchase_order_reject(
        actor=org.mgr_a, order=order, note="库存不足"
    )
    assert rejected.status == S.REJECTED
    assert rejected.decision_note == "库存不足"
    assert Notification.objects.filter(
        recipient=org.pa_user, kind="channels.purchaseorder.rejected"
    ).exists()
    with pytest.raises(Conflict):
        services.purchase_order_approve(actor=org.mgr_a, order=order)


def test_partner_users_do_not_approve(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    with pytest.raises(Forbidden):
        services.purchase_order_approve(actor=org.pa_admin, order=order)


# Credit check


@pytest.fixture
def credit_case(sellin_org, make_po):
    """partner_a: credit limit 500 000 and one approved, open order of
    3 × 81 000 = 243 000."""
    org, cat = sellin_org, sellin_org.catalogue
    org.partner_a.credit_limit = D("500000")
    org.partner_a.save()
    # p1 at 81 000: 3 × 81 000 = 243 000 approved and open
    open_order = make_po(org, org.pa_user, [(cat.p1, 3)], to="approved")
    return org, cat, open_order


def test_open_exposure_counts_approved_orders_not_fully_received(credit_case, make_po):
    org, cat, open_order = credit_case
    make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")  # not counted
    make_po(org, org.pa_user, [(cat.p1, 1)])  # draft: not counted
    assert open_exposure(org.partner_a.pk) == D("243000")
    services.purchase_order_receive(
        actor=org.pa_user,
        order=open_order,
        quantities={open_order.lines.get().pk: D("1")},
    )
    assert open_exposure(org.partner_a.pk) == D("243000")  # partly received: in full
    services.purchase_order_receive(
        actor=org.pa_user,
        order=open_order,
        quantities={open_order.lines.get().pk: D("2")},
    )
    assert open_exposure(org.partner_a.pk) == D("0")


def test_over_the_limit_is_refused_with_the_numbers(credit_case, make_po):
    org, cat, _open = credit_case
    # 243 000 + 2 × 198 000 = 639 000 > 500 000
    order = make_po(org, org.pa_user, [(cat.p2, 2)], to="submitted")
    with translation.override("en"), pytest.raises(Conflict) as exc:
        services.purchase_order_approve(actor=org.mgr_a, order=order)
    message = exc.value.message
    for number in (
        "243,000.00",
        "396,000.00",
        "639,000.00",
        "500,000.00",
        "139,000.00",
    ):
        assert number in message
    assert "override_reason" in exc.value.fields
    # a reason without the override permission is not enough
    with pytest.raises(Forbidden):
        services.purchase_order_approve(
            actor=org.mgr_a, order=order, override_reason="老客户"
        )
    assert PurchaseOrder.objects.get(pk=order.pk).status == S.SUBMITTED


def test_the_override_needs_a_reason_and_is_recorded(credit_case, make_po):
    org, cat, _open = credit_case
    order = make_po(org, org.pa_user, [(cat.p2, 2)], to="submitted")
    with pytest.raises(Conflict):  # the permission, but no reason
        services.purchase_order_approve(actor=org.manager, order=order)
    with translation.override("en"):
        approved = services.purchase_order_approve(
            actor=org.manager, order=order, note="加急", override_reason="年底冲量"
        )
    assert approved.status == S.APPROVED
    assert approved.decision_note == "加急 · Credit override: 年底冲量"
    event = AuditEvent.objects.get(object_id=str(order.pk), action="approve")
    assert "年底冲量" in event.note
    assert event.actor == org.manager


def test_exactly_at_the_limit_passes_and_zero_means_no_limit(credit_case, make_po):
    org, cat, _open = credit_case
    # 243 000 open + 3 × 81 000 = 486 000 ≤ 500 000
    ok = make_po(org, org.pa_user, [(cat.p1, 3)], to="submitted")
    services.purchase_order_approve(actor=org.mgr_a, order=ok)
    # 486 000 open + 81 000 = 567 000: exactly at a limit of 567 000
    org.partner_a.credit_limit = D("486000") + D("81000")
    org.partner_a.save()
    at_limit = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    assert (
        services.purchase_order_approve(actor=org.mgr_a, order=at_limit).status
        == S.APPROVED
    )
    org.partner_a.credit_limit = D("0")
    org.partner_a.save()
    big = make_po(org, org.pa_user, [(cat.p2, 10)], to="submitted")
    assert services.purchase_order_approve(actor=org.mgr_a, order=big).status == (
        S.APPROVED
    )


@pytest.mark.skipif(
    not connection.features.has_select_for_update,
    reason="row locks are PostgreSQL's (SQLite locks the whole database)",
)
def test_the_partner_row_is_locked_during_the_credit_check(credit_case, make_po):
    org, cat, _open = credit_case
    order = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    with CaptureQueriesContext(connection) as queries:
        services.purchase_order_approve(actor=org.mgr_a, order=order)
    locks = [
        q["sql"]
        for q in queries.captured_queries
        if "FOR UPDATE" in q["sql"]
        and '"channels_partner"' in q["sql"].split("WHERE")[0]
    ]
    assert locks, "the partner row must be selected FOR UPDATE"


# Goods received


def test_partial_then_full_receipt(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 3), (cat.p2, 1)], to="approved")
    l1, l2 = order.lines.order_by("pk")
    today = timezone.localdate()
    receipt = services.purchase_order_receive(
        actor=org.pa_user, order=order, quantities={l1.pk: D("2")}, received_on=today
    )
    order.refresh_from_db()
    l1.refresh_from_db()
    assert order.status == S.APPROVED
    assert l1.received_quantity == D("2")
    line = receipt.lines.get()
    assert (line.partner_id, line.product_id, line.received_on) == (
        org.partner_a.pk,
        cat.p1.pk,
        today,
    )
    assert (line.quantity, line.amount) == (D("2"), D("162000"))  # 2 × 81 000
    services.purchase_order_receive(
        actor=org.mgr_a, order=order, quantities={l1.pk: D("1"), l2.pk: D("1")}
    )
    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert Receipt.objects.filter(order=order).count() == 2
    assert sum(r.amount for r in ReceiptLine.objects.all()) == D("441000")


def test_over_receipt_and_zero_are_refused_naming_the_line(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    order = make_po(org, org.pa_user, [(cat.p1, 3)], to="approved")
    line = order.lines.get()
    with translation.override("en"), pytest.raises(Invalid) as exc:
        services.purchase_order_receive(
            actor=org.pa_user, order=order, quantities={line.pk: D("4")}
        )
    message = exc.value.fields[f"quantity_{line.pk}"][0]
    assert "Line 1 (EX-200 小型挖掘机 EX200)" in message
    assert "3" in message
    with pytest.raises(Invalid) as exc:
        services.purchase_order_receive(
            actor=org.pa_user, order=order, quantities={line.pk: D("0")}
        )
    assert "EX-200" in exc.value.fields[f"quantity_{line.pk}"][0]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(Invalid) as exc:
        services.purchase_order_receive(
            actor=org.pa_user,
            order=order,
            quantities={line.pk: D("1")},
            received_on=tomorrow,
        )
    assert "received_on" in exc.value.fields
    assert not Receipt.objects.exists()


def test_receipts_only_on_approved_orders_of_ones_own_partner(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    submitted = make_po(org, org.pa_user, [(cat.p1, 1)], to="submitted")
    with pytest.raises(Conflict):
        services.purchase_order_receive(
            actor=org.pa_user,
            order=submitted,
            quantities={submitted.lines.get().pk: D("1")},
        )
    other = make_po(org, org.pc_admin, [(cat.p1, 1)], to="approved")
    with pytest.raises(NotFound):
        services.purchase_order_receive(
            actor=org.pa_user, order=other, quantities={other.lines.get().pk: D("1")}
        )
    with pytest.raises(NotFound):  # HQ: partner_c is not mgr_a's
        services.purchase_order_receive(
            actor=org.mgr_a, order=other, quantities={other.lines.get().pk: D("1")}
        )


def test_sell_in_selectors_sum_receipts_per_partner_and_product(sellin_org, make_po):
    org, cat = sellin_org, sellin_org.catalogue
    today = timezone.localdate()
    earlier = today - datetime.timedelta(days=10)
    a = make_po(org, org.pa_user, [(cat.p1, 5), (cat.p2, 2)], to="approved")
    c = make_po(org, org.pc_admin, [(cat.p1, 4)], to="approved")
    a1, a2 = a.lines.order_by("pk")
    # The order is dated today; an earlier receipt date needs an earlier order date.
    PurchaseOrder.objects.filter(pk=a.pk).update(ordered_on=earlier)
    a.refresh_from_db()
    services.purchase_order_receive(
        actor=org.pa_user, order=a, quantities={a1.pk: D("2")}, received_on=earlier
    )
    services.purchase_order_receive(
        actor=org.pa_user, order=a, quantities={a1.pk: D("1"), a2.pk: D("2")}
    )
    services.purchase_order_receive(
        actor=org.pc_admin, order=c, quantities={c.lines.get().pk: D("4")}
    )
    rows = sell_in_received([org.partner_a.pk, org.partner_c.pk], earlier, today)
    got = {
        (r["partner_id"], r["product_id"]): (r["quantity"], r["amount"]) for r in rows
    }
    assert got == {
        (org.partner_a.pk, cat.p1.pk): (D("3"), D("243000")),  # 3 × 81 000
        (org.partner_a.pk, cat.p2.pk): (D("2"), D("396000")),  # 2 × 198 000
        (org.partner_c.pk, cat.p1.pk): (D("4"), D("400000")),  # 4 × 100 000
    }
    only_today = sell_in_received([org.partner_a.pk], today, today, product=cat.p1)
    assert [(r["quantity"], r["amount"]) for r in only_today] == [(D("1"), D("81000"))]
    assert sell_in_amount(org.partner_a, earlier, today) == D("639000")
    assert sell_in_amount(org.partner_a, today, today) == D("477000")
    assert sell_in_amount(org.partner_a2, earlier, today) == D("0")
