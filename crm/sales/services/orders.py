"""S5 sales orders (销售订单): direct or called off an active contract, credit check at
confirmation, deliveries, cancellation.

Every service authorises, locks the order it changes (looked up within the actor's
data scope: 404 outside it), validates with field errors, recomputes lines and totals
through crm.sales.pricing (decimal places of `decimals_order`), bumps the order's
version and writes the audit trail (Y7) on it.

    draft ──confirm──> confirmed ──deliveries──> completed (everything delivered)
      └────────cancel (reason)──────┘   (while nothing is delivered and nothing paid)

Rules chosen here:
- An order from a contract takes its lines from the contract (product, price,
  discount, tax): by default the quantity not yet on a confirmed order of that
  contract, or less ("call-off" orders); more is refused, at creation and again at
  confirmation under a lock on the contract. Its lines cannot be added to, only
  their quantities lowered or removed. It creates no instalment: the contract's plan
  is the receivable.
- A direct order gets one instalment when confirmed: its total, due `payment_due_on`
  or 30 days after the order date.
- Credit check at confirmation (`order_confirm`): open receivables of the customer
  (the sum of amount − received of its open instalments, whoever owns them) plus, for
  a direct order, the order's total must not exceed the customer's credit limit
  (equal to it passes). A credit limit of 0 means *no limit set*: customers are
  created with 0, and refusing every order of a customer nobody has rated yet would
  stop sales, not risk. Over the limit the order is refused (409, with the numbers),
  unless the actor holds `sales.override_credit` and gives a reason: then it passes,
  and who, when and why are stored on the order and in its history. The customer row
  is locked for the check (as contract approval locks it), so two confirmations for
  one customer run one after the other and cannot both pass on the same headroom.
- Deliveries are recorded per line as quantities delivered now (never above what is
  left); the order is partly delivered, then delivered — and completed — when every
  line is delivered in full. Payment does not hold completion back: the money is
  followed on the receivable (the instalment), which stays open until paid.
- Cancelling needs a reason and is refused once anything is delivered or paid; a
  confirmed direct order's instalment stops being a receivable.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid, NotFound, invalid_from_django
from crm.core.models import AuditEvent
from crm.core.numbering import next_number
from crm.core.scopes import authorize
from crm.core.services import record_create, record_delete, record_update
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.sales.models import Contract, Instalment, SalesOrder, SalesOrderLine
from crm.sales.selectors.orders import contract_remaining, open_receivables
from crm.sales.services.contracts import (
    LINE_FIELDS,
    clean_currency,
    clean_line,
    full_clean_line,
    line_key,
    line_text,
    lock_customer,
    money_text,
    price_line,
    recompute_lines,
    to_decimal,
)

KIND = "order"
HEADER_FIELDS = (
    "customer",
    "contact",
    "ordered_on",
    "delivery_due_on",
    "payment_due_on",
    "shipping_address",
    "currency",
    "notes",
)
# What may change on a line called off a contract (the price is the contract's).
CONTRACT_LINE_FIELDS = ("quantity", "description", "sort_order")
PAYMENT_DAYS = 30
QUANTITY_STEP = Decimal("0.0001")
# The payment term must still be a date after the order date.
LATEST_ORDER_DATE = datetime.date.max - datetime.timedelta(days=PAYMENT_DAYS)

S = SalesOrder.Status
D = SalesOrder.Delivery


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _lock(actor, order: SalesOrder) -> SalesOrder:
    """The order, locked, if it is within the actor's data scope; else 404."""
    try:
        return SalesOrder.objects.visible_to(actor).select_for_update().get(pk=order.pk)
    except SalesOrder.DoesNotExist:
        raise NotFound(_("Sales order not found.")) from None


def _check_editable(order: SalesOrder) -> None:
    if not order.is_editable:
        raise Conflict(
            _("Only draft orders can be changed; this one is %(status)s.")
            % {"status": order.get_status_display()}
        )


def _save(order: SalesOrder, *fields: str) -> None:
    order.version += 1
    order.save(update_fields=[*fields, "version", "updated_at"])


def _record_change(*, actor, obj, before: dict, changes: dict, note: str, action=None):
    event = audit_record(
        actor=actor,
        obj=obj,
        action=action or AuditEvent.Action.UPDATE,
        before=before,
        note=note,
    )
    event.changes = {**event.changes, **changes}
    event.save(update_fields=["changes"])
    return event


