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
    Competitor,
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
            else:  # to the decimal places of a quote, what the deal becomes (Y2)
                amount = round_money(amount, "quote", field="amount")
            data["amount"] = amount
    for name in ("source", "description", "next_step"):
        if name in data:
            data[name] = (data[name] or "").strip()
    owner = data.get("owner")
    if owner is not None and changed("owner") and not owner.is_active:
        errors["owner"] = [_("Choose an active employee.")]
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


def _set_competitors(*, actor, locked: Opportunity, competitors) -> None:
    """Replace the competitors met on the opportunity; the change is on its history."""
    chosen = list(competitors or [])
    current = set(locked.competitors.values_list("pk", flat=True))
    if {c.pk for c in chosen} == current:
        return
    new = {c.pk for c in chosen} - current
    inactive = [c.name for c in chosen if c.pk in new and not c.is_active]
    if inactive:
        _refuse(
            {
                "competitors": [
                    _("%(names)s is no longer active.") % {"names": "、".join(inactive)}
                ]
            }
        )
    locked.competitors.set(chosen)
    names = "、".join(sorted(c.name for c in chosen)) or "—"
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditEvent.Action.UPDATE,
        before=snapshot(locked),
        note=f"competitors: {names}"[:255],
    )


def opportunity_create(
    *, actor, data: dict, products: list[dict] | None = None
) -> Opportunity:
    """A new open opportunity for a customer the actor may see, numbered from
    sales.opportunity, in the given open stage or the first active open one; owner and
    department default to the actor's. `products` (product, quantity, unit_price) become
    its product lines; without a typed amount the amount is their sum."""
    authorize(actor, "sales.add_opportunity")
    competitors = data.get("competitors")
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
        if competitors:
            _set_competitors(actor=actor, locked=opportunity, competitors=competitors)
        derive = data.get("amount") in (None, Decimal("0"))
        for index, line in enumerate(products or []):
            try:
                opportunity = opportunity_product_add(
                    actor=actor,
                    opportunity=opportunity,
                    data=line,
                    version=opportunity.version,
                    derive_amount=derive,
                )
            except Invalid as exc:
                fields = {
                    f"products.{index}.{name}": msgs
                    for name, msgs in exc.fields.items()
                }
                raise Invalid(exc.message, fields=fields) from None
    return opportunity


def opportunity_update(*, actor, obj: Opportunity, data: dict, version=None):
    """Change an open opportunity's fields and competitors (not its stage: move it);
    a closed one is read-only (409) and a stale version is refused (409)."""
    authorize(actor, "sales.change_opportunity")
    with transaction.atomic():
        locked = _lock(actor, obj)
        _check_version(locked, version)
        _check_open(locked)
        competitors = data.get("competitors")
        has_competitors = "competitors" in data
        data = _clean(actor, data, locked)
        locked = record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_opportunity",
            version=version,
        )
        if has_competitors:
            _set_competitors(actor=actor, locked=locked, competitors=competitors)
    return locked


# Stage moves, closing, reopening


def _record_move(*, actor, locked: Opportunity, stage: Stage) -> None:
    StageChange.objects.create(
        opportunity=locked,
        from_stage_id=locked.stage_id,
        to_stage=stage,
        changed_by=actor if actor.is_authenticated else None,
    )
    locked.stage = stage
    locked.stage_changed_at = timezone.now()


def _active_stage(stage: Stage | None) -> Stage:
    if stage is None:
        _refuse({"stage": [_("Choose a stage.")]})
    fresh = Stage.objects.filter(pk=stage.pk, is_active=True).first()
    if fresh is None:
        _refuse({"stage": [_("This stage is no longer active.")]})
    return fresh


