"""D4 sell-in (进货): partners' purchase orders to HQ, HQ approval with the credit
check, and goods received.

    draft ──submit──> submitted ──approve──> approved ──receipts──> received
      │                  │  └──reject──> rejected
      └──cancel──────────┴──> cancelled

Who may act:
- Partner users (portal) create, edit (draft), submit and cancel (draft or submitted)
  their own partner's orders, and record receipts of its approved orders. Another
  partner's order is not found (404).
- HQ users approve or reject (`channels.approve_purchaseorder`) and record receipts
  (`channels.change_purchaseorder`), each only for orders of partners inside their
  channel scope (404 outside it).

Rules chosen here:
- Prices: the unit price of a line is the partner's price under the agreement in force
  on the order date (`agreement_in_force`, `partner_price`: the agreement price list's
  price, else the list price, less the agreement discount); without an agreement in
  force, the product's list price. Prices are set again on every edit of a draft.
- Product scope: an agreement with product categories allows only products in those
  categories or below them; any other product is refused, naming it.
- Owner and department of an order are the partner's channel manager and department,
  copied at creation (so HQ data scopes apply to the order like to the partner).
- Credit check at approval: open exposure (the totals of the partner's approved orders
  not yet fully received, crm.channels.selectors.sellin) + this order's total must not
  exceed the partner's credit limit (equal passes; 0 = no limit set). Over it the
  approval is refused (409 with the numbers) unless the approver holds
  `channels.override_credit_purchaseorder` and gives a reason: it is stored in
  `decision_note` and the audit trail. The partner row is locked (SELECT … FOR UPDATE)
  during the check, so two approvals for one partner run one after the other.
- Receipts: per line, a quantity above zero and at most what is still open; dated not
  in the future and not before the order date. Lines are locked while their received
  quantities grow; the order is `received` once every line is received in full.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.channels.models import (
    Partner,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
)
from crm.channels.portal.access import membership
from crm.channels.selectors.agreements import agreement_in_force, partner_price
from crm.channels.selectors.partners_scope import of_visible_partners
from crm.channels.selectors.sellin import open_exposure
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.notifications import notify
from crm.core.numbering import next_number
from crm.core.scopes import authorize
from crm.products.models import Product

S = PurchaseOrder.Status
KIND = "order"  # decimal places of sales orders
QUANTITY_STEP = Decimal("0.0001")
MAX_QUANTITY = Decimal("10000000000")
HEADER_FIELDS = ("wanted_on", "shipping_address", "notes")
MAX_LINES = 200


def _refuse(errors: dict[str, list[str]], error=Invalid) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise error(first, fields=errors)


def _money_text(value: Decimal) -> str:
    return f"{round_money(value, KIND):,}"


def _qty_text(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def product_label(product: Product) -> str:
    return f"{product.code} {product.name}"


# Who acts


def _partner_of(actor) -> Partner | None:
    member = membership(actor)
    return member.partner if member else None


def _check_partner_user(actor, partner: Partner) -> None:
    """A portal write: the actor is a user of this partner (else 404: not theirs)."""
    mine = _partner_of(actor)
    if mine is None or not actor.is_active:
        raise Forbidden(_("Only the partner's users may do this."))
    if mine.pk != partner.pk:
        raise NotFound(_("Purchase order not found."))


def _lock(
    actor, order: PurchaseOrder, *, hq_perm: str | None = None, portal: bool = True
) -> PurchaseOrder:
    """The order, locked. A partner user reaches only its partner's orders (and only
    for `portal` actions); an HQ user needs `hq_perm` (when given) and the partner
    inside its channel scope; else 404."""
    mine = _partner_of(actor)
    qs = PurchaseOrder.objects.select_for_update()
    if mine is not None:
        if not portal:
            raise Forbidden(_("You do not have permission to do this."))
        qs = qs.filter(partner=mine)
    else:
        if hq_perm is None:
            raise Forbidden(_("Only the partner's users may do this."))
        authorize(actor, hq_perm)
        qs = of_visible_partners(qs, actor)
    try:
        return qs.get(pk=order.pk)
    except PurchaseOrder.DoesNotExist:
        raise NotFound(_("Purchase order not found.")) from None


def _save(order: PurchaseOrder, *fields: str) -> None:
    order.version += 1
    order.save(update_fields=[*fields, "version", "updated_at"])


def _check_partner_active(partner: Partner) -> None:
    if partner.status != Partner.Status.ACTIVE:
        raise Conflict(
            _("%(partner)s is %(status)s and cannot place purchase orders.")
            % {"partner": partner.name, "status": partner.get_status_display()}
        )


# Lines: shape, scope, prices


def _quantity(value, name: str, errors: dict) -> Decimal | None:
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(str(value).strip()) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        number = None
        errors[name] = [_("Enter a number.")]
        return None
    if number is None:
        errors[name] = [_("Enter a quantity.")]
        return None
    if not number.is_finite() or number <= 0:
        errors[name] = [_("The quantity must be above zero.")]
        return None
    if number >= MAX_QUANTITY:
        errors[name] = [_("The quantity is too large.")]
        return None
    if number != number.quantize(QUANTITY_STEP):
        errors[name] = [_("Use at most four decimal places.")]
        return None
    return number


def _in_scope(agreement, product: Product, categories) -> bool:
    if agreement is None or not categories:
        return True
    path = product.category.path if product.category_id else None
    return bool(path) and any(path.startswith(c.path) for c in categories)


def price_lines(partner: Partner, on: datetime.date, rows: list[dict]) -> list[dict]:
    """Check the line rows ({"product": Product or id, "quantity"}) and price them:
    [{"product", "quantity", "unit_price", "amount"}]. Errors name the row (lines.N.*)
    and the product."""
    if not rows:
        raise Invalid(
            _("Add at least one line."), fields={"lines": [_("Add at least one line.")]}
        )
    if len(rows) > MAX_LINES:
        message = _("At most %(n)s lines.") % {"n": MAX_LINES}
        raise Invalid(message, fields={"lines": [message]})
    agreement = agreement_in_force(partner, on)
    categories = list(agreement.categories.all()) if agreement is not None else []
    ids = {
        getattr(row.get("product"), "pk", row.get("product"))
        for row in rows
        if row.get("product") is not None
    }
    products = {
        p.pk: p
        for p in Product.objects.filter(
            pk__in=[i for i in ids if isinstance(i, int)]
        ).select_related("category")
    }
    errors: dict[str, list[str]] = {}
    priced = []
    for index, row in enumerate(rows):
        prefix = f"lines.{index}"
        ref = row.get("product")
        product = products.get(getattr(ref, "pk", ref))
        if product is None:
            errors[f"{prefix}.product"] = [_("Choose a product.")]
            continue
        if product.status != Product.Status.ACTIVE:
            errors[f"{prefix}.product"] = [
                _("%(product)s is not sold any more.")
                % {"product": product_label(product)}
            ]
            continue
        if not _in_scope(agreement, product, categories):
            errors[f"{prefix}.product"] = [
                _(
                    "%(product)s is outside the product scope of agreement "
                    "%(agreement)s (%(categories)s)."
                )
                % {
                    "product": product_label(product),
                    "agreement": agreement.number,
                    "categories": "、".join(c.name for c in categories),
                }
            ]
            continue
        quantity = _quantity(row.get("quantity"), f"{prefix}.quantity", errors)
        if quantity is None:
            continue
        unit_price = (
            partner_price(agreement, product)
            if agreement is not None
            else round_money(product.list_price, KIND)
        )
        amount = round_money(quantity * unit_price, KIND, field=f"{prefix}.quantity")
        priced.append(
            {
                "product": product,
                "quantity": quantity,
                "unit_price": unit_price,
                "amount": amount,
            }
        )
    _refuse(errors)
    return priced


def _write_lines(order: PurchaseOrder, priced: list[dict]) -> None:
    order.lines.all().delete()
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(order=order, **values) for values in priced
    )
    order.total = sum((v["amount"] for v in priced), Decimal("0"))


def _clean_header(data: dict, ordered_on: datetime.date) -> dict:
    values = {name: data[name] for name in HEADER_FIELDS if name in data}
    errors: dict[str, list[str]] = {}
    wanted = values.get("wanted_on")
    if wanted and wanted < ordered_on:
        errors["wanted_on"] = [_("This date is before the order date.")]
    for name in ("shipping_address", "notes"):
        if name in values:
            values[name] = (values[name] or "").strip()
    if len(values.get("shipping_address", "")) > 255:
        errors["shipping_address"] = [_("Keep it under 255 characters.")]
    _refuse(errors)
    return values


def _lines_text(lines) -> dict:
    return {
        f"{i}. {product_label(line['product'])}": f"{_qty_text(line['quantity'])} × "
        f"{line['unit_price']}"
        for i, line in enumerate(lines, 1)
    }


# Partner side (portal)


def purchase_order_create(
    *, actor, partner: Partner, data: dict, lines: list[dict]
) -> PurchaseOrder:
    """A partner user's draft purchase order to HQ, numbered from
    channels.purchase_order, dated today, owned by the partner's channel manager."""
    _check_partner_user(actor, partner)
    with transaction.atomic():
        partner = Partner.objects.get(pk=partner.pk)
        _check_partner_active(partner)
        today = timezone.localdate()
        header = _clean_header(data, today)
        priced = price_lines(partner, today, lines)
        order = PurchaseOrder(
            **header,
            number=next_number("channels.purchase_order"),
            partner=partner,
            ordered_on=today,
            owner_id=partner.owner_id,
            department_id=partner.department_id,
        )
        order.save()
        _write_lines(order, priced)
        order.save(update_fields=["total"])
        event = audit_record(actor=actor, obj=order, action=AuditEvent.Action.CREATE)
        event.changes = {**event.changes, "lines": [None, _lines_text(priced)]}
        event.save(update_fields=["changes"])
    return order


