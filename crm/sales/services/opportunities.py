"""S2 opportunities (商机): create and edit, products, competitors, moves between pipeline
stages, closing as won or lost, reopening; pipeline stage configuration; competitors.

Every service authorises, locks the opportunity it changes (looked up within the actor's
data scope: 404 outside it), validates with field errors, bumps the version and writes the
audit trail (Y7) in the same transaction.

Status follows the stage's kind: an open stage keeps the opportunity open; a won or a lost
stage closes it (status won/lost, closed_at, a required reason, optionally the competitor it
was lost to). A closed opportunity is read-only — no edit, no product or competitor change,
no move — until it is reopened (`opportunity_reopen`, permission change_opportunity), which
puts it back into an open stage and clears the close fields. Every stage change, the first
one included, is a StageChange row.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.money import MAX_AMOUNT, round_money
from crm.core.numbering import next_number
from crm.core.scopes import authorize
from crm.core.services import record_create, record_update
from crm.customers.models import Contact
from crm.customers.selectors import customer_queryset
from crm.products.models import Product
from crm.sales.models import (
    Opportunity,
    OpportunityProduct,
    Stage,
    StageChange,
)

FIELDS = (
    "name",
    "customer",
    "contact",
    "stage",
    "amount",
    "expected_close_on",
    "source",
    "description",
    "next_step",
    "owner",
    "department",
)


def _refuse(errors: dict[str, list[str]]) -> None:
    """Raise one Invalid carrying every field error found."""
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _decimal(value, name: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return Decimal("0")
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


def first_open_stage() -> Stage | None:
    return (
        Stage.objects.filter(is_active=True, kind=Stage.Kind.OPEN)
        .order_by("sort_order", "pk")
        .first()
    )


def _clean(actor, data: dict, opportunity: Opportunity | None) -> dict:
    """Only the opportunity's own fields; customer within the actor's scope, contact one of
    the customer's, an active open stage, an amount that is a non-negative number."""
    data = {name: data[name] for name in FIELDS if name in data}
    errors: dict[str, list[str]] = {}

    def changed(name: str) -> bool:
        if name not in data:
            return False
        value = data[name]
        if opportunity is None:
            return value not in (None, "")
        current = getattr(opportunity, f"{name}_id", None)
        return (value.pk if value is not None else None) != current

    def current(name: str):
        return data[name] if name in data else getattr(opportunity, name, None)

    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = [_("Enter a name.")]
    elif opportunity is None:
        errors["name"] = [_("Enter a name.")]
    if current("customer") is None:
        errors["customer"] = [_("Choose a customer.")]
    elif (
        changed("customer")
        and not customer_queryset(actor=actor).filter(pk=data["customer"].pk).exists()
    ):
        errors["customer"] = [_("No such customer within your data scope.")]
    customer, contact = current("customer"), current("contact")
    if (
        contact is not None
        and customer is not None
        and (changed("contact") or changed("customer"))
        and not Contact.objects.filter(pk=contact.pk, customer=customer).exists()
    ):
        errors["contact"] = [_("The contact is not one of this customer's contacts.")]
    if opportunity is None:
        stage = data.get("stage") or first_open_stage()
        if stage is None:
            errors["stage"] = [_("No active open pipeline stage is configured.")]
        elif not stage.is_active or stage.kind != Stage.Kind.OPEN:
            errors["stage"] = [_("Choose an active open stage.")]
        else:
            data["stage"] = stage
    elif "stage" in data:
        # The stage of an existing opportunity changes through opportunity_move.
        if data["stage"] is None or data["stage"].pk != opportunity.stage_id:
            errors["stage"] = [_("Move the opportunity to change its stage.")]
        data.pop("stage")
    if "amount" in data:
        amount = _decimal(data["amount"], "amount", errors)
        if amount is not None:
            if amount < 0:
                errors["amount"] = [_("The amount cannot be negative.")]
            elif amount >= MAX_AMOUNT:
                errors["amount"] = [_("The amount is too large.")]
            data["amount"] = amount
    for name in ("source", "description", "next_step"):
        if name in data:
            data[name] = (data[name] or "").strip()
    if opportunity is None:
        for name in ("owner", "department"):
            if name in data and data[name] is None:
                data.pop(name)  # defaults to the actor's
    _refuse(errors)
    return data


def _lock(actor, opportunity: Opportunity) -> Opportunity:
    """The opportunity, locked, if it is within the actor's data scope; else 404."""
    try:
        return (
            Opportunity.objects.visible_to(actor)
            .select_for_update()
            .get(pk=opportunity.pk)
        )
    except Opportunity.DoesNotExist:
        raise NotFound(_("Opportunity not found.")) from None


def _check_version(locked: Opportunity, version) -> None:
    if version is None:
        raise Conflict(
            _("The record version is missing."), fields={"version": [_("Required.")]}
        )
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise Conflict(
            _("The record version is missing."), fields={"version": [_("Required.")]}
        ) from None
    if version != locked.version:
        raise Conflict(
            _(
                "This opportunity was changed by someone else in the meantime "
                "(it is now in stage %(stage)s). Reload it and try again."
            )
            % {"stage": locked.stage.name},
            fields={
                "version": [
                    _("Stale version %(v)s; current is %(c)s.")
                    % {"v": version, "c": locked.version}
                ]
            },
        )


def _check_open(opportunity: Opportunity) -> None:
    if not opportunity.is_open:
        raise Conflict(
            _("This opportunity is closed (%(status)s); reopen it to change it.")
            % {"status": opportunity.get_status_display()}
        )