def opportunity_move(
    *,
    actor,
    opportunity: Opportunity,
    stage: Stage,
    version,
    reason: str = "",
    lost_to: Competitor | None = None,
) -> Opportunity:
    """Move an open opportunity to another active stage (a StageChange row). Moving to a
    won or lost stage closes it, and needs the reason (opportunity_close). Moving to the
    stage it is in changes nothing; a stale version is refused (409)."""
    authorize(actor, "sales.change_opportunity")
    stage = _active_stage(stage)
    if stage.kind != Stage.Kind.OPEN:
        return opportunity_close(
            actor=actor,
            opportunity=opportunity,
            stage=stage,
            version=version,
            reason=reason,
            lost_to=lost_to,
        )
    with transaction.atomic():
        locked = _lock(actor, opportunity)
        _check_version(locked, version)
        _check_open(locked)
        if locked.stage_id == stage.pk:
            return locked
        before = snapshot(locked)
        _record_move(actor=actor, locked=locked, stage=stage)
        _save(locked, "stage", "stage_changed_at")
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="move",
        )
    return locked


def opportunity_close(
    *,
    actor,
    opportunity: Opportunity,
    version,
    reason: str,
    outcome: str | None = None,
    stage: Stage | None = None,
    lost_to: Competitor | None = None,
) -> Opportunity:
    """Close an open opportunity as won or lost: into `stage` (a won or lost stage) or
    the first active stage of the `outcome` kind. The reason is required; the competitor
    it was lost to only for a lost one. Its status follows the stage's kind."""
    authorize(actor, "sales.change_opportunity")
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if stage is None:
        if outcome not in (Stage.Kind.WON, Stage.Kind.LOST):
            errors["outcome"] = [_("Choose won or lost.")]
        else:
            stage = (
                Stage.objects.filter(is_active=True, kind=outcome)
                .order_by("sort_order", "pk")
                .first()
            )
            if stage is None:
                errors["stage"] = [_("No active stage of this kind is configured.")]
    else:
        stage = _active_stage(stage)
        if stage.kind == Stage.Kind.OPEN:
            errors["stage"] = [_("Choose a won or a lost stage.")]
    if not reason:
        errors["reason"] = [_("Say why the opportunity was won or lost.")]
    elif len(reason) > 255:
        errors["reason"] = [_("Keep the reason under 255 characters.")]
    if lost_to is not None:
        if stage is not None and stage.kind != Stage.Kind.LOST:
            errors["lost_to"] = [_("Only a lost opportunity is lost to a competitor.")]
        elif not Competitor.objects.filter(pk=lost_to.pk, is_active=True).exists():
            errors["lost_to"] = [_("Choose an active competitor.")]
    _refuse(errors)
    with transaction.atomic():
        locked = _lock(actor, opportunity)
        _check_version(locked, version)
        _check_open(locked)
        before = snapshot(locked)
        _record_move(actor=actor, locked=locked, stage=stage)
        locked.status = (
            Opportunity.Status.WON
            if stage.kind == Stage.Kind.WON
            else Opportunity.Status.LOST
        )
        locked.closed_at = timezone.now()
        locked.close_reason = reason
        locked.lost_to = lost_to
        _save(
            locked,
            "stage",
            "stage_changed_at",
            "status",
            "closed_at",
            "close_reason",
            "lost_to",
        )
        audit_record(
            actor=actor, obj=locked, action="close", before=before, note=stage.name
        )
    return locked


def reopen_stage(opportunity: Opportunity) -> Stage | None:
    """Where a reopened opportunity goes: the open stage it was closed from, if still
    active, else the first active open stage."""
    last = (
        StageChange.objects.filter(
            opportunity=opportunity,
            from_stage__kind=Stage.Kind.OPEN,
            from_stage__is_active=True,
            to_stage_id=opportunity.stage_id,
        )
        .select_related("from_stage")
        .order_by("-changed_at", "-pk")
        .first()
    )
    return last.from_stage if last else first_open_stage()


