"""S3 quote services: totals and rounding, price defaults, editable states, approval,
self-approval, scope, revisions, audit and notifications."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent, Notification
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.org.tests.factories import UserFactory
from crm.products.models import PriceList, PriceListItem, Product
from crm.sales.models import Quote, QuoteLine
from crm.sales.selectors.quotes import quote_revisions
from crm.sales.services import quotes as services

pytest_plugins = ["crm.sales.tests.quotes_support"]

pytestmark = pytest.mark.django_db
S = Quote.Status
D = Decimal


def _events(quote):
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Quote), object_id=str(quote.pk)
    )


# Creating and numbering


def test_create_numbers_the_quote_and_audits(quote_org, customer):
    quote = services.quote_create(
        actor=quote_org.rep_a, data={"title": "报价", "customer": customer}
    )
    assert quote.number.startswith("BJ")
    assert len(quote.number) == 8
    assert quote.status == S.DRAFT
    assert quote.revision == 1
    assert quote.owner == quote_org.rep_a
    assert quote.department == quote_org.rep_a.department
    assert quote.quoted_on is not None
    assert _events(quote).get().action == AuditEvent.Action.CREATE


def test_create_refuses_a_customer_outside_the_scope(quote_org):
    other = CustomerFactory(owner=quote_org.rep_c)
    with pytest.raises(Invalid) as exc:
        services.quote_create(
            actor=quote_org.rep_a, data={"title": "报价", "customer": other}
        )
    assert "customer" in exc.value.fields
    assert not Quote.objects.exists()


def test_create_needs_title_and_customer(quote_org):
    with pytest.raises(Invalid) as exc:
        services.quote_create(actor=quote_org.rep_a, data={"title": "  "})
    assert set(exc.value.fields) == {"title", "customer"}


def test_create_checks_contact_belongs_to_customer_and_dates(quote_org, customer):
    stranger = ContactFactory(customer=CustomerFactory(owner=quote_org.rep_a))
    with pytest.raises(Invalid) as exc:
        services.quote_create(
            actor=quote_org.rep_a,
            data={
                "title": "报价",
                "customer": customer,
                "contact": stranger,
                "quoted_on": datetime.date(2026, 3, 2),
                "valid_until": datetime.date(2026, 3, 1),
            },
        )
    assert set(exc.value.fields) == {"contact", "valid_until"}


def test_create_needs_the_add_permission(quote_org, customer):
    with pytest.raises(Forbidden):
        services.quote_create(
            actor=UserFactory(department=quote_org.east),
            data={"title": "报价", "customer": customer},
        )


# Lines, totals and rounding (only through crm.sales.pricing)


def test_line_amounts_and_totals(make_quote, product):
    quote = make_quote(lines=[(product, "2", "100.00", "5")])
    line = quote.lines.get()
    # 2 × 100 × 95% = 190.00; tax 13% = 24.70; total 214.70
    assert (line.amount, line.tax_amount, line.total) == (
        D("190.00"),
        D("24.70"),
        D("214.70"),
    )
    assert (quote.amount, quote.tax_amount, quote.total) == (
        D("190.00"),
        D("24.70"),
        D("214.70"),
    )
    assert quote.version == 2  # created, then one line


def test_totals_follow_every_line_change_in_the_same_transaction(
    make_quote, make_product
):
    first, second = make_product(), make_product()
    quote = make_quote(lines=[(first, "1", "100", "0"), (second, "3", "10", "0")])
    assert quote.total == D("146.90")  # (100 + 30) × 1.13
    line = quote.lines.get(product=second)
    services.quote_line_update(
        actor=quote.owner, line=line, data={"quantity": D("5"), "tax_rate": D("6")}
    )
    quote.refresh_from_db()
    assert quote.amount == D("150.00")
    assert quote.tax_amount == D("16.00")  # 13.00 + 3.00
    assert quote.total == D("166.00")
    services.quote_line_remove(actor=quote.owner, line=quote.lines.get(product=first))
    quote.refresh_from_db()
    assert (quote.amount, quote.total) == (D("50.00"), D("53.00"))


@pytest.mark.parametrize(
    ("decimals", "price", "amount", "tax"),
    [
        (2, "0.125", "0.13", "0.02"),  # x.xx5 rounds half up; tax 0.0169 → 0.02
        (2, "0.124999", "0.12", "0.02"),
        (2, "2.675", "2.68", "0.35"),  # a float would make it 2.67
        (0, "2.5", "3", "0"),  # 13% of 3 = 0.39 → 0
        (0, "3.5", "4", "1"),  # 0.52 → 1
        (4, "1.00005", "1.0001", "0.1300"),
        (4, "0.00005", "0.0001", "0.0000"),
    ],
)
def test_rounding_follows_decimals_quote_half_up(
    set_param, make_quote, product, decimals, price, amount, tax
):
    set_param("decimals_quote", decimals)
    quote = make_quote(lines=[(product, "1", price, "0")])
    line = quote.lines.get()
    assert line.amount == D(amount)
    assert line.tax_amount == D(tax)
    assert quote.total == D(amount) + D(tax)


def test_rounding_of_a_discounted_line(make_quote, product):
    # 3 × 33.33 × (1 − 12.5%) = 87.49125 → 87.49; tax 11.3737 → 11.37
    quote = make_quote(lines=[(product, "3", "33.33", "12.5")])
    assert (quote.amount, quote.tax_amount) == (D("87.49"), D("11.37"))


def test_unit_price_defaults_from_the_price_list_then_list_price(
    quote_org, make_quote, make_product
):
    listed = make_product(list_price=D("100.00"))
    unlisted = make_product(list_price=D("80.00"))
    price_list = PriceList.objects.create(name="经销价")
    PriceListItem.objects.create(price_list=price_list, product=listed, price=D("90"))
    PriceListItem.objects.create(
        price_list=price_list, product=listed, price=D("85"), min_quantity=D("10")
    )
    quote = make_quote(
        price_list=price_list,
        lines=[
            (listed, "1", None, "0"),
            (listed, "10", None, "0"),
            (unlisted, "1", None, "0"),
        ],
    )
    assert [line.unit_price for line in quote.lines.all()] == [
        D("90"),
        D("85"),
        D("80"),
    ]
    without_list = make_quote(lines=[(listed, "1", None, "0")])
    assert without_list.lines.get().unit_price == D("100")
    assert quote.lines.first().tax_rate == D("13")  # the default tax rate


def test_changing_the_product_takes_its_price_unless_given(make_quote, make_product):
    first = make_product(list_price=D("100"))
    second = make_product(list_price=D("250"))
    quote = make_quote(lines=[(first, "1", "99", "0")])
    line = quote.lines.get()
    line = services.quote_line_update(
        actor=quote.owner, line=line, data={"product": second}
    )
    assert line.unit_price == D("250")
    line = services.quote_line_update(
        actor=quote.owner, line=line, data={"product": first, "unit_price": D("1")}
    )
    assert line.unit_price == D("1")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", D("0")),
        ("quantity", D("-1")),
        ("unit_price", D("-0.01")),
        ("discount_percent", D("100.01")),
        ("discount_percent", D("-1")),
        ("tax_rate", D("101")),
        ("quantity", "abc"),
        ("unit_price", D("1E+20")),
    ],
)
def test_bad_line_values_are_field_errors_and_nothing_is_written(
    make_quote, product, field, value
):
    quote = make_quote()
    data = {"product": product, "quantity": D("1"), field: value}
    with pytest.raises(Invalid) as exc:
        services.quote_line_add(actor=quote.owner, quote=quote, data=data)
    assert field in exc.value.fields
    assert not QuoteLine.objects.exists()
    quote.refresh_from_db()
    assert quote.version == 1


def test_line_product_must_be_on_sale_and_visible(quote_org, make_quote, make_product):
    quote = make_quote()
    stopped = make_product(status=Product.Status.INACTIVE)
    with pytest.raises(Invalid) as exc:
        services.quote_line_add(
            actor=quote.owner, quote=quote, data={"product": stopped}
        )
    assert "product" in exc.value.fields


def test_line_changes_are_in_the_quote_history(make_quote, product):
    quote = make_quote(lines=[(product, "2", "100", "0")])
    event = _events(quote).filter(note="line added").get()
    assert event.changes["HX-100 液压挖掘机"] == [None, "2 × 100 −0% +13% = 226"]
    assert event.changes["total"] == ["0.000000", "226.000000"]


# Editable states


@pytest.mark.parametrize(
    "status",
    [
        S.PENDING_APPROVAL,
        S.APPROVED,
        S.SENT,
        S.ACCEPTED,
        S.DECLINED,
        S.SUPERSEDED,
        S.CANCELLED,
    ],
)
def test_only_draft_and_rejected_quotes_are_editable(make_quote, product, status):
    quote = make_quote(lines=[(product, "1", "10", "0")])
    Quote.objects.filter(pk=quote.pk).update(status=status)
    line = quote.lines.get()
    with pytest.raises(Conflict):
        services.quote_update(
            actor=quote.owner, obj=quote, data={"title": "改"}, version=quote.version
        )
    with pytest.raises(Conflict):
        services.quote_line_add(
            actor=quote.owner, quote=quote, data={"product": product}
        )
    with pytest.raises(Conflict):
        services.quote_line_update(actor=quote.owner, line=line, data={"quantity": 2})
    with pytest.raises(Conflict):
        services.quote_line_remove(actor=quote.owner, line=line)
    with pytest.raises(Conflict):
        services.quote_submit(actor=quote.owner, quote=quote)


@pytest.mark.parametrize("status", [S.DRAFT, S.REJECTED])
def test_draft_and_rejected_quotes_are_editable(make_quote, product, status):
    quote = make_quote(lines=[(product, "1", "10", "0")])
    Quote.objects.filter(pk=quote.pk).update(status=status)
    quote.refresh_from_db()
    quote = services.quote_update(
        actor=quote.owner, obj=quote, data={"title": "改过"}, version=quote.version
    )
    assert quote.title == "改过"
    services.quote_line_add(actor=quote.owner, quote=quote, data={"product": product})
    assert quote.lines.count() == 2


def test_stale_version_is_a_conflict(make_quote):
    quote = make_quote()
    with pytest.raises(Conflict):
        services.quote_update(
            actor=quote.owner,
            obj=quote,
            data={"title": "改"},
            version=quote.version - 1,
        )


# Approval


def test_submit_without_lines_is_refused(make_quote):
    with pytest.raises(Invalid):
        services.quote_submit(actor=make_quote().owner, quote=make_quote())


@pytest.mark.parametrize(
    ("discount", "status"),
    [
        ("0", S.APPROVED),
        ("9.9999", S.APPROVED),
        ("10", S.APPROVED),  # equal to the threshold: no approval
        ("10.0001", S.PENDING_APPROVAL),  # above it: approval
        ("50", S.PENDING_APPROVAL),
    ],
)
def test_threshold_boundary(set_param, make_quote, product, discount, status):
    set_param("quote_discount_approval_percent", 10)
    quote = make_quote(
        lines=[(product, "1", "100", "0"), (product, "1", "100", discount)]
    )
    quote = services.quote_submit(actor=quote.owner, quote=quote)
    assert quote.status == status
    assert quote.submitted_by == quote.owner
    assert quote.submitted_at is not None


def test_threshold_is_the_parameter(set_param, make_quote, product):
    set_param("quote_discount_approval_percent", 30)
    quote = make_quote(lines=[(product, "1", "100", "25")])
    assert services.quote_submit(actor=quote.owner, quote=quote).status == S.APPROVED


@pytest.fixture
def pending(make_quote, product):
    quote = make_quote(lines=[(product, "1", "100", "20")])
    return services.quote_submit(actor=quote.owner, quote=quote)


def test_approve_needs_the_permission(quote_org, pending):
    with pytest.raises(Forbidden):
        services.quote_approve(actor=quote_org.rep_b, quote=pending)
    pending.refresh_from_db()
    assert pending.status == S.PENDING_APPROVAL


def test_approver_approves_and_the_requester_is_notified(
    quote_org, pending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        quote = services.quote_approve(
            actor=quote_org.manager, quote=pending, note="可以"
        )
    assert quote.status == S.APPROVED
    assert quote.decided_by == quote_org.manager
    assert quote.decision_note == "可以"
    notice = Notification.objects.get(recipient=quote_org.rep_a)
    assert quote.number in notice.title
    assert notice.body == "可以"
    assert notice.url == f"/sales/quotes/{quote.pk}/"
    assert _events(quote).filter(action="approve").exists()


def test_reject_needs_a_note_and_makes_the_quote_editable(quote_org, pending):
    with pytest.raises(Invalid) as exc:
        services.quote_reject(actor=quote_org.manager, quote=pending, note=" ")
    assert "note" in exc.value.fields
    quote = services.quote_reject(
        actor=quote_org.manager, quote=pending, note="折扣太高"
    )
    assert quote.status == S.REJECTED
    assert quote.is_editable
    notice = Notification.objects.get(recipient=quote_org.rep_a)
    assert notice.body == "折扣太高"
    # Fix the discount and submit again: approved without approval now.
    line = quote.lines.get()
    services.quote_line_update(
        actor=quote.owner, line=line, data={"discount_percent": 5}
    )
    quote = services.quote_submit(actor=quote.owner, quote=quote)
    assert quote.status == S.APPROVED
    assert quote.decided_by is None
    assert quote.decision_note == ""


def test_approving_needs_the_quote_in_the_approvers_scope(
    quote_org, make_quote, product
):
    south = make_quote(owner=quote_org.rep_c, lines=[(product, "1", "100", "50")])
    south = services.quote_submit(actor=quote_org.rep_c, quote=south)
    with pytest.raises(NotFound):  # the manager sees the east subtree only
        services.quote_approve(actor=quote_org.manager, quote=south)
    south.refresh_from_db()
    assert south.status == S.PENDING_APPROVAL


def test_no_self_approval(quote_org, make_quote, product):
    quote = make_quote(owner=quote_org.manager, lines=[(product, "1", "100", "50")])
    quote = services.quote_submit(actor=quote_org.manager, quote=quote)
    with pytest.raises(Forbidden):
        services.quote_approve(actor=quote_org.manager, quote=quote)
    with pytest.raises(Forbidden):
        services.quote_reject(actor=quote_org.manager, quote=quote, note="自己")


def test_no_approval_of_a_quote_one_submitted(quote_org, pending, make_quote, product):
    """The manager submitted rep_a's quote: someone else decides."""
    quote = make_quote(lines=[(product, "1", "100", "50")])
    quote = services.quote_submit(actor=quote_org.manager, quote=quote)
    with pytest.raises(Forbidden):
        services.quote_approve(actor=quote_org.manager, quote=quote)


