"""S4 contracts (合同): header and lines, payment plan, approval, completion or
termination, attachments.

Every service authorises, locks the contract it changes (looked up within the actor's
data scope: 404 outside it), validates with field errors, recomputes lines and totals
through crm.sales.pricing (decimal places of `decimals_contract`) in the same
transaction, bumps the contract's version, and writes the audit trail (Y7) on it.

Status flow:

    draft ──submit──> pending_approval ──approve──> active ──complete──> completed
      ^                 │      │                      └──terminate──> terminated
      └──reject (note)──┘      └──withdraw──> draft

- Only drafts are editable: header, lines and the payment plan (instalments).
- Submit and approval both refuse a plan that does not add up exactly to the total,
  naming the difference.
- Approval (`sales.approve_contract`, not on one's own contract) opens the instalments
  as receivables (`is_open`), with the contract's customer, owner and department
  copied onto them; the customer row is locked meanwhile, as the order credit check
  locks it, so a confirm running at the same time counts these receivables.
- Completion needs every instalment received in full and no order of the contract
  still draft or confirmed.
- Termination (`sales.approve_contract`, with a reason) closes what is unpaid: every
  instalment not received in full stops being a receivable (`is_open` False). Money
  already received stays on its instalment; the unpaid remainder of a partly paid
  instalment is written off with it (an instalment is not split). Orders of the
  contract are left as they are: a draft can no longer be confirmed.
- The owner is told (in the app and by e-mail) when their contract is approved,
  rejected or terminated by someone else.
"""

import calendar
import datetime
import os
import uuid
import zipfile
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound, invalid_from_django
from crm.core.models import AuditEvent
from crm.core.money import MAX_AMOUNT, decimals_for, quantum, round_money
from crm.core.notifications import notify
from crm.core.numbering import next_number
from crm.core.scopes import authorize, can
from crm.core.services import record_create, record_delete, record_update
from crm.customers.models import Contact, Customer
from crm.customers.selectors import customer_queryset
from crm.products.models import Product
from crm.sales.models import (
    Contract,
    ContractAttachment,
    ContractLine,
    Instalment,
    Opportunity,
    Quote,
    SalesOrder,
)
from crm.sales.pricing import apply_line_amounts, document_totals