def opportunity_reopen(
    *, actor, opportunity: Opportunity, version, stage: Stage | None = None
) -> Opportunity:
    """A won or lost opportunity becomes open again (permission change_opportunity), in
    `stage` or the open stage it was closed from; the close fields are cleared."""
    authorize(actor, "sales.change_opportunity")
    with transaction.atomic():
        locked = _lock(actor, opportunity)
        _check_version(locked, version)
        if locked.is_open:
            raise Conflict(_("This opportunity is open already."))
        target = reopen_stage(locked) if stage is None else _active_stage(stage)
        if target is None or target.kind != Stage.Kind.OPEN:
            _refuse({"stage": [_("Choose an active open stage.")]})
        before = snapshot(locked)
        _record_move(actor=actor, locked=locked, stage=target)
        locked.status = Opportunity.Status.OPEN
        locked.closed_at, locked.close_reason, locked.lost_to = None, "", None
        _save(
            locked,
            "stage",
            "stage_changed_at",
            "status",
            "closed_at",
            "close_reason",
            "lost_to",
        )
        audit_record(actor=actor, obj=locked, action="reopen", before=before)
    return locked


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


# Pipeline stages (configuration: no version, like the other configuration records)

STAGE_FIELDS = ("name", "probability", "kind", "is_active")
STAGE_PERM = "sales.change_stage"


def _check_stage_data(data: dict, stage: Stage | None) -> dict:
    data = {name: data[name] for name in STAGE_FIELDS if name in data}
    errors: dict[str, list[str]] = {}
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            errors["name"] = [_("Enter a name.")]
        elif (
            Stage.objects.filter(name__iexact=data["name"])
            .exclude(pk=stage.pk if stage else None)
            .exists()
        ):
            errors["name"] = [_("Another stage has this name.")]
    elif stage is None:
        errors["name"] = [_("Enter a name.")]
    kind = data.get("kind", stage.kind if stage else Stage.Kind.OPEN)
    if kind not in Stage.Kind.values:
        errors["kind"] = [_("Choose open, won or lost.")]
    probability = data.get("probability", stage.probability if stage else None)
    if probability is None:
        errors["probability"] = [_("Enter a probability between 0 and 100.")]
    else:
        try:
            probability = int(probability)
        except (TypeError, ValueError):
            probability = -1
        if not 0 <= probability <= 100:
            errors["probability"] = [_("Enter a probability between 0 and 100.")]
        elif kind == Stage.Kind.WON and probability != 100:
            errors["probability"] = [_("A won stage has a probability of 100%.")]
        elif kind == Stage.Kind.LOST and probability != 0:
            errors["probability"] = [_("A lost stage has a probability of 0%.")]
        else:
            data["probability"] = probability
    _refuse(errors)
    return data


def _check_active_kinds() -> None:
    """At least one open, one won and one lost stage stay active: the board needs a
    column and both drop zones, and closing needs a stage of each outcome."""
    active = set(
        Stage.objects.filter(is_active=True).values_list("kind", flat=True).distinct()
    )
    missing = [kind.label for kind in Stage.Kind if kind.value not in active]
    if missing:
        raise Invalid(
            _(
                "At least one open, one won and one lost stage must stay active; "
                "this change would leave no active %(kind)s stage."
            )
            % {"kind": "/".join(str(m).lower() for m in missing)}
        )


def stage_create(*, actor, data: dict) -> Stage:
    """A new stage, placed after the others."""
    authorize(actor, STAGE_PERM)
    data = _check_stage_data(data, None)
    with transaction.atomic():
        last = Stage.objects.order_by("-sort_order").first()
        data["sort_order"] = (last.sort_order if last else 0) + 10
        return record_create(actor=actor, model=Stage, data=data, perm=STAGE_PERM)