def test_superuser_may_approve_their_own_quote(quote_org, make_quote, product):
    quote = make_quote(lines=[(product, "1", "100", "50")])
    Quote.objects.filter(pk=quote.pk).update(owner=quote_org.admin)
    quote = services.quote_submit(actor=quote_org.admin, quote=quote)
    quote = services.quote_approve(actor=quote_org.admin, quote=quote)
    assert quote.status == S.APPROVED
    assert not Notification.objects.exists()  # nobody to tell but themselves


def test_only_pending_quotes_are_decided(quote_org, make_quote, product):
    quote = make_quote(lines=[(product, "1", "100", "0")])
    with pytest.raises(Conflict):
        services.quote_approve(actor=quote_org.manager, quote=quote)
    with pytest.raises(Conflict):
        services.quote_reject(actor=quote_org.manager, quote=quote, note="不")


def test_withdraw_takes_a_pending_quote_back_to_draft(pending):
    quote = services.quote_withdraw(actor=pending.owner, quote=pending)
    assert quote.status == S.DRAFT
    assert quote.submitted_by is None


# Sending and the customer's answer


def test_send_accept_decline_flow(make_quote, product):
    quote = make_quote(lines=[(product, "1", "100", "0")])
    with pytest.raises(Conflict):
        services.quote_send(actor=quote.owner, quote=quote)  # not approved yet
    with pytest.raises(Conflict):
        services.quote_accept(actor=quote.owner, quote=quote)
    quote = services.quote_submit(actor=quote.owner, quote=quote)
    with pytest.raises(Conflict):
        services.quote_accept(actor=quote.owner, quote=quote)  # not sent yet
    quote = services.quote_send(actor=quote.owner, quote=quote)
    assert quote.status == S.SENT
    assert services.quote_accept(actor=quote.owner, quote=quote).status == S.ACCEPTED
    with pytest.raises(Conflict):
        services.quote_decline(actor=quote.owner, quote=quote)
    with pytest.raises(Conflict):
        services.quote_cancel(actor=quote.owner, quote=quote)


