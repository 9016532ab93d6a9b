"""S3 quotes (报价): header, lines and totals, approval of discounts, sending, revisions.

Every service authorises, locks the quote it changes (looked up within the actor's data
scope: 404 outside it), validates with field errors, recomputes the lines and totals
through crm.sales.pricing in the same transaction as the change, bumps the quote's
version, and writes the audit trail (Y7) on the quote.

Status flow:

    draft ──submit──> approved                (no line discount above the threshold)
    draft ──submit──> pending_approval ──approve──> approved
                                       ──reject───> rejected ──(edit, submit again)
                                       ──withdraw─> draft
    approved ──send──> sent ──accept──> accepted
                            ──decline─> declined
    approved, sent, rejected, declined ──revise──> superseded (+ a new draft revision)
    draft, pending_approval, approved, rejected, sent ──cancel──> cancelled

Only draft and rejected quotes are editable (header and lines). Self-approval: an approver
may not approve or reject a quote they own or submitted, unless they are a superuser
(the administrator's account answers for everything anyway); the requester withdraws it
instead.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound, invalid_from_django
from crm.core.models import AuditEvent
from crm.core.money import MAX_AMOUNT
from crm.core.notifications import notify
from crm.core.numbering import next_number
from crm.core.params import get_param
from crm.core.scopes import authorize
from crm.core.services import record_create, record_delete, record_update
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import PriceList, Product
from crm.products.selectors import price_for
from crm.sales.models import Opportunity, Quote, QuoteLine
from crm.sales.pricing import apply_line_amounts, document_totals

KIND = "quote"
HEADER_FIELDS = (
    "title",
    "customer",
    "contact",
    "opportunity",
    "price_list",
    "quoted_on",
    "valid_until",
    "currency",
    "terms",
    "notes",
)
LINE_FIELDS = (
    "product",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "sort_order",
)
LINE_COPY_FIELDS = (
    "product_id",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "sort_order",
)
HUNDRED = Decimal(100)

S = Quote.Status
REVISABLE = frozenset({S.APPROVED, S.SENT, S.REJECTED, S.DECLINED})
CANCELLABLE = frozenset({S.DRAFT, S.PENDING_APPROVAL, S.APPROVED, S.REJECTED, S.SENT})


def _refuse(errors: dict[str, list[str]]) -> None:
    """Raise one Invalid carrying every field error found."""
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _lock(actor, quote: Quote) -> Quote:
    """The quote, locked, if it is within the actor's data scope; else 404."""
    try:
        return Quote.objects.visible_to(actor).select_for_update().get(pk=quote.pk)
    except Quote.DoesNotExist:
        raise NotFound(_("Quote not found.")) from None


def _check_editable(quote: Quote) -> None:
    if not quote.is_editable:
        raise Conflict(
            _("Only draft or rejected quotes can be changed; this one is %(status)s.")
            % {"status": quote.get_status_display()}
        )


def _save(quote: Quote, *fields: str) -> None:
    """Save changed columns of a locked quote and bump its version."""
    quote.version += 1
    quote.save(update_fields=[*fields, "version", "updated_at"])


# Header


def _in(queryset, obj) -> bool:
    return obj is not None and queryset.filter(pk=obj.pk).exists()


def _clean_header(actor, data: dict, quote: Quote | None) -> dict:
    """Only header fields; related records within the actor's scopes and consistent
    with the quote's customer; validity not before the quote date."""
    data = {name: data[name] for name in HEADER_FIELDS if name in data}
    errors: dict[str, list[str]] = {}

    def changed(name: str) -> bool:
        if name not in data:
            return False
        if quote is None:
            return data[name] not in (None, "")
        value = data[name]
        current = getattr(quote, f"{name}_id", None)
        return (value.pk if value is not None else None) != current

    def current(name: str):
        return data[name] if name in data else getattr(quote, name, None)

    if "title" in data:
        data["title"] = (data["title"] or "").strip()
        if not data["title"]:
            errors["title"] = [_("Enter a title.")]
    elif quote is None:
        errors["title"] = [_("Enter a title.")]
    if quote is None and data.get("customer") is None:
        errors["customer"] = [_("Choose a customer.")]
    elif changed("customer") and not _in(
        customer_queryset(actor=actor), data["customer"]
    ):
        errors["customer"] = [_("No such customer within your data scope.")]
    customer = current("customer")
    contact = current("contact")
    if (
        contact is not None
        and customer is not None
        and (changed("contact") or changed("customer"))
        and not Contact.objects.filter(pk=contact.pk, customer=customer).exists()
    ):
        errors["contact"] = [_("The contact is not one of this customer's contacts.")]
    opportunity = current("opportunity")
    if opportunity is not None and (changed("opportunity") or changed("customer")):
        if changed("opportunity") and not _in(
            Opportunity.objects.visible_to(actor), opportunity
        ):
            errors["opportunity"] = [_("No such opportunity within your data scope.")]
        elif customer is not None and opportunity.customer_id != customer.pk:
            errors["opportunity"] = [_("The opportunity is for another customer.")]
    if changed("price_list"):
        price_list = data["price_list"]
        if not _in(PriceList.objects.visible_to(actor), price_list):
            errors["price_list"] = [_("No such price list within your data scope.")]
        elif not price_list.is_active:
            errors["price_list"] = [_("This price list is inactive.")]
    if "currency" in data:
        data["currency"] = (data["currency"] or "").strip().upper() or "CNY"
        if not (len(data["currency"]) == 3 and data["currency"].isalpha()):
            errors["currency"] = [_("Enter a three-letter currency code (CNY).")]
    quoted_on, valid_until = current("quoted_on"), current("valid_until")
    if quoted_on and valid_until and valid_until < quoted_on:
        errors["valid_until"] = [_("A quote cannot expire before its date.")]
    _refuse(errors)
    return data