def payment_due(order: SalesOrder) -> datetime.date:
    """When a direct order's instalment falls due."""
    return order.payment_due_on or order.ordered_on + datetime.timedelta(
        days=PAYMENT_DAYS
    )


# Header


def _clean_header(actor, data: dict, order: SalesOrder | None) -> dict:
    data = {name: data[name] for name in HEADER_FIELDS if name in data}
    errors: dict[str, list[str]] = {}

    def changed(name: str) -> bool:
        if name not in data:
            return False
        if order is None:
            return data[name] not in (None, "")
        value = data[name]
        return (value.pk if value is not None else None) != getattr(order, f"{name}_id")

    def current(name: str):
        return data[name] if name in data else getattr(order, name, None)

    customer, contact = current("customer"), current("contact")
    if customer is None:
        errors["customer"] = [_("Choose a customer.")]
    elif changed("customer"):
        if order is not None and order.contract_id:
            errors["customer"] = [
                _("An order from a contract is for the contract's customer.")
            ]
        elif not customer_queryset(actor=actor).filter(pk=customer.pk).exists():
            errors["customer"] = [_("No such customer within your data scope.")]
    if (
        contact is not None
        and customer is not None
        and (changed("contact") or changed("customer"))
        and not Contact.objects.filter(pk=contact.pk, customer=customer).exists()
    ):
        errors["contact"] = [_("The contact is not one of this customer's contacts.")]
    if "ordered_on" in data and data["ordered_on"] is None:
        errors["ordered_on"] = [_("Enter the order date.")]
    ordered_on = current("ordered_on")
    if ordered_on and ordered_on > LATEST_ORDER_DATE:
        errors["ordered_on"] = [_("Enter a real order date.")]
    for name in ("delivery_due_on", "payment_due_on"):
        value = current(name)
        if value and ordered_on and value < ordered_on and name in data:
            errors[name] = [_("This date is before the order date.")]
    if "currency" in data:
        data["currency"] = clean_currency(data["currency"], errors)
    for name in ("shipping_address", "notes"):
        if name in data:
            data[name] = (data[name] or "").strip()
    _refuse(errors)
    return data


def order_create(*, actor, data: dict) -> SalesOrder:
    """A new direct draft order (no contract), numbered from sales.order."""
    authorize(actor, "sales.add_salesorder")
    data = dict(data)
    data.pop("contract", None)
    if not data.get("ordered_on"):
        data["ordered_on"] = timezone.localdate()
    data = _clean_header(actor, data, None)
    with transaction.atomic():
        data["number"] = next_number("sales.order")
        return record_create(
            actor=actor, model=SalesOrder, data=data, perm="sales.add_salesorder"
        )


def _lock_contract(actor, contract_id: int) -> Contract:
    try:
        return (
            Contract.objects.visible_to(actor).select_for_update().get(pk=contract_id)
        )
    except Contract.DoesNotExist:
        raise NotFound(_("Contract not found.")) from None


def _quantity(value, name: str, errors: dict, *, allow_zero: bool) -> Decimal | None:
    number = to_decimal(value, name, errors)
    if number is None:
        return None
    if number < 0 or (number == 0 and not allow_zero):
        errors[name] = [_("The quantity must be above zero.")]
        return None
    if number != number.quantize(QUANTITY_STEP):
        errors[name] = [_("Use at most four decimal places.")]
        return None
    return number


