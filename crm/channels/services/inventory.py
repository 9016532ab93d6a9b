"""D6 writes: stock counts partners report (portal form, upload, API; HQ on their
behalf) and the stock bounds the inventory alerts use.

A partner counts a product at most once a day: submitting a count for a day that
already has one for that product replaces its quantity (the latest report wins, the
audit trail keeps the old value)."""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.channels.models import Partner, StockBound, StockCount
from crm.channels.portal.access import user_partner
from crm.channels.selectors.inventory import sees_all_partners
from crm.channels.selectors.partners_scope import partners_visible
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.scopes import authorize
from crm.products.models import Product

PLACES = Decimal("0.0001")
MAX_QUANTITY = Decimal("999999999999")  # QUANTITY: 16 digits, 4 of them decimals
MAX_DAYS = 3650


def _check_partner(actor, partner: Partner, perm: str) -> None:
    """A partner user reports for its own partner only; HQ needs the permission and the
    partner inside its channel scope. Another partner is simply not found (404)."""
    own = user_partner(actor)
    if own is not None:
        if own.pk != partner.pk:
            raise NotFound(_("Partner not found."))
        return
    authorize(actor, perm)
    if not partners_visible(actor).filter(pk=partner.pk).exists():
        raise NotFound(_("Partner not found."))