def _save(opportunity: Opportunity, *fields: str) -> None:
    opportunity.version += 1
    opportunity.save(update_fields=[*fields, "version", "updated_at"])


# Opportunities


def opportunity_create(
    *, actor, data: dict, products: list[dict] | None = None
) -> Opportunity:
    """A new open opportunity for a customer the actor may see, numbered from
    sales.opportunity, in the given open stage or the first active open one; owner and
    department default to the actor's. `products` (product, quantity, unit_price) become
    its product lines; without a typed amount the amount is their sum."""
    authorize(actor, "sales.add_opportunity")
    data = _clean(actor, data, None)
    with transaction.atomic():
        data["number"] = next_number("sales.opportunity")
        data["stage_changed_at"] = timezone.now()
        opportunity = record_create(
            actor=actor, model=Opportunity, data=data, perm="sales.add_opportunity"
        )
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage=None,
            to_stage=opportunity.stage,
            changed_by=actor if actor.is_authenticated else None,
        )
        if products:
            for index, line in enumerate(products):
                try:
                    opportunity = opportunity_product_add(
                        actor=actor,
                        opportunity=opportunity,
                        data=line,
                        version=opportunity.version,
                        derive_amount=data.get("amount") in (None, Decimal("0")),
                    )
                except Invalid as exc:
                    fields = {
                        f"products[{index}].{name}": msgs
                        for name, msgs in exc.fields.items()
                    }
                    raise Invalid(exc.message, fields=fields) from None
    return opportunity


def opportunity_update(
    *, actor, opportunity: Opportunity, data: dict, version=None
) -> Opportunity:
    """Change an open opportunity's fields (not its stage: move it); stale version → 409."""
    authorize(actor, "sales.change_opportunity")
    with transaction.atomic():
        locked = _lock(actor, opportunity)
        _check_version(locked, version)
        _check_open(locked)
        data = _clean(actor, data, locked)
        return record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_opportunity",
            version=version,
        )


# Products


def products_total(opportunity: Opportunity) -> Decimal:
    """Sum of quantity × unit price of the opportunity's product lines, rounded as a
    quote amount (the document an opportunity's products become)."""
    total = sum(
        (line.quantity * line.unit_price for line in opportunity.products.all()),
        Decimal("0"),
    )
    return round_money(total, "quote", field="amount")


def _clean_product(actor, data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    product = data.get("product")
    if product is None:
        errors["product"] = [_("Choose a product.")]
    elif not (
        Product.objects.visible_to(actor)
        .filter(pk=product.pk, status=Product.Status.ACTIVE)
        .exists()
    ):
        errors["product"] = [_("No such product on sale within your data scope.")]
    quantity = _decimal(data.get("quantity", "1"), "quantity", errors)
    if quantity is not None and quantity <= 0:
        errors["quantity"] = [_("The quantity must be above zero.")]
    elif quantity is not None and quantity >= Decimal(10) ** 12:
        errors["quantity"] = [_("The quantity is too large.")]
    price = data.get("unit_price")
    if price in (None, "") and product is not None:
        price = product.list_price
    price = _decimal(price, "unit_price", errors)
    if price is not None and price < 0:
        errors["unit_price"] = [_("A price cannot be negative.")]
    elif price is not None and price >= MAX_AMOUNT:
        errors["unit_price"] = [_("The price is too large.")]
    if not errors and quantity * price >= MAX_AMOUNT:
        message = _("Enter a smaller quantity or price: the amount would be too large.")
        errors = {"quantity": [message], "unit_price": [message]}
    _refuse(errors)
    return {"product": product, "quantity": quantity, "unit_price": price}


def _products_changed(
    *, actor, locked: Opportunity, before: dict, old_total: Decimal, note: str
) -> Opportunity:
    """After a product line change: an amount that followed the products (equal to their
    old total) follows them still; a typed amount stays. Version bump and audit."""
    new_total = products_total(locked)
    if locked.amount == old_total:
        locked.amount = new_total
    _save(locked, "amount")
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=note[:255],
    )
    return locked


def opportunity_product_add(
    *, actor, opportunity: Opportunity, data: dict, version=None, derive_amount=True
) -> Opportunity:
    """Add a product line (product, quantity, unit price — the list price if none)."""
    authorize(actor, "sales.change_opportunity")
    with transaction.atomic():
        locked = _lock(actor, opportunity)
        _check_version(locked, version)
        _check_open(locked)
        clean = _clean_product(actor, data)
        before = snapshot(locked)
        old_total = products_total(locked) if derive_amount else None
        line = OpportunityProduct.objects.create(opportunity=locked, **clean)
        return _products_changed(
            actor=actor,
            locked=locked,
            before=before,
            old_total=old_total,
            note=f"+ {line.product} × {line.quantity.normalize():f}",
        )


def opportunity_product_remove(
    *, actor, opportunity: Opportunity, line_id, version=None
) -> Opportunity:
    """Remove one of the opportunity's product lines."""
    authorize(actor, "sales.change_opportunity")
    with transaction.atomic():
        locked = _lock(actor, opportunity)
        _check_version(locked, version)
        _check_open(locked)
        line = (
            OpportunityProduct.objects.filter(opportunity=locked, pk=line_id)
            .select_related("product")
            .first()
        )
        if line is None:
            raise NotFound(_("Product line not found."))
        before = snapshot(locked)
        old_total = products_total(locked)
        note = f"- {line.product} × {line.quantity.normalize():f}"
        line.delete()
        return _products_changed(
            actor=actor, locked=locked, before=before, old_total=old_total, note=note
        )