def quote_create(*, actor, data: dict) -> Quote:
    """A new draft quote for a customer the actor may see, numbered from sales.quote."""
    authorize(actor, "sales.add_quote")
    data = _clean_header(actor, data, None)
    data.setdefault("quoted_on", timezone.localdate())
    with transaction.atomic():
        data["number"] = next_number("sales.quote")
        return record_create(
            actor=actor, model=Quote, data=data, perm="sales.add_quote"
        )


def quote_update(*, actor, obj: Quote, data: dict, version=None) -> Quote:
    """Change a draft or rejected quote's header; a stale version is refused (409)."""
    authorize(actor, "sales.change_quote")
    with transaction.atomic():
        locked = _lock(actor, obj)
        _check_editable(locked)
        data = _clean_header(actor, data, locked)
        return record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_quote",
            version=version,
        )


def quote_delete(*, actor, quote: Quote) -> None:
    """Drafts that are no revision may be deleted for real; anything else is cancelled."""
    authorize(actor, "sales.delete_quote")
    with transaction.atomic():
        locked = _lock(actor, quote)
        if locked.status != S.DRAFT or locked.previous_id:
            raise Conflict(
                _("Only a first draft can be deleted; cancel this quote instead.")
            )
        record_delete(actor=actor, obj=locked, perm="sales.delete_quote")


# Lines


def _decimal(value, name: str, errors: dict) -> Decimal | None:
    if isinstance(value, float):
        value = str(value)
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        errors[name] = [_("Enter a number.")]
        return None
    if not result.is_finite():
        errors[name] = [_("Enter a number.")]
        return None
    return result


def _clean_line(actor, data: dict, line: QuoteLine | None) -> dict:
    """Line fields with their rules: a product on sale within the actor's scope, a
    positive quantity, no negative price, discount and tax rate between 0 and 100."""
    data = {name: data[name] for name in LINE_FIELDS if name in data}
    errors: dict[str, list[str]] = {}
    product = data.get("product")
    if line is None and product is None:
        errors["product"] = [_("Choose a product.")]
    elif product is not None and (line is None or product.pk != line.product_id):
        visible = Product.objects.visible_to(actor).filter(
            pk=product.pk, status=Product.Status.ACTIVE
        )
        if not visible.exists():
            errors["product"] = [_("No such product on sale within your data scope.")]
    elif "product" in data and product is None:
        errors["product"] = [_("Choose a product.")]
    if "description" in data:
        data["description"] = (data["description"] or "").strip()
    for name in ("quantity", "unit_price", "discount_percent", "tax_rate"):
        if name not in data or (name == "unit_price" and data[name] is None):
            continue
        value = _decimal(data[name], name, errors)
        if value is None:
            continue
        data[name] = value
        if name == "quantity" and value <= 0:
            errors[name] = [_("The quantity must be above zero.")]
        elif name == "unit_price" and value < 0:
            errors[name] = [_("A price cannot be negative.")]
        elif name in ("discount_percent", "tax_rate") and not 0 <= value <= HUNDRED:
            errors[name] = [_("Enter a percentage between 0 and 100.")]
    _refuse(errors)
    return data


def _line_text(line: QuoteLine) -> str:
    """How a line reads in the history: 2 × 100.00 −5% +13% = 214.70."""
    return (
        f"{line.quantity.normalize():f} × {line.unit_price.normalize():f}"
        f" −{line.discount_percent.normalize():f}%"
        f" +{line.tax_rate.normalize():f}% = {line.total.normalize():f}"
    )