def test_pending_quote_cannot_be_sent(pending):
    with pytest.raises(Conflict):
        services.quote_send(actor=pending.owner, quote=pending)


def test_writes_outside_the_scope_are_not_found(quote_org, make_quote, product):
    quote = make_quote(lines=[(product, "1", "100", "0")])
    line = quote.lines.get()
    rep_b = quote_org.rep_b
    for call in (
        lambda: services.quote_update(actor=rep_b, obj=quote, data={}, version=2),
        lambda: services.quote_line_add(
            actor=rep_b, quote=quote, data={"product": product}
        ),
        lambda: services.quote_line_update(actor=rep_b, line=line, data={}),
        lambda: services.quote_line_remove(actor=rep_b, line=line),
        lambda: services.quote_submit(actor=rep_b, quote=quote),
        lambda: services.quote_revise(actor=rep_b, quote=quote),
    ):
        with pytest.raises(NotFound):
            call()


def test_only_first_drafts_are_deleted(quote_org, make_quote, product):
    quote = make_quote(lines=[(product, "1", "100", "0")])
    services.quote_delete(actor=quote_org.manager, quote=quote)
    assert not Quote.objects.filter(pk=quote.pk).exists()
    sent = make_quote(lines=[(product, "1", "100", "0")])
    services.quote_submit(actor=sent.owner, quote=sent)
    with pytest.raises(Conflict):
        services.quote_delete(actor=quote_org.manager, quote=sent)