def clean_quantity(value, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise Invalid(
            _("Not a number."), fields={field: [_("Not a number.")]}
        ) from None
    if not quantity.is_finite():
        raise Invalid(_("Not a number."), fields={field: [_("Not a number.")]})
    if quantity < 0:
        message = _("A stock count cannot be negative.")
        raise Invalid(message, fields={field: [message]})
    if quantity > MAX_QUANTITY:
        message = _("The quantity is too large.")
        raise Invalid(message, fields={field: [message]})
    if quantity != quantity.quantize(PLACES):
        message = _("At most 4 decimal places.")
        raise Invalid(message, fields={field: [message]})
    return quantity.quantize(PLACES)


@transaction.atomic
def stock_count_submit(
    *,
    actor,
    partner: Partner,
    counted_on: datetime.date,
    lines: list[dict],
    today: datetime.date | None = None,
) -> list[StockCount]:
    """Record the partner's counted stock at the end of `counted_on`, one line per
    product ({"product": Product, "quantity": Decimal}). A product already counted that
    day gets the new quantity (replaces, never adds). The date cannot be in the future;
    quantities are 0 or more; a product appears once per submission."""
    _check_partner(actor, partner, "channels.add_stockcount")
    today = today or timezone.localdate()
    if not isinstance(counted_on, datetime.date):
        message = _("Enter the count date.")
        raise Invalid(message, fields={"counted_on": [message]})
    if counted_on > today:
        message = _("The count date cannot be in the future.")
        raise Invalid(message, fields={"counted_on": [message]})
    if not lines:
        message = _("Enter the quantity of at least one product.")
        raise Invalid(message, fields={"lines": [message]})
    errors: dict[str, list[str]] = {}
    seen: dict[int, int] = {}
    cleaned: list[tuple[Product, Decimal]] = []
    for index, line in enumerate(lines):
        product = line.get("product")
        if not isinstance(product, Product):
            errors[f"lines.{index}.product"] = [_("Choose a product.")]
            continue
        if product.status == Product.Status.DRAFT:
            errors[f"lines.{index}.product"] = [
                _("“%(product)s” is not released yet.") % {"product": product}
            ]
            continue
        if product.pk in seen:
            errors[f"lines.{index}.product"] = [
                _("%(product)s is already on line %(line)s.")
                % {"product": product, "line": seen[product.pk] + 1}
            ]
            continue
        seen[product.pk] = index
        try:
            quantity = clean_quantity(line.get("quantity"), f"lines.{index}.quantity")
        except Invalid as exc:
            errors.update(exc.fields)
            continue
        cleaned.append((product, quantity))
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    # Lock the partner: two submissions for one partner run one after the other.
    Partner.objects.select_for_update().filter(pk=partner.pk).first()
    existing = {
        c.product_id: c
        for c in StockCount.objects.select_for_update().filter(
            partner=partner,
            counted_on=counted_on,
            product__in=[p for p, _q in cleaned],
        )
    }
    saved = []
    for product, quantity in cleaned:
        count = existing.get(product.pk)
        if count is None:
            try:
                with transaction.atomic():
                    count = StockCount.objects.create(
                        partner=partner,
                        product=product,
                        counted_on=counted_on,
                        quantity=quantity,
                        submitted_by=actor,
                    )
            except IntegrityError:  # written meanwhile by a call that held no lock
                count = StockCount.objects.select_for_update().get(
                    partner=partner, product=product, counted_on=counted_on
                )
            else:
                audit_record(actor=actor, obj=count, action=AuditEvent.Action.CREATE)
                saved.append(count)
                continue
        before = snapshot(count)
        if count.quantity != quantity or count.submitted_by_id != actor.pk:
            count.quantity, count.submitted_by = quantity, actor
            count.save(update_fields=["quantity", "submitted_by", "updated_at"])
            audit_record(
                actor=actor,
                obj=count,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note="replaced",
            )
        saved.append(count)
    return saved


# Stock bounds


def _clean_bound(actor, data: dict, obj: StockBound | None = None) -> dict:
    partner = data.get("partner", obj.partner if obj else None)
    product = data.get("product", obj.product if obj else None)
    low = data.get("low_days", obj.low_days if obj else None)
    high = data.get("high_days", obj.high_days if obj else None)
    if partner is None:
        if not (actor.is_superuser or sees_all_partners(actor)):
            raise Forbidden(
                _("Only users who see every partner may set bounds for all partners.")
            )
    elif not partners_visible(actor).filter(pk=partner.pk).exists():
        raise NotFound(_("Partner not found."))
    errors: dict[str, list[str]] = {}
    for name, value in (("low_days", low), ("high_days", high)):
        if value is None:
            errors[name] = [_("This field is required.")]
        elif not isinstance(value, int) or value < 0 or value > MAX_DAYS:
            errors[name] = [
                _("Enter a whole number of days from 0 to %(max)s.") % {"max": MAX_DAYS}
            ]
    if not errors and high <= low:
        errors["high_days"] = [
            _("The over-stock bound must be above the low-stock bound.")
        ]
    if not errors:
        # NULLs are distinct in the unique constraint on SQLite: check here.
        clash = StockBound.objects.filter(partner=partner, product=product)
        if obj is not None:
            clash = clash.exclude(pk=obj.pk)
        if clash.exists():
            message = _(
                "A bound for this partner and product already exists; edit that one."
            )
            errors["product"] = [message]
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    return {"partner": partner, "product": product, "low_days": low, "high_days": high}


def _lock_pair(partner, product) -> None:
    """Serialise writes of one partner/product pair (empty ones: the partner or product
    row that exists, else nothing — the global row is rare and made by admins)."""
    if partner is not None:
        Partner.objects.select_for_update().filter(pk=partner.pk).first()
    elif product is not None:
        Product.objects.select_for_update().filter(pk=product.pk).first()


@transaction.atomic
def stock_bound_create(*, actor, data: dict) -> StockBound:
    """A low/over-stock bound (days of inventory) for a partner and/or product, or for
    all of them; one per partner/product pair, empty ones included."""
    authorize(actor, "channels.add_stockbound")
    _lock_pair(data.get("partner"), data.get("product"))
    values = _clean_bound(actor, data)
    bound = StockBound.objects.create(**values)
    audit_record(actor=actor, obj=bound, action=AuditEvent.Action.CREATE)
    return bound


@transaction.atomic
def stock_bound_update(
    *, actor, obj: StockBound, data: dict, version=None
) -> StockBound:
    authorize(actor, "channels.change_stockbound")
    _clean_bound(actor, {}, obj)  # the bound as it is must be the actor's to change
    _lock_pair(data.get("partner", obj.partner), data.get("product", obj.product))
    bound = StockBound.objects.select_for_update().get(pk=obj.pk)
    values = _clean_bound(actor, data, bound)
    before = snapshot(bound)
    for name, value in values.items():
        setattr(bound, name, value)
    bound.save()
    audit_record(actor=actor, obj=bound, action=AuditEvent.Action.UPDATE, before=before)
    return bound


@transaction.atomic
def stock_bound_delete(*, actor, obj: StockBound) -> None:
    authorize(actor, "channels.delete_stockbound")
    _clean_bound(actor, {}, obj)
    bound = StockBound.objects.select_for_update().filter(pk=obj.pk).first()
    if bound is None:
        raise NotFound(_("Stock bound not found."))
    audit_record(actor=actor, obj=bound, action=AuditEvent.Action.DELETE)
    bound.delete()