def _line_key(line: QuoteLine) -> str:
    product = line.product
    return f"{product.code} {product.name}"[:120]


def _too_large() -> Invalid:
    message = _("Enter a smaller quantity or price: the amount would be too large.")
    return Invalid(message, fields={"quantity": [message], "unit_price": [message]})


def _price(line: QuoteLine) -> None:
    """The line's amounts through crm.sales.pricing, within what a money column holds."""
    apply_line_amounts(line, KIND)
    if abs(line.total) >= MAX_AMOUNT:
        raise _too_large()


def _recompute(quote: Quote) -> list[QuoteLine]:
    """Every line's amounts and the quote's totals, under the decimal places in force."""
    lines = list(quote.lines.select_related("product"))
    changed = []
    for line in lines:
        old = (line.amount, line.tax_amount, line.total)
        _price(line)
        if (line.amount, line.tax_amount, line.total) != old:
            changed.append(line)
    if changed:
        QuoteLine.objects.bulk_update(changed, ["amount", "tax_amount", "total"])
    totals = document_totals(lines)
    if abs(totals.total) >= MAX_AMOUNT:
        raise _too_large()
    quote.amount, quote.tax_amount, quote.total = (
        totals.amount,
        totals.tax_amount,
        totals.total,
    )
    return lines


def _save_lines(*, actor, quote: Quote, before: dict, key: str, was, now, note: str):
    """Recompute, save the quote and record the line change on its history."""
    _recompute(quote)
    _save(quote, "amount", "tax_amount", "total")
    event = audit_record(
        actor=actor,
        obj=quote,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=note,
    )
    event.changes = {**event.changes, key: [was, now]}
    event.save(update_fields=["changes"])


def _full_clean_line(line: QuoteLine) -> None:
    try:
        line.full_clean(exclude=["quote", "amount", "tax_amount", "total"])
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


def quote_line_add(*, actor, quote: Quote, data: dict) -> QuoteLine:
    """Add a product line; the unit price defaults to the quote's price list (else the
    product's list price) for the quantity; tax rate defaults to 13%."""
    authorize(actor, "sales.change_quote")
    with transaction.atomic():
        locked = _lock(actor, quote)
        _check_editable(locked)
        values = _clean_line(actor, data, None)
        line = QuoteLine(quote=locked, **values)
        if values.get("unit_price") is None:
            line.unit_price = price_for(
                product=line.product,
                price_list=locked.price_list,
                quantity=line.quantity,
            )
        if "sort_order" not in values:
            last = locked.lines.aggregate(n=Max("sort_order"))["n"]
            line.sort_order = 1 if last is None else last + 1
        _full_clean_line(line)
        _price(line)
        before = snapshot(locked)
        line.save()
        _save_lines(
            actor=actor,
            quote=locked,
            before=before,
            key=_line_key(line),
            was=None,
            now=_line_text(line),
            note="line added",
        )
    return line


def _locked_line(actor, line: QuoteLine) -> tuple[Quote, QuoteLine]:
    quote = _lock(actor, Quote(pk=line.quote_id))
    try:
        return quote, quote.lines.select_related("product").get(pk=line.pk)
    except QuoteLine.DoesNotExist:
        raise NotFound(_("Quote line not found.")) from None


def quote_line_update(*, actor, line: QuoteLine, data: dict) -> QuoteLine:
    """Change a line; a new product without a price given takes its default price."""
    authorize(actor, "sales.change_quote")
    with transaction.atomic():
        quote, locked = _locked_line(actor, line)
        _check_editable(quote)
        values = _clean_line(actor, data, locked)
        was = _line_text(locked)
        new_product = "product" in values and values["product"].pk != locked.product_id
        for name, value in values.items():
            setattr(locked, name, value)
        if values.get("unit_price", 0) is None or (
            new_product and "unit_price" not in values
        ):
            locked.unit_price = price_for(
                product=locked.product,
                price_list=quote.price_list,
                quantity=locked.quantity,
            )
        _full_clean_line(locked)
        _price(locked)
        before = snapshot(quote)
        locked.save()
        _save_lines(
            actor=actor,
            quote=quote,
            before=before,
            key=_line_key(locked),
            was=was,
            now=_line_text(locked),
            note="line changed",
        )
    return locked