# Revisions


def _sent(make_quote, product, **fields):
    quote = make_quote(lines=[(product, "2", "100", "5")], **fields)
    quote = services.quote_submit(actor=quote.owner, quote=quote)
    return services.quote_send(actor=quote.owner, quote=quote)


def test_revise_copies_header_and_lines_into_a_new_draft(
    quote_org, make_quote, product
):
    old = _sent(
        make_quote,
        product,
        terms="款到发货",
        quoted_on=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 1, 31),
    )
    new = services.quote_revise(actor=old.owner, quote=old)
    old.refresh_from_db()
    assert old.status == S.SUPERSEDED
    assert new.status == S.DRAFT
    assert new.is_editable
    assert new.revision == 2
    assert new.previous == old
    assert new.number == f"{old.number}-2"
    assert (new.customer, new.title, new.terms) == (old.customer, old.title, old.terms)
    assert new.owner == old.owner
    assert new.department == old.department
    assert new.valid_until - new.quoted_on == datetime.timedelta(days=30)
    assert [
        (x.product_id, x.quantity, x.unit_price, x.discount_percent, x.total)
        for x in new.lines.all()
    ] == [
        (x.product_id, x.quantity, x.unit_price, x.discount_percent, x.total)
        for x in old.lines.all()
    ]
    assert new.total == old.total == D("214.70")
    assert _events(new).get().note == f"revision 2 of {old.number}"
    assert _events(old).filter(action="revise").exists()