def purchase_order_update(
    *,
    actor,
    order: PurchaseOrder,
    data: dict,
    lines: list[dict] | None,
    version: int | None,
) -> PurchaseOrder:
    """Change a draft (header and, when given, all its lines, priced again); a stale
    version is refused (409)."""
    with transaction.atomic():
        locked = _lock(actor, order)
        if version is None:
            message = _("The record version is missing.")
            raise Invalid(message, fields={"version": [_("This field is required.")]})
        if locked.version != version:
            raise Conflict(
                _(
                    "This purchase order was changed by someone else meanwhile. "
                    "Reload it and make your change again."
                )
            )
        if locked.status != S.DRAFT:
            raise Conflict(
                _("Only draft purchase orders can be changed; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        _check_partner_active(locked.partner)
        before = snapshot(locked)
        header = _clean_header(data, locked.ordered_on)
        for name, value in header.items():
            setattr(locked, name, value)
        changes = {}
        if lines is not None:
            was = _lines_text(
                {
                    "product": line.product,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
                for line in locked.lines.select_related("product")
            )
            priced = price_lines(locked.partner, locked.ordered_on, lines)
            _write_lines(locked, priced)
            now = _lines_text(priced)
            if was != now:
                changes["lines"] = [was, now]
        _save(locked, *header, "total")
        event = audit_record(
            actor=actor, obj=locked, action=AuditEvent.Action.UPDATE, before=before
        )
        if changes:
            event.changes = {**event.changes, **changes}
            event.save(update_fields=["changes"])
    return locked


def purchase_order_submit(*, actor, order: PurchaseOrder) -> PurchaseOrder:
    """Send a draft to HQ for approval; the channel manager is notified."""
    with transaction.atomic():
        locked = _lock(actor, order)
        if locked.status != S.DRAFT:
            raise Conflict(
                _(
                    "Only draft purchase orders can be submitted; this one is %(status)s."
                )
                % {"status": locked.get_status_display()}
            )
        partner = locked.partner
        _check_partner_active(partner)
        if not locked.lines.exists():
            raise Invalid(
                _("Add at least one line before submitting."),
                fields={"lines": [_("Add at least one line.")]},
            )
        before = snapshot(locked)
        locked.status, locked.submitted_by = S.SUBMITTED, actor
        _save(locked, "status", "submitted_by")
        audit_record(actor=actor, obj=locked, action="submit", before=before)
        manager = partner.owner
        if manager is not None:
            notify(
                recipient=manager,
                title=_("Purchase order %(number)s from %(partner)s awaits approval")
                % {"number": locked.number, "partner": partner.name},
                body=_("Total %(total)s.") % {"total": _money_text(locked.total)},
                url=reverse("channels:purchaseorder-detail", args=[locked.pk]),
                kind="channels.purchaseorder.submitted",
            )
    return locked


def purchase_order_cancel(*, actor, order: PurchaseOrder) -> PurchaseOrder:
    """Withdraw a draft or submitted order (not once HQ decided)."""
    with transaction.atomic():
        locked = _lock(actor, order)
        if locked.status not in (S.DRAFT, S.SUBMITTED):
            raise Conflict(
                _(
                    "Only draft or submitted purchase orders can be cancelled; "
                    "this one is %(status)s."
                )
                % {"status": locked.get_status_display()}
            )
        before = snapshot(locked)
        locked.status = S.CANCELLED
        _save(locked, "status")
        audit_record(actor=actor, obj=locked, action="cancel", before=before)
    return locked


# HQ decision


def _tell_partner(order: PurchaseOrder, title: str, body: str, kind: str) -> None:
    url = reverse("portal:purchaseorder-detail", args=[order.pk])
    for member in order.partner.members.select_related("user"):
        notify(recipient=member.user, title=title, body=body, url=url, kind=kind)


def _decided(order: PurchaseOrder) -> None:
    if order.status != S.SUBMITTED:
        raise Conflict(
            _(
                "Only submitted purchase orders can be approved or rejected; "
                "this one is %(status)s."
            )
            % {"status": order.get_status_display()}
        )


def credit_position(order: PurchaseOrder) -> dict:
    """The numbers of the credit check for `order` (for pages and refusals)."""
    limit = order.partner.credit_limit
    exposure = open_exposure(order.partner_id, exclude_order_id=order.pk)
    total = exposure + order.total
    return {
        "limit": limit,
        "exposure": exposure,
        "order": order.total,
        "total": total,
        "over": bool(limit) and total > limit,
    }


def purchase_order_approve(
    *, actor, order: PurchaseOrder, note: str = "", override_reason: str = ""
) -> PurchaseOrder:
    """Approve a submitted order after the credit check (see the module docstring);
    the partner's users are notified."""
    authorize(actor, "channels.approve_purchaseorder")
    note = (note or "").strip()
    reason = (override_reason or "").strip()
    with transaction.atomic():
        locked = _lock(
            actor, order, hq_perm="channels.approve_purchaseorder", portal=False
        )
        _decided(locked)
        # The partner row is locked for the check: concurrent approvals queue here.
        partner = Partner.objects.select_for_update().get(pk=locked.partner_id)
        locked.partner = partner
        position = credit_position(locked)
        decision = note
        audit_note = ""
        if position["over"]:
            values = {
                "partner": partner.name,
                "exposure": _money_text(position["exposure"]),
                "order": _money_text(position["order"]),
                "total": _money_text(position["total"]),
                "limit": _money_text(position["limit"]),
                "over": _money_text(position["total"] - position["limit"]),
            }
            if not reason:
                raise Conflict(
                    _(
                        "Credit limit exceeded: open orders %(exposure)s + this order "
                        "%(order)s = %(total)s, above the credit limit of %(limit)s of "
                        "%(partner)s by %(over)s."
                    )
                    % values,
                    fields={
                        "override_reason": [
                            _(
                                "Over the credit limit: a holder of the credit override "
                                "permission may approve the order giving a reason."
                            )
                        ]
                    },
                )
            authorize(actor, "channels.override_credit_purchaseorder")
            override = _("Credit override: %(reason)s") % {"reason": reason}
            decision = f"{note} · {override}" if note else override
            audit_note = _(
                "credit override: %(total)s over the limit of %(limit)s: %(reason)s"
            ) % {**values, "reason": reason}
        if len(decision) > 255:
            message = _("Keep the note and reason under 255 characters.")
            raise Invalid(
                message,
                fields={"override_reason" if reason else "note": [message]},
            )
        before = snapshot(locked)
        locked.status = S.APPROVED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.decision_note = decision
        _save(locked, "status", "decided_by", "decided_at", "decision_note")
        audit_record(
            actor=actor,
            obj=locked,
            action="approve",
            before=before,
            note=audit_note[:255],
        )
        _tell_partner(
            locked,
            _("Purchase order %(number)s approved") % {"number": locked.number},
            note,
            "channels.purchaseorder.approved",
        )
    return locked


def purchase_order_reject(*, actor, order: PurchaseOrder, note: str) -> PurchaseOrder:
    """Reject a submitted order with a note; the partner's users are notified."""
    authorize(actor, "channels.approve_purchaseorder")
    note = (note or "").strip()
    if not note:
        raise Invalid(
            _("Give the reason for rejecting the order."),
            fields={"note": [_("Required.")]},
        )
    if len(note) > 255:
        message = _("Keep the note under 255 characters.")
        raise Invalid(message, fields={"note": [message]})
    with transaction.atomic():
        locked = _lock(
            actor, order, hq_perm="channels.approve_purchaseorder", portal=False
        )
        _decided(locked)
        before = snapshot(locked)
        locked.status = S.REJECTED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.decision_note = note
        _save(locked, "status", "decided_by", "decided_at", "decision_note")
        audit_record(actor=actor, obj=locked, action="reject", before=before, note=note)
        _tell_partner(
            locked,
            _("Purchase order %(number)s rejected") % {"number": locked.number},
            note,
            "channels.purchaseorder.rejected",
        )
    return locked


# Goods received


def purchase_order_receive(
    *,
    actor,
    order: PurchaseOrder,
    quantities: dict,
    received_on: datetime.date | None = None,
) -> Receipt:
    """Record goods received now, per order line id: above zero and at most the
    line's open quantity (else refused, naming the line). The order is `received`
    when every line is received in full."""
    today = timezone.localdate()
    received_on = received_on or today
    with transaction.atomic():
        locked = _lock(actor, order, hq_perm="channels.change_purchaseorder")
        if locked.status != S.APPROVED:
            raise Conflict(
                _(
                    "Goods are received on approved purchase orders; "
                    "this one is %(status)s."
                )
                % {"status": locked.get_status_display()}
            )
        errors: dict[str, list[str]] = {}
        if received_on > today:
            errors["received_on"] = [_("A receipt cannot be dated in the future.")]
        elif received_on < locked.ordered_on:
            errors["received_on"] = [_("This date is before the order date.")]
        lines = {
            line.pk: line
            for line in locked.lines.select_related("product")
            .select_for_update()
            .order_by("pk")
        }
        given = {str(k): v for k, v in (quantities or {}).items()}
        unknown = sorted(set(given) - {str(pk) for pk in lines})
        if unknown:
            errors["lines"] = [
                _("Not a line of this order: %(ids)s.") % {"ids": ", ".join(unknown)}
            ]
        now: dict[int, Decimal] = {}
        for number, (pk, line) in enumerate(lines.items(), 1):
            raw = given.get(str(pk))
            if raw in (None, ""):
                continue
            name = f"quantity_{pk}"
            label = _("Line %(n)s (%(product)s)") % {
                "n": number,
                "product": product_label(line.product),
            }
            line_errors: dict[str, list[str]] = {}
            quantity = _quantity(raw, name, line_errors)
            if quantity is None:
                errors[name] = [f"{label}: {line_errors[name][0]}"]
                continue
            left = line.quantity - line.received_quantity
            if quantity > left:
                errors[name] = [
                    _("%(line)s: only %(left)s is still open to receive.")
                    % {"line": label, "left": _qty_text(left)}
                ]
                continue
            now[pk] = quantity
        if not now and not errors:
            errors["lines"] = [_("Enter a quantity received for at least one line.")]
        _refuse(errors)
        receipt = Receipt.objects.create(
            order=locked,
            partner_id=locked.partner_id,
            received_on=received_on,
            created_by=actor,
        )
        receipt_lines, changes = [], {}
        for pk, quantity in now.items():
            line = lines[pk]
            was = line.received_quantity
            line.received_quantity = was + quantity
            line.save(update_fields=["received_quantity"])
            receipt_lines.append(
                ReceiptLine(
                    receipt=receipt,
                    order_line=line,
                    partner_id=locked.partner_id,
                    product_id=line.product_id,
                    received_on=received_on,
                    quantity=quantity,
                    amount=round_money(quantity * line.unit_price, KIND),
                )
            )
            changes[product_label(line.product)] = [
                f"{_qty_text(was)} / {_qty_text(line.quantity)}",
                f"{_qty_text(line.received_quantity)} / {_qty_text(line.quantity)}",
            ]
        ReceiptLine.objects.bulk_create(receipt_lines)
        audit_record(actor=actor, obj=receipt, action=AuditEvent.Action.CREATE)
        before = snapshot(locked)
        if all(line.received_quantity >= line.quantity for line in lines.values()):
            locked.status = S.RECEIVED
        _save(locked, "status")
        event = audit_record(
            actor=actor,
            obj=locked,
            action="receive",
            before=before,
            note=f"receipt {received_on.isoformat()}",
        )
        event.changes = {**event.changes, **changes}
        event.save(update_fields=["changes"])
    return receipt