def quote_line_remove(*, actor, line: QuoteLine) -> None:
    """Remove a line from a draft or rejected quote; the totals follow."""
    authorize(actor, "sales.change_quote")
    with transaction.atomic():
        quote, locked = _locked_line(actor, line)
        _check_editable(quote)
        before = snapshot(quote)
        key, was = _line_key(locked), _line_text(locked)
        locked.delete()
        _save_lines(
            actor=actor,
            quote=quote,
            before=before,
            key=key,
            was=was,
            now=None,
            note="line removed",
        )


# Approval (S3): a line discount above the threshold needs a holder of approve_discount.


def approval_threshold() -> Decimal:
    return Decimal(get_param("quote_discount_approval_percent"))


def needs_approval(lines) -> bool:
    """Whether any line's discount exceeds the threshold (equal to it does not)."""
    threshold = approval_threshold()
    return any(line.discount_percent > threshold for line in lines)


def _transition(*, actor, quote: Quote, action: str, note: str = "", **values):
    before = snapshot(quote)
    for name, value in values.items():
        setattr(quote, name, value)
    _save(quote, *values)
    audit_record(actor=actor, obj=quote, action=action, before=before, note=note)
    return quote


def quote_submit(*, actor, quote: Quote) -> Quote:
    """Submit a draft or rejected quote: approved at once, or pending approval when a
    line's discount exceeds quote_discount_approval_percent."""
    authorize(actor, "sales.change_quote")
    with transaction.atomic():
        locked = _lock(actor, quote)
        _check_editable(locked)
        lines = _recompute(locked)  # priced under the decimal places in force now
        if not lines:
            raise Invalid(_("Add at least one line before submitting the quote."))
        now = timezone.now()
        pending = needs_approval(lines)
        _transition(
            actor=actor,
            quote=locked,
            action="submit",
            note="" if pending else "no discount above the approval threshold",
            amount=locked.amount,
            tax_amount=locked.tax_amount,
            total=locked.total,
            status=S.PENDING_APPROVAL if pending else S.APPROVED,
            submitted_at=now,
            submitted_by=actor,
            decided_by=None,
            decided_at=None if pending else now,
            decision_note="",
        )
    return locked


def _check_pending(quote: Quote, message: str) -> None:
    if quote.status != S.PENDING_APPROVAL:
        raise Conflict(message)


def _check_not_own(actor, quote: Quote) -> None:
    if actor.is_superuser:
        return
    if actor.pk in (quote.owner_id, quote.submitted_by_id):
        raise Forbidden(_("You cannot approve or reject your own quote."))


def _notify_decision(*, actor, quote: Quote, approved: bool) -> None:
    """The requester (who submitted, else the owner) hears of the decision."""
    recipient = quote.submitted_by or quote.owner
    if recipient is None or recipient.pk == actor.pk:
        return
    title = (
        _("Quote %(number)s approved") if approved else _("Quote %(number)s rejected")
    ) % {"number": quote.number}
    notify(
        recipient=recipient,
        title=title,
        body=quote.decision_note,
        url=reverse("sales:quote-detail", args=[quote.pk]),
        kind="sales.quote_decision",
        dedupe_key=f"quote-decision:{quote.pk}:{quote.version}",
    )


def quote_approve(*, actor, quote: Quote, note: str = "") -> Quote:
    """Approve a quote pending approval (core.approve_discount, within the approver's
    scope, not their own); the requester is notified."""
    authorize(actor, "core.approve_discount")
    with transaction.atomic():
        locked = _lock(actor, quote)
        _check_pending(locked, _("Only quotes pending approval can be approved."))
        _check_not_own(actor, locked)
        _transition(
            actor=actor,
            quote=locked,
            action="approve",
            note=(note or "").strip()[:255],
            status=S.APPROVED,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_note=(note or "").strip()[:255],
        )
        _notify_decision(actor=actor, quote=locked, approved=True)
    return locked


def quote_reject(*, actor, quote: Quote, note: str) -> Quote:
    """Reject a quote pending approval, saying why; it becomes editable again and the
    requester is notified."""
    authorize(actor, "core.approve_discount")
    note = (note or "").strip()
    if not note:
        raise Invalid(
            _("Say why the quote is rejected."), fields={"note": [_("Required.")]}
        )
    with transaction.atomic():
        locked = _lock(actor, quote)
        _check_pending(locked, _("Only quotes pending approval can be rejected."))
        _check_not_own(actor, locked)
        _transition(
            actor=actor,
            quote=locked,
            action="reject",
            note=note[:255],
            status=S.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_note=note[:255],
        )
        _notify_decision(actor=actor, quote=locked, approved=False)
    return locked