def test_revision_numbering_and_chain(quote_org, make_quote, product):
    first = _sent(make_quote, product)
    second = services.quote_revise(actor=first.owner, quote=first)
    services.quote_submit(actor=second.owner, quote=second)
    third = services.quote_revise(actor=second.owner, quote=second)
    assert (second.number, third.number) == (f"{first.number}-2", f"{first.number}-3")
    assert third.revision == 3
    for member in (first, second, third):
        member.refresh_from_db()
        chain = quote_revisions(actor=quote_org.rep_a, quote=member)
        assert [q.pk for q in chain] == [first.pk, second.pk, third.pk]
    assert [first.status, second.status, third.status] == [
        S.SUPERSEDED,
        S.SUPERSEDED,
        S.DRAFT,
    ]


@pytest.mark.parametrize("status", [S.APPROVED, S.SENT, S.REJECTED, S.DECLINED])
def test_revisable_states(make_quote, product, status):
    quote = make_quote(lines=[(product, "1", "1", "0")])
    Quote.objects.filter(pk=quote.pk).update(status=status)
    assert services.quote_revise(actor=quote.owner, quote=quote).revision == 2


@pytest.mark.parametrize(
    "status", [S.DRAFT, S.PENDING_APPROVAL, S.ACCEPTED, S.SUPERSEDED, S.CANCELLED]
)
def test_not_revisable_states(make_quote, product, status):
    quote = make_quote(lines=[(product, "1", "1", "0")])
    Quote.objects.filter(pk=quote.pk).update(status=status)
    with pytest.raises(Conflict):
        services.quote_revise(actor=quote.owner, quote=quote)
    assert Quote.objects.count() == 1


def test_revision_number_with_a_dashed_prefix(make_quote):
    quote = Quote(number="BJ-2026-000012", revision=1)
    assert services.revision_number(quote) == "BJ-2026-000012-2"
    quote = Quote(number="BJ-2026-000012-2", revision=2)
    assert services.revision_number(quote) == "BJ-2026-000012-3"


def test_a_total_too_large_for_the_columns_is_refused(make_quote, product):
    quote = make_quote(lines=[(product, "1", "60000000000000", "0")])
    for price in ("99999999999999", "30000000000000"):  # the line, the quote
        with pytest.raises(Invalid) as exc:
            services.quote_line_add(
                actor=quote.owner,
                quote=quote,
                data={"product": product, "unit_price": D(price)},
            )
        assert "quantity" in exc.value.fields
    assert quote.lines.count() == 1