def order_create_from_contract(
    *, actor, contract: Contract, quantities: dict | None = None, data=None
) -> SalesOrder:
    """A draft order called off an active contract: its customer, contact, currency
    and lines, each with the quantity not yet ordered, or the quantities given per
    contract line id (0 leaves a line out; more than is left is refused)."""
    authorize(actor, "sales.add_salesorder")
    data = dict(data or {})
    with transaction.atomic():
        locked = _lock_contract(actor, contract.pk)
        if locked.status != Contract.Status.ACTIVE:
            raise Conflict(
                _("Orders are made from active contracts; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        remaining = contract_remaining(locked)
        lines = list(locked.lines.select_related("product"))
        errors: dict[str, list[str]] = {}
        wanted: dict[int, Decimal] = {}
        given = {str(k): v for k, v in (quantities or {}).items()}
        unknown = set(given) - {str(line.pk) for line in lines}
        if unknown:
            errors["quantities"] = [
                _("Not a line of this contract: %(ids)s.")
                % {"ids": ", ".join(sorted(unknown))}
            ]
        for line in lines:
            left = max(remaining.get(line.pk, Decimal(0)), Decimal(0))
            name = f"quantity_{line.pk}"
            if quantities is None:
                wanted[line.pk] = left
                continue
            if str(line.pk) not in given:
                continue
            quantity = _quantity(given[str(line.pk)], name, errors, allow_zero=True)
            if quantity is None:
                continue
            if quantity > left:
                errors[name] = [
                    _("Only %(left)s of %(product)s is left to order on the contract.")
                    % {"left": f"{left.normalize():f}", "product": line_key(line)}
                ]
            wanted[line.pk] = quantity
        _refuse(errors)
        chosen = [(line, wanted[line.pk]) for line in lines if wanted.get(line.pk)]
        if not chosen:
            raise Conflict(
                _("Nothing is left to order on contract %(number)s.")
                % {"number": locked.number}
                if quantities is None
                else _("Enter a quantity for at least one line.")
            )
        header = {
            "customer": locked.customer,
            "contact": locked.contact,
            "currency": locked.currency,
            "ordered_on": data.get("ordered_on") or timezone.localdate(),
        }
        for name in ("delivery_due_on", "payment_due_on", "shipping_address", "notes"):
            if name in data:
                header[name] = data[name]
        header = _clean_header(actor, header, None)
        order = SalesOrder(
            **header,
            contract=locked,
            number=next_number("sales.order"),
            owner=actor,
            department_id=actor.department_id,
        )
        try:
            order.full_clean()
        except ValidationError as exc:
            raise invalid_from_django(exc) from None
        order.save()
        SalesOrderLine.objects.bulk_create(
            SalesOrderLine(
                order=order,
                contract_line=line,
                product_id=line.product_id,
                description=line.description,
                quantity=quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
                sort_order=line.sort_order,
            )
            for line, quantity in chosen
        )
        recompute_lines(order, SalesOrderLine, KIND)
        order.save(update_fields=["amount", "tax_amount", "total", "updated_at"])
        audit_record(
            actor=actor,
            obj=order,
            action=AuditEvent.Action.CREATE,
            note=f"from contract {locked.number}",
        )
    return order


def order_update(*, actor, obj: SalesOrder, data: dict, version=None) -> SalesOrder:
    """Change a draft's header; a stale version is refused (409)."""
    authorize(actor, "sales.change_salesorder")
    with transaction.atomic():
        locked = _lock(actor, obj)
        _check_editable(locked)
        data = _clean_header(actor, data, locked)
        return record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_salesorder",
            version=version,
        )


def order_delete(*, actor, order: SalesOrder) -> None:
    """A draft order may be deleted for real; a confirmed one is cancelled instead."""
    authorize(actor, "sales.delete_salesorder")
    with transaction.atomic():
        locked = _lock(actor, order)
        if locked.status != S.DRAFT:
            raise Conflict(
                _("Only a draft order can be deleted; cancel this one instead.")
            )
        record_delete(actor=actor, obj=locked, perm="sales.delete_salesorder")


# Lines


def _save_lines(*, actor, order: SalesOrder, before, key, was, now, note):
    recompute_lines(order, SalesOrderLine, KIND)
    _save(order, "amount", "tax_amount", "total")
    _record_change(
        actor=actor, obj=order, before=before, changes={key: [was, now]}, note=note
    )


def _check_call_off(order: SalesOrder, line: SalesOrderLine, quantity) -> None:
    """A line called off a contract stays within what the contract has left."""
    if not line.contract_line_id:
        return
    left = contract_remaining(order.contract, exclude_order=order).get(
        line.contract_line_id, Decimal(0)
    )
    if quantity > left:
        message = _(
            "Only %(left)s of %(product)s is left to order on the contract."
        ) % {
            "left": f"{max(left, Decimal(0)).normalize():f}",
            "product": line_key(line),
        }
        raise Invalid(message, fields={"quantity": [message]})


def order_line_add(*, actor, order: SalesOrder, data: dict) -> SalesOrderLine:
    """Add a product line to a direct draft order (price defaults to the list price)."""
    authorize(actor, "sales.change_salesorder")
    with transaction.atomic():
        locked = _lock(actor, order)
        _check_editable(locked)
        if locked.contract_id:
            raise Conflict(
                _("The lines of an order from a contract come from the contract.")
            )
        values = clean_line(actor, data)
        line = SalesOrderLine(order=locked, **values)
        if values.get("unit_price") is None:
            line.unit_price = line.product.list_price
        if "sort_order" not in values:
            last = locked.lines.aggregate(n=Max("sort_order"))["n"]
            line.sort_order = 1 if last is None else last + 1
        full_clean_line(line, "order")
        price_line(line, KIND)
        before = snapshot(locked)
        line.save()
        _save_lines(
            actor=actor,
            order=locked,
            before=before,
            key=line_key(line),
            was=None,
            now=line_text(line),
            note="line added",
        )
    return line


def _locked_line(actor, line: SalesOrderLine) -> tuple[SalesOrder, SalesOrderLine]:
    order = _lock(actor, SalesOrder(pk=line.order_id))
    try:
        return order, order.lines.select_related("product").get(pk=line.pk)
    except SalesOrderLine.DoesNotExist:
        raise NotFound(_("Order line not found.")) from None


def order_line_update(*, actor, line: SalesOrderLine, data: dict) -> SalesOrderLine:
    """Change a draft's line; on an order from a contract only quantity, description
    and order, within what the contract has left."""
    authorize(actor, "sales.change_salesorder")
    with transaction.atomic():
        order, locked = _locked_line(actor, line)
        _check_editable(order)
        if locked.contract_line_id:
            fixed = sorted(
                name
                for name in set(data) & set(LINE_FIELDS) - set(CONTRACT_LINE_FIELDS)
                if data[name] != getattr(locked, name)
            )
            if fixed:
                message = _("The contract sets this; change the quantity only.")
                raise Invalid(message, fields={name: [message] for name in fixed})
            values = clean_line(actor, data, locked, fields=CONTRACT_LINE_FIELDS)
        else:
            values = clean_line(actor, data, locked)
        was = line_text(locked)
        new_product = "product" in values and values["product"].pk != locked.product_id
        for name, value in values.items():
            setattr(locked, name, value)
        if values.get("unit_price", 0) is None or (
            new_product and "unit_price" not in values
        ):
            locked.unit_price = locked.product.list_price
        if "quantity" in values:
            _check_call_off(order, locked, locked.quantity)
        full_clean_line(locked, "order")
        price_line(locked, KIND)
        before = snapshot(order)
        locked.save()
        _save_lines(
            actor=actor,
            order=order,
            before=before,
            key=line_key(locked),
            was=was,
            now=line_text(locked),
            note="line changed",
        )
    return locked


def order_line_remove(*, actor, line: SalesOrderLine) -> None:
    """Remove a line from a draft order; the totals follow."""
    authorize(actor, "sales.change_salesorder")
    with transaction.atomic():
        order, locked = _locked_line(actor, line)
        _check_editable(order)
        before = snapshot(order)
        key, was = line_key(locked), line_text(locked)
        locked.delete()
        _save_lines(
            actor=actor,
            order=order,
            before=before,
            key=key,
            was=was,
            now=None,
            note="line removed",
        )


# Confirmation and the credit check


def credit_exposure(order: SalesOrder) -> tuple[Decimal, Decimal, Decimal]:
    """(open receivables of the customer, what this order adds, the sum)."""
    receivables = open_receivables(order.customer_id)
    added = Decimal(0) if order.contract_id else order.total
    return receivables, added, receivables + added


def credit_check(*, actor, order: SalesOrder, override_reason: str = "") -> dict:
    """Raise Conflict when the order would take the customer over its credit limit
    and is not overridden; returns the override fields to store (empty if none was
    needed). The caller holds the lock on the customer row."""
    customer = lock_customer(order.customer_id)
    limit = customer.credit_limit
    if not limit:  # 0: no limit set
        return {}
    receivables, added, exposure = credit_exposure(order)
    if exposure <= limit:
        return {}
    values = {
        "customer": customer.name,
        "receivables": money_text(receivables, KIND),
        "order": money_text(added, KIND),
        "exposure": money_text(exposure, KIND),
        "limit": money_text(limit, KIND),
        "over": money_text(exposure - limit, KIND),
    }
    reason = (override_reason or "").strip()
    if not reason:
        if order.contract_id:
            message = _(
                "Credit limit exceeded: %(customer)s owes %(receivables)s on open "
                "receivables, above its credit limit of %(limit)s by %(over)s."
            )
        else:
            message = _(
                "Credit limit exceeded: open receivables %(receivables)s + this order "
                "%(order)s = %(exposure)s, above the credit limit of %(limit)s of "
                "%(customer)s by %(over)s."
            )
        message = message % values
        raise Conflict(
            message,
            fields={
                "override_reason": [
                    _(
                        "Over the credit limit: a holder of the credit override "
                        "permission may confirm the order giving a reason."
                    )
                ]
            },
        )
    authorize(actor, "sales.override_credit")
    if len(reason) > 255:
        message = _("Keep the reason under 255 characters.")
        raise Invalid(message, fields={"override_reason": [message]})
    return {
        "credit_override_by": actor,
        "credit_override_at": timezone.now(),
        "credit_override_reason": reason,
        "_note": _(
            "credit override: %(exposure)s over the limit of %(limit)s: %(reason)s"
        )
        % {**values, "reason": reason},
    }


def order_confirm(*, actor, order: SalesOrder, override_reason: str = "") -> SalesOrder:
    """Confirm a draft: lines priced again, an order from a contract checked against
    what the (still active) contract has left, the credit check passed or overridden;
    a direct order's instalment becomes a receivable."""
    authorize(actor, "sales.change_salesorder")
    with transaction.atomic():
        locked = _lock(actor, order)
        if locked.status != S.DRAFT:
            raise Conflict(_("Only draft orders can be confirmed."))
        lines = recompute_lines(locked, SalesOrderLine, KIND)
        if not lines:
            raise Invalid(
                _("Add at least one line before confirming the order."),
                fields={"lines": [_("No lines.")]},
            )
        if locked.contract_id:
            contract = Contract.objects.select_for_update().get(pk=locked.contract_id)
            if contract.status != Contract.Status.ACTIVE:
                raise Conflict(
                    _(
                        "Contract %(number)s is %(status)s; its orders cannot be confirmed."
                    )
                    % {
                        "number": contract.number,
                        "status": contract.get_status_display(),
                    }
                )
            remaining = contract_remaining(contract, exclude_order=locked)
            errors = {}
            for line in lines:
                if not line.contract_line_id:
                    continue
                left = remaining.get(line.contract_line_id, Decimal(0))
                if line.quantity > left:
                    errors[f"quantity_{line.pk}"] = [
                        _(
                            "Only %(left)s of %(product)s is left to order on the "
                            "contract."
                        )
                        % {
                            "left": f"{max(left, Decimal(0)).normalize():f}",
                            "product": line_key(line),
                        }
                    ]
            if errors:
                first = next(iter(errors.values()))[0]
                raise Conflict(first, fields=errors)
        override = credit_check(
            actor=actor, order=locked, override_reason=override_reason
        )
        note = override.pop("_note", "")
        if not locked.contract_id and locked.total > 0:
            instalment = Instalment.objects.create(
                order=locked,
                customer_id=locked.customer_id,
                owner_id=locked.owner_id,
                department_id=locked.department_id,
                sequence=1,
                due_on=payment_due(locked),
                amount=locked.total,
                is_open=True,
            )
            audit_record(
                actor=actor,
                obj=instalment,
                action=AuditEvent.Action.CREATE,
                note=f"receivable of order {locked.number}",
            )
        before = snapshot(locked)
        values = {
            "amount": locked.amount,
            "tax_amount": locked.tax_amount,
            "total": locked.total,
            "status": S.CONFIRMED,
            "confirmed_at": timezone.now(),
            **override,
        }
        for name, value in values.items():
            setattr(locked, name, value)
        _save(locked, *values)
        audit_record(
            actor=actor, obj=locked, action="confirm", before=before, note=note[:255]
        )
    return locked


# Deliveries


def order_deliver(
    *,
    actor,
    order: SalesOrder,
    quantities: dict,
    delivered_on: datetime.date | None = None,
) -> SalesOrder:
    """Record what was delivered now, per line id (added to what was delivered
    before, never above the line's quantity). Everything delivered: the order is
    delivered on that date, and completed."""
    authorize(actor, "sales.change_salesorder")
    today = timezone.localdate()
    delivered_on = delivered_on or today
    with transaction.atomic():
        locked = _lock(actor, order)
        if locked.status != S.CONFIRMED:
            raise Conflict(_("Deliveries are recorded on confirmed orders."))
        errors: dict[str, list[str]] = {}
        if delivered_on > today:
            errors["delivered_on"] = [_("A delivery cannot be dated in the future.")]
        elif delivered_on < locked.ordered_on:
            errors["delivered_on"] = [_("This date is before the order date.")]
        lines = {
            line.pk: line
            for line in locked.lines.select_related("product").select_for_update()
        }
        given = {str(k): v for k, v in (quantities or {}).items()}
        unknown = set(given) - {str(pk) for pk in lines}
        if unknown:
            errors["quantities"] = [
                _("Not a line of this order: %(ids)s.")
                % {"ids": ", ".join(sorted(unknown))}
            ]
        now: dict[int, Decimal] = {}
        for pk, line in lines.items():
            if str(pk) not in given or given[str(pk)] in (None, ""):
                continue
            name = f"quantity_{pk}"
            quantity = _quantity(given[str(pk)], name, errors, allow_zero=True)
            if not quantity:
                continue
            left = line.quantity - line.delivered_quantity
            if quantity > left:
                errors[name] = [
                    _("Only %(left)s of %(product)s is left to deliver.")
                    % {"left": f"{left.normalize():f}", "product": line_key(line)}
                ]
                continue
            now[pk] = quantity
        if not now and not errors:
            errors["quantities"] = [
                _("Enter a quantity delivered for at least one line.")
            ]
        _refuse(errors)
        changes = {}
        for pk, quantity in now.items():
            line = lines[pk]
            was = line.delivered_quantity
            line.delivered_quantity = was + quantity
            line.save(update_fields=["delivered_quantity"])
            changes[f"{line.sort_order}. {line_key(line)}"] = [
                f"{was.normalize():f} / {line.quantity.normalize():f}",
                f"{line.delivered_quantity.normalize():f} / {line.quantity.normalize():f}",
            ]
        before = snapshot(locked)
        done = all(line.delivered_quantity >= line.quantity for line in lines.values())
        values = {"delivery_status": D.DELIVERED if done else D.PARTIAL}
        if done:
            values.update(delivered_on=delivered_on, status=S.COMPLETED)
        for name, value in values.items():
            setattr(locked, name, value)
        _save(locked, *values)
        _record_change(
            actor=actor,
            obj=locked,
            before=before,
            changes=changes,
            note=f"delivery {delivered_on.isoformat()}",
            action="deliver",
        )
    return locked


# Cancellation


def order_cancel(*, actor, order: SalesOrder, reason: str) -> SalesOrder:
    """Cancel a draft or confirmed order, giving the reason, while nothing of it is
    delivered or paid; its instalment stops being a receivable."""
    authorize(actor, "sales.change_salesorder")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(
            _("Give the reason for cancelling the order."),
            fields={"reason": [_("Required.")]},
        )
    if len(reason) > 255:
        message = _("Keep the reason under 255 characters.")
        raise Invalid(message, fields={"reason": [message]})
    with transaction.atomic():
        locked = _lock(actor, order)
        if locked.status not in (S.DRAFT, S.CONFIRMED):
            raise Conflict(_("Only draft or confirmed orders can be cancelled."))
        if (
            locked.delivery_status != D.PENDING
            or locked.lines.filter(delivered_quantity__gt=0).exists()
        ):
            raise Conflict(
                _("Part of this order is delivered; it cannot be cancelled.")
            )
        instalments = list(locked.instalments.select_for_update())
        if any(i.received > 0 for i in instalments):
            raise Conflict(
                _("Payments were received on this order; it cannot be cancelled.")
            )
        for instalment in instalments:
            if not instalment.is_open:
                continue
            before = snapshot(instalment)
            instalment.is_open = False
            instalment.save(update_fields=["is_open", "updated_at"])
            audit_record(
                actor=actor,
                obj=instalment,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note=f"order {locked.number} cancelled",
            )
        before = snapshot(locked)
        locked.status, locked.cancel_reason = S.CANCELLED, reason
        _save(locked, "status", "cancel_reason")
        audit_record(
            actor=actor, obj=locked, action="cancel", before=before, note=reason
        )
    return locked