def quote_withdraw(*, actor, quote: Quote) -> Quote:
    """Take a quote pending approval back to draft (to change it, or to cancel it)."""
    authorize(actor, "sales.change_quote")
    with transaction.atomic():
        locked = _lock(actor, quote)
        _check_pending(locked, _("Only quotes pending approval can be withdrawn."))
        return _transition(
            actor=actor,
            quote=locked,
            action="withdraw",
            status=S.DRAFT,
            submitted_at=None,
            submitted_by=None,
        )


# Sending and the customer's answer


def _move(*, actor, quote: Quote, action: str, allowed, to, message, note=""):
    authorize(actor, "sales.change_quote")
    with transaction.atomic():
        locked = _lock(actor, quote)
        if locked.status not in allowed:
            raise Conflict(message)
        return _transition(
            actor=actor, quote=locked, action=action, note=note, status=to
        )


def quote_send(*, actor, quote: Quote) -> Quote:
    """Mark an approved quote as sent to the customer."""
    return _move(
        actor=actor,
        quote=quote,
        action="send",
        allowed={S.APPROVED},
        to=S.SENT,
        message=_("Only approved quotes can be sent."),
    )


def quote_accept(*, actor, quote: Quote) -> Quote:
    """The customer accepted a sent quote (a contract can be made from it)."""
    return _move(
        actor=actor,
        quote=quote,
        action="accept",
        allowed={S.SENT},
        to=S.ACCEPTED,
        message=_("Only sent quotes can be accepted."),
    )


def quote_decline(*, actor, quote: Quote, note: str = "") -> Quote:
    """The customer declined a sent quote; it can still be revised."""
    return _move(
        actor=actor,
        quote=quote,
        action="decline",
        allowed={S.SENT},
        to=S.DECLINED,
        message=_("Only sent quotes can be declined."),
        note=(note or "").strip()[:255],
    )


def quote_cancel(*, actor, quote: Quote, note: str = "") -> Quote:
    """Cancel a quote that is not final yet; sent quotes are never deleted."""
    return _move(
        actor=actor,
        quote=quote,
        action="cancel",
        allowed=CANCELLABLE,
        to=S.CANCELLED,
        message=_("This quote can no longer be cancelled."),
        note=(note or "").strip()[:255],
    )


# Revisions


def revision_number(quote: Quote) -> str:
    """BJ000012 → BJ000012-2 → BJ000012-3: the first number with the revision."""
    base = quote.number if quote.revision == 1 else quote.number.rsplit("-", 1)[0]
    return f"{base}-{quote.revision + 1}"


def _valid_until(quote: Quote, today: date) -> date | None:
    """A revision is valid as long as its predecessor was, counted from today."""
    if quote.valid_until is None:
        return None
    if quote.quoted_on is not None:
        return today + (quote.valid_until - quote.quoted_on)
    return quote.valid_until if quote.valid_until >= today else None


def quote_revise(*, actor, quote: Quote) -> Quote:
    """Copy a sent, approved, rejected or declined quote (header and lines) into a new
    draft with the next revision number; the old one becomes superseded."""
    authorize(actor, "sales.add_quote")
    with transaction.atomic():
        old = _lock(actor, quote)
        if old.status not in REVISABLE:
            raise Conflict(
                _("Only approved, sent, rejected or declined quotes can be revised.")
            )
        today = timezone.localdate()
        new = Quote(
            **{name: getattr(old, name) for name in HEADER_FIELDS},
            number=revision_number(old),
            revision=old.revision + 1,
            previous=old,
            owner_id=old.owner_id,
            department_id=old.department_id,
        )
        new.quoted_on, new.valid_until = today, _valid_until(old, today)
        if Quote.objects.filter(number=new.number).exists():
            raise Conflict(
                _("Quote %(number)s exists already.") % {"number": new.number}
            )
        try:
            with transaction.atomic():
                new.save()
        except IntegrityError:  # a concurrent revision took the number
            raise Conflict(
                _("Quote %(number)s exists already.") % {"number": new.number}
            ) from None
        QuoteLine.objects.bulk_create(
            QuoteLine(
                quote=new, **{name: getattr(line, name) for name in LINE_COPY_FIELDS}
            )
            for line in old.lines.all()
        )
        _recompute(new)
        new.save(update_fields=["amount", "tax_amount", "total", "updated_at"])
        audit_record(
            actor=actor,
            obj=new,
            action=AuditEvent.Action.CREATE,
            note=f"revision {new.revision} of {old.number}",
        )
        _transition(
            actor=actor,
            quote=old,
            action="revise",
            note=f"revised as {new.number}",
            status=S.SUPERSEDED,
        )
    return new