def stage_update(*, actor, stage: Stage, data: dict) -> Stage:
    """Rename a stage, change its probability, kind or activity. The kind of a stage in
    use stays (its opportunities' status follows it); a stage with open opportunities
    stays active (move them first); one open, won and lost stage stay active."""
    authorize(actor, STAGE_PERM)
    with transaction.atomic():
        locked = Stage.objects.select_for_update().get(pk=stage.pk)
        data = _check_stage_data(data, locked)
        kind_changed = "kind" in data and data["kind"] != locked.kind
        if kind_changed and Opportunity.objects.filter(stage=locked).exists():
            _refuse(
                {
                    "kind": [
                        _(
                            "Opportunities are in this stage; add a new stage "
                            "instead of changing this one's kind."
                        )
                    ]
                }
            )
        if data.get("is_active") is False and locked.is_active:
            open_count = Opportunity.objects.filter(
                stage=locked, status=Opportunity.Status.OPEN
            ).count()
            if open_count:
                _refuse(
                    {
                        "is_active": [
                            _(
                                "%(n)s open opportunities are in this stage; move "
                                "them to another stage first."
                            )
                            % {"n": open_count}
                        ]
                    }
                )
        locked = record_update(actor=actor, obj=locked, data=data, perm=STAGE_PERM)
        _check_active_kinds()
    return locked


def stage_deactivate(*, actor, stage: Stage) -> Stage:
    return stage_update(actor=actor, stage=stage, data={"is_active": False})


def stage_activate(*, actor, stage: Stage) -> Stage:
    return stage_update(actor=actor, stage=stage, data={"is_active": True})


def stage_reorder(*, actor, order: list) -> list[Stage]:
    """Put the stages in the given order (ids of every stage, each once)."""
    authorize(actor, STAGE_PERM)
    with transaction.atomic():
        stages = {s.pk: s for s in Stage.objects.select_for_update()}
        try:
            ids = [int(pk) for pk in order]
        except (TypeError, ValueError):
            ids = []
        if sorted(ids) != sorted(stages):
            raise Invalid(
                _("List every stage once to reorder them."),
                fields={"order": [_("List every stage once.")]},
            )
        changed = []
        for index, pk in enumerate(ids, start=1):
            stage = stages[pk]
            if stage.sort_order != index * 10:
                before = snapshot(stage)
                stage.sort_order = index * 10
                stage.save(update_fields=["sort_order"])
                audit_record(
                    actor=actor,
                    obj=stage,
                    action=AuditEvent.Action.UPDATE,
                    before=before,
                    note="reorder",
                )
            changed.append(stage)
    return changed


def stage_shift(*, actor, stage: Stage, step: int) -> list[Stage]:
    """Move a stage one place up (-1) or down (+1) in the order."""
    ids = list(Stage.objects.order_by("sort_order", "pk").values_list("pk", flat=True))
    index = ids.index(stage.pk)
    other = index + (1 if step > 0 else -1)
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    return stage_reorder(actor=actor, order=ids)


# Competitors (reference data shared by everybody; no data scope, no version)

COMPETITOR_FIELDS = ("name", "website", "strengths", "weaknesses", "notes", "is_active")


def _check_competitor_data(data: dict, competitor: Competitor | None) -> dict:
    data = {name: data[name] for name in COMPETITOR_FIELDS if name in data}
    for name in ("name", "website", "strengths", "weaknesses", "notes"):
        if name in data:
            data[name] = (data[name] or "").strip()
    if "name" in data or competitor is None:
        name = data.get("name", "")
        if not name:
            _refuse({"name": [_("Enter a name.")]})
        clash = Competitor.objects.filter(name__iexact=name)
        if competitor is not None:
            clash = clash.exclude(pk=competitor.pk)
        if clash.exists():
            _refuse({"name": [_("A competitor with this name exists already.")]})
    return data


def competitor_create(*, actor, data: dict) -> Competitor:
    authorize(actor, "sales.add_competitor")
    data = _check_competitor_data(data, None)
    return record_create(
        actor=actor, model=Competitor, data=data, perm="sales.add_competitor"
    )


def competitor_update(*, actor, obj: Competitor, data: dict, version=None):
    """What reps should know about a competitor; deactivating keeps its history."""
    authorize(actor, "sales.change_competitor")
    with transaction.atomic():
        locked = Competitor.objects.select_for_update().get(pk=obj.pk)
        data = _check_competitor_data(data, locked)
        return record_update(
            actor=actor, obj=locked, data=data, perm="sales.change_competitor"
        )