KIND = "contract"
HEADER_FIELDS = (
    "title",
    "customer",
    "contact",
    "opportunity",
    "signed_on",
    "start_on",
    "end_on",
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
INSTALMENT_FIELDS = ("sequence", "due_on", "amount", "note")
HUNDRED = Decimal(100)
MAX_INSTALMENTS = 120

S = Contract.Status
# Quotes a contract may be made from: approved, sent to the customer, or accepted.
QUOTE_STATUSES = frozenset(
    {Quote.Status.APPROVED, Quote.Status.SENT, Quote.Status.ACCEPTED}
)


def _refuse(errors: dict[str, list[str]]) -> None:
    """Raise one Invalid carrying every field error found."""
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _lock(actor, contract: Contract) -> Contract:
    """The contract, locked, if it is within the actor's data scope; else 404."""
    try:
        return (
            Contract.objects.visible_to(actor).select_for_update().get(pk=contract.pk)
        )
    except Contract.DoesNotExist:
        raise NotFound(_("Contract not found.")) from None


def _check_editable(contract: Contract) -> None:
    if not contract.is_editable:
        raise Conflict(
            _("Only draft contracts can be changed; this one is %(status)s.")
            % {"status": contract.get_status_display()}
        )


def _save(contract: Contract, *fields: str) -> None:
    """Save changed columns of a locked contract and bump its version."""
    contract.version += 1
    contract.save(update_fields=[*fields, "version", "updated_at"])


def money_text(value, kind: str = KIND) -> str:
    """An amount as people read it in a message: 12,345.60 (decimal places of `kind`)."""
    return formats.number_format(round_money(value, kind), force_grouping=True)


def _record_change(*, actor, obj, before: dict, key: str, was, now, note: str):
    """An update event on `obj` that also shows a change of one of its parts (a line,
    an instalment, an attachment) under `key`."""
    event = audit_record(
        actor=actor, obj=obj, action=AuditEvent.Action.UPDATE, before=before, note=note
    )
    event.changes = {**event.changes, key: [was, now]}
    event.save(update_fields=["changes"])
    return event


# Header


def _in(queryset, obj) -> bool:
    return obj is not None and queryset.filter(pk=obj.pk).exists()


def clean_currency(value, errors: dict) -> str:
    currency = (value or "").strip().upper() or "CNY"
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        errors["currency"] = [_("Enter a three-letter currency code (CNY).")]
    return currency


def _clean_header(actor, data: dict, contract: Contract | None) -> dict:
    """Only header fields; the customer, contact and opportunity within the actor's
    scopes and consistent with each other; the end not before the start."""
    data = {name: data[name] for name in HEADER_FIELDS if name in data}
    errors: dict[str, list[str]] = {}

    def changed(name: str) -> bool:
        if name not in data:
            return False
        if contract is None:
            return data[name] not in (None, "")
        value = data[name]
        return (value.pk if value is not None else None) != getattr(
            contract, f"{name}_id"
        )

    def current(name: str):
        return data[name] if name in data else getattr(contract, name, None)

    if "title" in data or contract is None:
        data["title"] = (data.get("title") or "").strip()
        if not data["title"]:
            errors["title"] = [_("Enter a title.")]
    if current("customer") is None:
        errors["customer"] = [_("Choose a customer.")]
    elif changed("customer") and not _in(
        customer_queryset(actor=actor), data["customer"]
    ):
        errors["customer"] = [_("No such customer within your data scope.")]
    customer, contact = current("customer"), current("contact")
    if (
        contact is not None
        and customer is not None
        and (changed("contact") or changed("customer"))
        and not Contact.objects.filter(pk=contact.pk, customer=customer).exists()
    ):
        errors["contact"] = [_("The signatory is not one of this customer's contacts.")]
    opportunity = current("opportunity")
    if opportunity is not None and (changed("opportunity") or changed("customer")):
        if changed("opportunity") and not _in(
            Opportunity.objects.visible_to(actor), opportunity
        ):
            errors["opportunity"] = [_("No such opportunity within your data scope.")]
        elif customer is not None and opportunity.customer_id != customer.pk:
            errors["opportunity"] = [_("The opportunity is for another customer.")]
    if "currency" in data:
        data["currency"] = clean_currency(data["currency"], errors)
    start_on, end_on = current("start_on"), current("end_on")
    if start_on and end_on and end_on < start_on:
        errors["end_on"] = [_("The end date is before the start date.")]
    for name in ("terms", "notes"):
        if name in data:
            data[name] = (data[name] or "").strip()
    _refuse(errors)
    return data


def contract_create(*, actor, data: dict) -> Contract:
    """A new draft contract from scratch, numbered from sales.contract."""
    authorize(actor, "sales.add_contract")
    data = _clean_header(actor, data, None)
    with transaction.atomic():
        data["number"] = next_number("sales.contract")
        return record_create(
            actor=actor, model=Contract, data=data, perm="sales.add_contract"
        )


def contract_create_from_quote(*, actor, quote: Quote, data: dict | None = None):
    """A draft contract from an approved, sent or accepted quote: customer, contact,
    opportunity, title, currency, terms and lines are copied, and the lines priced again
    under the contract's decimal places. One quote makes one live contract (a
    terminated one does not count)."""
    authorize(actor, "sales.add_contract")
    extra = {
        name: (data or {})[name]
        for name in ("title", "signed_on", "start_on", "end_on", "notes")
        if name in (data or {})
    }
    with transaction.atomic():
        try:
            quote = Quote.objects.visible_to(actor).select_for_update().get(pk=quote.pk)
        except Quote.DoesNotExist:
            raise NotFound(_("Quote not found.")) from None
        if quote.status not in QUOTE_STATUSES:
            raise Conflict(
                _(
                    "A contract is made from an approved, sent or accepted quote; "
                    "this one is %(status)s."
                )
                % {"status": quote.get_status_display()}
            )
        existing = (
            Contract.objects.filter(quote=quote).exclude(status=S.TERMINATED).first()
        )
        if existing is not None:
            raise Conflict(
                _("Contract %(number)s was already made from this quote.")
                % {"number": existing.number}
            )
        if not _in(customer_queryset(actor=actor), quote.customer):
            raise Invalid(
                _("The quote's customer is not within your data scope any more."),
                fields={"quote": [_("Its customer is outside your data scope.")]},
            )
        if not quote.lines.exists():
            raise Invalid(
                _("The quote has no lines."), fields={"quote": [_("No lines.")]}
            )
        values = {
            "title": quote.title,
            "customer": quote.customer,
            "contact": quote.contact,
            "opportunity": quote.opportunity,
            "currency": quote.currency,
            "terms": quote.terms,
            **extra,
        }
        errors: dict[str, list[str]] = {}
        values["title"] = (values.get("title") or "").strip()
        if not values["title"]:
            errors["title"] = [_("Enter a title.")]
        start_on, end_on = values.get("start_on"), values.get("end_on")
        if start_on and end_on and end_on < start_on:
            errors["end_on"] = [_("The end date is before the start date.")]
        _refuse(errors)
        contract = Contract(
            **values,
            quote=quote,
            number=next_number("sales.contract"),
            owner=actor,
            department_id=actor.department_id,
        )
        contract.save()
        ContractLine.objects.bulk_create(
            ContractLine(
                contract=contract,
                **{name: getattr(line, name) for name in LINE_COPY_FIELDS},
            )
            for line in quote.lines.all()
        )
        _recompute(contract)
        contract.save(update_fields=["amount", "tax_amount", "total", "updated_at"])
        audit_record(
            actor=actor,
            obj=contract,
            action=AuditEvent.Action.CREATE,
            note=f"from quote {quote.number}",
        )
    return contract


def contract_update(*, actor, obj: Contract, data: dict, version=None) -> Contract:
    """Change a draft's header; a stale version is refused (409). A new customer
    moves the draft's instalments to it."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        locked = _lock(actor, obj)
        _check_editable(locked)
        data = _clean_header(actor, data, locked)
        contract = record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_contract",
            version=version,
        )
        contract.instalments.exclude(customer_id=contract.customer_id).update(
            customer_id=contract.customer_id
        )
    return contract


def contract_delete(*, actor, contract: Contract) -> None:
    """A draft may be deleted for real, with its lines, plan and attachment files;
    anything further along is terminated instead."""
    authorize(actor, "sales.delete_contract")
    with transaction.atomic():
        locked = _lock(actor, contract)
        if locked.status != S.DRAFT:
            raise Conflict(
                _("Only a draft contract can be deleted; terminate this one instead.")
            )
        if locked.orders.exists():
            raise Conflict(_("Orders refer to this contract; it cannot be deleted."))
        names = [a.file.name for a in locked.attachments.all() if a.file]
        record_delete(actor=actor, obj=locked, perm="sales.delete_contract")
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names) -> None:
    for name in names:
        default_storage.delete(name)


# Lines (shared with sales orders)


def to_decimal(value, name: str, errors: dict) -> Decimal | None:
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


def clean_line(actor, data: dict, line=None, *, fields=LINE_FIELDS) -> dict:
    """Line fields with their rules: a product on sale within the actor's scope, a
    positive quantity, no negative price, discount and tax rate between 0 and 100."""
    data = {name: data[name] for name in fields if name in data}
    errors: dict[str, list[str]] = {}
    product = data.get("product")
    if product is None and (line is None or "product" in data):
        errors["product"] = [_("Choose a product.")]
    elif product is not None and (line is None or product.pk != line.product_id):
        visible = Product.objects.visible_to(actor).filter(
            pk=product.pk, status=Product.Status.ACTIVE
        )
        if not visible.exists():
            errors["product"] = [_("No such product on sale within your data scope.")]
    if "description" in data:
        data["description"] = (data["description"] or "").strip()
    for name in ("quantity", "unit_price", "discount_percent", "tax_rate"):
        if name not in data or (name == "unit_price" and data[name] is None):
            continue
        value = to_decimal(data[name], name, errors)
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


def full_clean_line(line, document_field: str) -> None:
    try:
        line.full_clean(exclude=[document_field, "amount", "tax_amount", "total"])
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


def line_text(line) -> str:
    """How a line reads in the history: 2 × 100.00 −5% +13% = 214.70."""
    return (
        f"{line.quantity.normalize():f} × {line.unit_price.normalize():f}"
        f" −{line.discount_percent.normalize():f}%"
        f" +{line.tax_rate.normalize():f}% = {line.total.normalize():f}"
    )


def line_key(line) -> str:
    product = line.product
    return f"{product.code} {product.name}"[:120]


def price_line(line, kind: str) -> None:
    """Compute a line's amounts (crm.sales.pricing); a total too large for a money
    column is refused naming the quantity."""
    apply_line_amounts(line, kind)
    if line.total >= MAX_AMOUNT:
        message = _("The line total is too large.")
        raise Invalid(message, fields={"quantity": [message]})


def check_document_total(document) -> None:
    if document.total >= MAX_AMOUNT:
        message = _("The total is too large.")
        raise Invalid(message, fields={"lines": [message]})


def recompute_lines(document, line_model, kind: str) -> list:
    """Every line's amounts and the document's totals, under the decimal places in
    force for `kind`; changed lines are written, the document is not saved."""
    lines = list(document.lines.select_related("product"))
    changed = []
    for line in lines:
        old = (line.amount, line.tax_amount, line.total)
        price_line(line, kind)
        if (line.amount, line.tax_amount, line.total) != old:
            changed.append(line)
    if changed:
        line_model.objects.bulk_update(changed, ["amount", "tax_amount", "total"])
    totals = document_totals(lines)
    document.amount, document.tax_amount, document.total = (
        totals.amount,
        totals.tax_amount,
        totals.total,
    )
    check_document_total(document)
    return lines


def _recompute(contract: Contract) -> list[ContractLine]:
    return recompute_lines(contract, ContractLine, KIND)


def _save_lines(*, actor, contract: Contract, before: dict, key, was, now, note):
    """Recompute, save the contract and record the line change on its history."""
    _recompute(contract)
    _save(contract, "amount", "tax_amount", "total")
    _record_change(
        actor=actor, obj=contract, before=before, key=key, was=was, now=now, note=note
    )


def contract_line_add(*, actor, contract: Contract, data: dict) -> ContractLine:
    """Add a product line to a draft; the unit price defaults to the product's list
    price, the tax rate to 13%."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        locked = _lock(actor, contract)
        _check_editable(locked)
        values = clean_line(actor, data)
        line = ContractLine(contract=locked, **values)
        if values.get("unit_price") is None:
            line.unit_price = line.product.list_price
        if "sort_order" not in values:
            last = locked.lines.aggregate(n=Max("sort_order"))["n"]
            line.sort_order = 1 if last is None else last + 1
        full_clean_line(line, "contract")
        price_line(line, KIND)
        before = snapshot(locked)
        line.save()
        _save_lines(
            actor=actor,
            contract=locked,
            before=before,
            key=line_key(line),
            was=None,
            now=line_text(line),
            note="line added",
        )
    return line


def _locked_line(actor, line: ContractLine) -> tuple[Contract, ContractLine]:
    contract = _lock(actor, Contract(pk=line.contract_id))
    try:
        return contract, contract.lines.select_related("product").get(pk=line.pk)
    except ContractLine.DoesNotExist:
        raise NotFound(_("Contract line not found.")) from None


def contract_line_update(*, actor, line: ContractLine, data: dict) -> ContractLine:
    """Change a draft's line; a new product without a price given takes its list price."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        contract, locked = _locked_line(actor, line)
        _check_editable(contract)
        values = clean_line(actor, data, locked)
        was = line_text(locked)
        new_product = "product" in values and values["product"].pk != locked.product_id
        for name, value in values.items():
            setattr(locked, name, value)
        if values.get("unit_price", 0) is None or (
            new_product and "unit_price" not in values
        ):
            locked.unit_price = locked.product.list_price
        full_clean_line(locked, "contract")
        price_line(locked, KIND)
        before = snapshot(contract)
        locked.save()
        _save_lines(
            actor=actor,
            contract=contract,
            before=before,
            key=line_key(locked),
            was=was,
            now=line_text(locked),
            note="line changed",
        )
    return locked


def contract_line_remove(*, actor, line: ContractLine) -> None:
    """Remove a line from a draft; the totals follow."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        contract, locked = _locked_line(actor, line)
        _check_editable(contract)
        before = snapshot(contract)
        key, was = line_key(locked), line_text(locked)
        locked.delete()
        _save_lines(
            actor=actor,
            contract=contract,
            before=before,
            key=key,
            was=was,
            now=None,
            note="line removed",
        )


# Payment plan (回款计划)


def _instalment_key(instalment: Instalment) -> str:
    return _("instalment %(n)s") % {"n": instalment.sequence}


def _instalment_text(instalment: Instalment) -> str:
    text = f"{instalment.due_on.isoformat()} {money_text(instalment.amount)}"
    return f"{text} {instalment.note}".strip()


def _clean_instalment(data: dict, contract: Contract, instalment=None) -> dict:
    """Sequence (unique in the plan), due date, a positive amount rounded to the
    contract's decimal places, a note."""
    data = {name: data[name] for name in INSTALMENT_FIELDS if name in data}
    errors: dict[str, list[str]] = {}
    if "sequence" in data and data["sequence"] in (None, ""):
        del data["sequence"]
    if "sequence" in data:
        try:
            sequence = int(data["sequence"])
        except (TypeError, ValueError):
            sequence = 0
        if not 1 <= sequence <= 32767:
            errors["sequence"] = [_("Enter a number from 1 to 32767.")]
        else:
            data["sequence"] = sequence
            taken = contract.instalments.filter(sequence=sequence)
            if instalment is not None:
                taken = taken.exclude(pk=instalment.pk)
            if taken.exists():
                errors["sequence"] = [
                    _("The plan already has an instalment %(n)s.") % {"n": sequence}
                ]
    if ("due_on" in data or instalment is None) and not isinstance(
        data.get("due_on"), datetime.date
    ):
        errors["due_on"] = [_("Enter the due date.")]
    if "amount" in data or instalment is None:
        raw = data.get("amount")
        if raw in (None, ""):
            errors["amount"] = [_("Enter the amount due.")]
        else:
            try:
                amount = round_money(raw, KIND, field="amount")
            except Invalid as exc:
                errors["amount"] = exc.fields.get("amount") or [exc.message]
            else:
                if amount <= 0:
                    errors["amount"] = [_("The amount must be greater than zero.")]
                data["amount"] = amount
    if "note" in data:
        data["note"] = (data["note"] or "").strip()
        if len(data["note"]) > 255:
            errors["note"] = [_("Keep the note under 255 characters.")]
    _refuse(errors)
    return data


def _plan_saved(*, actor, contract: Contract, before: dict, key, was, now, note):
    _save(contract)
    _record_change(
        actor=actor, obj=contract, before=before, key=key, was=was, now=now, note=note
    )


def contract_instalment_add(*, actor, contract: Contract, data: dict) -> Instalment:
    """Add an instalment to a draft's payment plan (sequence defaults to the next)."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        locked = _lock(actor, contract)
        _check_editable(locked)
        values = _clean_instalment(data, locked)
        if "sequence" not in values:
            last = locked.instalments.aggregate(n=Max("sequence"))["n"]
            values["sequence"] = (last or 0) + 1
        instalment = Instalment.objects.create(
            contract=locked,
            customer_id=locked.customer_id,
            owner_id=locked.owner_id,
            department_id=locked.department_id,
            **values,
        )
        _plan_saved(
            actor=actor,
            contract=locked,
            before=snapshot(locked),
            key=_instalment_key(instalment),
            was=None,
            now=_instalment_text(instalment),
            note="instalment added",
        )
    return instalment


def _locked_instalment(actor, instalment: Instalment):
    if not instalment.contract_id:
        raise NotFound(_("Instalment not found."))
    contract = _lock(actor, Contract(pk=instalment.contract_id))
    try:
        return contract, contract.instalments.select_for_update().get(pk=instalment.pk)
    except Instalment.DoesNotExist:
        raise NotFound(_("Instalment not found.")) from None


def contract_instalment_update(*, actor, instalment: Instalment, data: dict):
    """Change an instalment of a draft's plan."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        contract, locked = _locked_instalment(actor, instalment)
        _check_editable(contract)
        values = _clean_instalment(data, contract, locked)
        was, old_key = _instalment_text(locked), _instalment_key(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save()
        key = _instalment_key(locked)
        _plan_saved(
            actor=actor,
            contract=contract,
            before=snapshot(contract),
            key=key,
            was=was if key == old_key else f"{old_key}: {was}",
            now=_instalment_text(locked),
            note="instalment changed",
        )
    return locked


def contract_instalment_remove(*, actor, instalment: Instalment) -> None:
    """Remove an instalment from a draft's plan."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        contract, locked = _locked_instalment(actor, instalment)
        _check_editable(contract)
        key, was = _instalment_key(locked), _instalment_text(locked)
        locked.delete()
        _plan_saved(
            actor=actor,
            contract=contract,
            before=snapshot(contract),
            key=key,
            was=was,
            now=None,
            note="instalment removed",
        )


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; the 31st becomes the month's last day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def split_amounts(total: Decimal, count: int, places: int) -> list[Decimal]:
    """`total` in `count` equal parts rounded down to `places`; the last part takes
    the remainder, so the parts add up to the total exactly."""
    step = quantum(places)
    part = (total / count).quantize(step, rounding=ROUND_DOWN)
    return [part] * (count - 1) + [total - part * (count - 1)]


def contract_plan_split(
    *,
    actor,
    contract: Contract,
    count: int,
    first_due_on: datetime.date,
    interval_months: int = 1,
) -> list[Instalment]:
    """Replace a draft's plan by `count` equal instalments of its total, due from
    `first_due_on` every `interval_months` months; the last absorbs the rounding
    remainder."""
    authorize(actor, "sales.change_contract")
    errors: dict[str, list[str]] = {}
    if not isinstance(count, int) or not 1 <= count <= MAX_INSTALMENTS:
        errors["count"] = [
            _("Enter a number of instalments from 1 to %(max)s.")
            % {"max": MAX_INSTALMENTS}
        ]
    if not isinstance(first_due_on, datetime.date):
        errors["first_due_on"] = [_("Enter the first due date.")]
    if not isinstance(interval_months, int) or not 0 <= interval_months <= 24:
        errors["interval_months"] = [_("Enter a number of months from 0 to 24.")]
    _refuse(errors)
    with transaction.atomic():
        locked = _lock(actor, contract)
        _check_editable(locked)
        _recompute(locked)
        total = locked.total
        if total <= 0:
            raise Invalid(
                _("Add lines first: the contract total is zero."),
                fields={"count": [_("Nothing to split.")]},
            )
        try:
            due_dates = [
                add_months(first_due_on, index * interval_months)
                for index in range(count)
            ]
        except (ValueError, OverflowError):
            message = _("The due dates would run past the calendar's end.")
            raise Invalid(message, fields={"first_due_on": [message]}) from None
        amounts = split_amounts(total, count, decimals_for(KIND))
        if amounts[0] <= 0:
            message = _("%(total)s cannot be split into %(count)s instalments.") % {
                "total": money_text(total),
                "count": count,
            }
            raise Invalid(message, fields={"count": [message]})
        before = snapshot(locked)
        was = "; ".join(_instalment_text(i) for i in locked.instalments.all()) or None
        locked.instalments.all().delete()
        instalments = Instalment.objects.bulk_create(
            Instalment(
                contract=locked,
                customer_id=locked.customer_id,
                owner_id=locked.owner_id,
                department_id=locked.department_id,
                sequence=index + 1,
                due_on=due_on,
                amount=amount,
            )
            for index, (due_on, amount) in enumerate(
                zip(due_dates, amounts, strict=True)
            )
        )
        _save(locked, "amount", "tax_amount", "total")
        _record_change(
            actor=actor,
            obj=locked,
            before=before,
            key=_("payment plan"),
            was=was,
            now="; ".join(_instalment_text(i) for i in instalments),
            note=f"plan split into {count}",
        )
    return instalments


def plan_check(contract: Contract) -> None:
    """The plan must add up exactly to the contract total: Invalid naming both sums
    and the difference otherwise."""
    planned = sum((i.amount for i in contract.instalments.all()), Decimal(0))
    total = contract.total
    if planned == total:
        return
    values = {
        "planned": money_text(planned),
        "total": money_text(total),
        "difference": money_text(abs(total - planned)),
    }
    if not contract.instalments.exists():
        message = _(
            "Add a payment plan: the instalments must add up to the contract total "
            "of %(total)s."
        )
    elif planned < total:
        message = _(
            "The instalments add up to %(planned)s but the contract total is "
            "%(total)s: %(difference)s is not planned yet."
        )
    else:
        message = _(
            "The instalments add up to %(planned)s but the contract total is "
            "%(total)s: %(difference)s too much is planned."
        )
    message = message % values
    raise Invalid(message, fields={"instalments": [message]})


# Approval


def _transition(*, actor, contract: Contract, action: str, note: str = "", **values):
    before = snapshot(contract)
    for name, value in values.items():
        setattr(contract, name, value)
    _save(contract, *values)
    audit_record(actor=actor, obj=contract, action=action, before=before, note=note)
    return contract


def _notify_owner(*, actor, contract: Contract, title: str, body: str, kind: str):
    """The contract's owner hears of a decision someone else took on it."""
    owner = contract.owner
    if owner is None or owner.pk == actor.pk:
        return
    notify(
        recipient=owner,
        title=title,
        body=body,
        url=reverse("sales:contract-detail", args=[contract.pk]),
        kind=kind,
        dedupe_key=f"contract-{kind}:{contract.pk}:{contract.version}",
    )


def contract_submit(*, actor, contract: Contract) -> Contract:
    """Submit a draft for approval: it needs lines, and a payment plan adding up
    exactly to its total (priced again under the decimal places in force)."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        locked = _lock(actor, contract)
        if locked.status != S.DRAFT:
            raise Conflict(_("Only draft contracts can be submitted."))
        lines = _recompute(locked)
        if not lines:
            raise Invalid(
                _("Add at least one line before submitting the contract."),
                fields={"lines": [_("No lines.")]},
            )
        plan_check(locked)
        _transition(
            actor=actor,
            contract=locked,
            action="submit",
            amount=locked.amount,
            tax_amount=locked.tax_amount,
            total=locked.total,
            status=S.PENDING_APPROVAL,
            submitted_at=timezone.now(),
            submitted_by=actor,
            decision_note="",
        )
    return locked


def contract_withdraw(*, actor, contract: Contract) -> Contract:
    """Take a contract pending approval back to draft."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        locked = _lock(actor, contract)
        if locked.status != S.PENDING_APPROVAL:
            raise Conflict(_("Only contracts pending approval can be withdrawn."))
        return _transition(
            actor=actor,
            contract=locked,
            action="withdraw",
            status=S.DRAFT,
            submitted_at=None,
            submitted_by=None,
        )


def _check_decider(actor, contract: Contract, message: str) -> None:
    if contract.status != S.PENDING_APPROVAL:
        raise Conflict(message)
    if not actor.is_superuser and actor.pk in (
        contract.owner_id,
        contract.submitted_by_id,
    ):
        raise Forbidden(_("You cannot approve or reject your own contract."))


def lock_customer(customer_id: int) -> Customer:
    """Lock the customer row: receivables of one customer change one at a time (the
    credit check of orders relies on it)."""
    return Customer.objects.select_for_update().get(pk=customer_id)


def contract_approve(*, actor, contract: Contract, note: str = "") -> Contract:
    """Approve a contract pending approval (sales.approve_contract, not one's own): it
    becomes active and its instalments receivables of its customer."""
    authorize(actor, "sales.approve_contract")
    note = (note or "").strip()[:255]
    with transaction.atomic():
        locked = _lock(actor, contract)
        _check_decider(
            actor, locked, _("Only contracts pending approval can be approved.")
        )
        plan_check(locked)
        lock_customer(locked.customer_id)
        now = timezone.now()
        _transition(
            actor=actor,
            contract=locked,
            action="approve",
            note=note,
            status=S.ACTIVE,
            approved_by=actor,
            approved_at=now,
            decision_note=note,
        )
        for instalment in locked.instalments.select_for_update():
            before = snapshot(instalment)
            instalment.is_open = True
            instalment.customer_id = locked.customer_id
            instalment.owner_id = locked.owner_id
            instalment.department_id = locked.department_id
            instalment.save(
                update_fields=[
                    "is_open",
                    "customer",
                    "owner",
                    "department",
                    "updated_at",
                ]
            )
            audit_record(
                actor=actor,
                obj=instalment,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note=f"receivable of contract {locked.number}",
            )
        _notify_owner(
            actor=actor,
            contract=locked,
            title=_("Contract %(number)s approved") % {"number": locked.number},
            body=note,
            kind="sales.contract_approved",
        )
    return locked


def contract_reject(*, actor, contract: Contract, note: str) -> Contract:
    """Reject a contract pending approval, saying why: it is a draft again, and its
    owner is told."""
    authorize(actor, "sales.approve_contract")
    note = (note or "").strip()
    if not note:
        raise Invalid(
            _("Say why the contract is rejected."), fields={"note": [_("Required.")]}
        )
    with transaction.atomic():
        locked = _lock(actor, contract)
        _check_decider(
            actor, locked, _("Only contracts pending approval can be rejected.")
        )
        _transition(
            actor=actor,
            contract=locked,
            action="reject",
            note=note[:255],
            status=S.DRAFT,
            submitted_at=None,
            decision_note=note[:255],
        )
        _notify_owner(
            actor=actor,
            contract=locked,
            title=_("Contract %(number)s rejected") % {"number": locked.number},
            body=note,
            kind="sales.contract_rejected",
        )
    return locked


# The end of a contract


def contract_complete(*, actor, contract: Contract) -> Contract:
    """An active contract is completed once its plan is received in full and none of
    its orders is still draft or confirmed."""
    authorize(actor, "sales.change_contract")
    with transaction.atomic():
        locked = _lock(actor, contract)
        if locked.status != S.ACTIVE:
            raise Conflict(_("Only active contracts can be completed."))
        outstanding = sum(
            (i.amount - i.received for i in locked.instalments.all()), Decimal(0)
        )
        if outstanding > 0:
            raise Conflict(
                _(
                    "%(outstanding)s of the payment plan is still outstanding; the "
                    "contract can be completed once it is received (or terminated)."
                )
                % {"outstanding": money_text(outstanding)}
            )
        open_orders = locked.orders.filter(
            status__in=(SalesOrder.Status.DRAFT, SalesOrder.Status.CONFIRMED)
        ).values_list("number", flat=True)
        if open_orders:
            raise Conflict(
                _("Complete or cancel its orders first: %(numbers)s.")
                % {"numbers": ", ".join(open_orders[:10])}
            )
        return _transition(
            actor=actor,
            contract=locked,
            action="complete",
            status=S.COMPLETED,
            ended_at=timezone.now(),
        )


def contract_terminate(*, actor, contract: Contract, reason: str) -> Contract:
    """Terminate an active contract, giving the reason (sales.approve_contract): what
    is not received of its plan stops being a receivable."""
    authorize(actor, "sales.approve_contract")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(
            _("Give the reason for terminating the contract."),
            fields={"reason": [_("Required.")]},
        )
    if len(reason) > 255:
        raise Invalid(
            _("Keep the reason under 255 characters."),
            fields={"reason": [_("Keep the reason under 255 characters.")]},
        )
    with transaction.atomic():
        locked = _lock(actor, contract)
        if locked.status != S.ACTIVE:
            raise Conflict(_("Only active contracts can be terminated."))
        lock_customer(locked.customer_id)
        closed = Decimal(0)
        for instalment in locked.instalments.select_for_update():
            if instalment.received >= instalment.amount or not instalment.is_open:
                continue
            before = snapshot(instalment)
            instalment.is_open = False
            instalment.save(update_fields=["is_open", "updated_at"])
            closed += instalment.amount - instalment.received
            audit_record(
                actor=actor,
                obj=instalment,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note=f"contract {locked.number} terminated",
            )
        _transition(
            actor=actor,
            contract=locked,
            action="terminate",
            note=f"{reason[:200]} ({money_text(closed)} closed)",
            status=S.TERMINATED,
            ended_at=timezone.now(),
            termination_reason=reason,
        )
        _notify_owner(
            actor=actor,
            contract=locked,
            title=_("Contract %(number)s terminated") % {"number": locked.number},
            body=reason,
            kind="sales.contract_terminated",
        )
    return locked


# Attachments

DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
OOXML_MIME = "application/vnd.openxmlformats-officedocument"
# Extension → (content type, the first bytes a real file of that type starts with).
ATTACHMENT_TYPES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "docx": (
        f"{OOXML_MIME}.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "xlsx": (f"{OOXML_MIME}.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "zip": ("application/zip", (b"PK\x03\x04", b"PK\x05\x06")),
}
# The part an Office document cannot be without (a renamed zip is no document).
OOXML_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


def attachment_max_bytes() -> int:
    """The largest attachment accepted: settings.CRM_CONTRACT_ATTACHMENT_MAX_BYTES,
    20 MB by default."""
    return int(
        getattr(settings, "CRM_CONTRACT_ATTACHMENT_MAX_BYTES", None)
        or DEFAULT_ATTACHMENT_MAX_BYTES
    )


def attachment_name(raw: str) -> str:
    """The client's file name without any directory part, at most 255 characters."""
    name = os.path.basename(str(raw or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 254 - len(ext)]}.{ext}" if dot and len(ext) < 10 else name
    return name[:255]


def attachment_type(name: str, upload) -> str:
    """The content type of an upload, decided by its extension AND its content (the
    client's content type is ignored): an allowed extension whose first bytes (and,
    for Office documents, zip structure) match it. Invalid naming `file` otherwise."""

    def refuse(message: str):
        raise Invalid(message, fields={"file": [message]})

    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        refuse(
            _(
                "This type of file cannot be attached; attach PDF, JPG, PNG, DOCX, "
                "XLSX or ZIP files."
            )
        )
    size = upload.size
    if not size:
        refuse(_("The file is empty."))
    limit = attachment_max_bytes()
    if size > limit:
        refuse(
            _("The file is larger than %(limit)s MB.")
            % {"limit": formats.number_format(Decimal(limit) / (1024 * 1024), 1)}
        )
    content_type, signatures = ATTACHMENT_TYPES[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    mismatch = _("The content of this file is not a .%(ext)s file.") % {"ext": ext}
    if not any(head.startswith(signature) for signature in signatures):
        refuse(mismatch)
    if ext in OOXML_PARTS or ext == "zip":
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            refuse(mismatch)
        finally:
            upload.seek(0)
        if ext in OOXML_PARTS and OOXML_PARTS[ext] not in names:
            refuse(mismatch)
    return content_type


def _check_attachable(contract: Contract) -> None:
    if contract.status == S.COMPLETED:
        raise Conflict(_("A completed contract's attachments can no longer change."))


def contract_attachment_add(*, actor, contract: Contract, upload) -> ContractAttachment:
    """Attach a file (scan, annex) to a contract that is not completed. The type is
    checked by extension and content, the size against the limit; the file goes to
    the default storage under a random name."""
    authorize(actor, "sales.change_contract")
    if upload is None:
        raise Invalid(_("Choose a file."), fields={"file": [_("Choose a file.")]})
    name = attachment_name(getattr(upload, "name", ""))
    content_type = attachment_type(name, upload)
    ext = name.rpartition(".")[2].lower()
    with transaction.atomic():
        locked = _lock(actor, contract)
        _check_attachable(locked)
        attachment = ContractAttachment(
            contract=locked,
            name=name,
            content_type=content_type,
            size=upload.size,
            uploaded_by=actor,
        )
        # The file is written first (storage is outside the transaction); if the
        # rows cannot be written, it is removed again.
        attachment.file.save(f"{uuid.uuid4().hex}.{ext}", upload, save=False)
        try:
            attachment.save()
            _record_change(
                actor=actor,
                obj=locked,
                before=snapshot(locked),
                key=_("attachment"),
                was=None,
                now=name,
                note="attachment added",
            )
        except Exception:
            default_storage.delete(attachment.file.name)
            raise
    return attachment


def contract_attachment_delete(*, actor, attachment: ContractAttachment) -> None:
    """Remove an attachment of a contract that is not completed: its uploader or a
    holder of sales.change_contract may."""
    with transaction.atomic():
        try:
            locked_attachment = ContractAttachment.objects.visible_to(actor).get(
                pk=attachment.pk
            )
        except ContractAttachment.DoesNotExist:
            raise NotFound(_("Attachment not found.")) from None
        if locked_attachment.uploaded_by_id != actor.pk:
            authorize(actor, "sales.change_contract")
        contract = _lock(actor, Contract(pk=locked_attachment.contract_id))
        _check_attachable(contract)
        name, stored = locked_attachment.name, locked_attachment.file.name
        locked_attachment.delete()
        _record_change(
            actor=actor,
            obj=contract,
            before=snapshot(contract),
            key=_("attachment"),
            was=name,
            now=None,
            note="attachment removed",
        )
        transaction.on_commit(lambda: default_storage.delete(stored))


def can_delete_attachment(user, attachment: ContractAttachment) -> bool:
    return attachment.contract.status != S.COMPLETED and (
        attachment.uploaded_by_id == user.pk or can(user, "sales.change_contract")
    )
