"""S8 sales plans (销售计划): writes of sales targets.

A target is an employee's (owner set; it sits in the employee's department) or a
department's own (no owner). One target per subject and period: a second one is refused
with a Conflict naming the period. Targets are configuration-like records without a
version; every write is authorised, validated field by field, checked against the
actor's sales data scope, audited, in one transaction.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, DomainError, Invalid, invalid_from_django
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.scopes import authorize, can
from crm.core.services import record_delete
from crm.sales.models import SalesTarget
from crm.sales.selectors.plans import period_label, sales_employees

EDITABLE = (
    "period_type",
    "year",
    "period",
    "owner",
    "department",
    "order_target",
    "collection_target",
    "notes",
)
AMOUNTS = ("order_target", "collection_target")
MIN_YEAR, MAX_YEAR = 2000, 2100
PERIODS = {
    SalesTarget.PeriodType.MONTH: 12,
    SalesTarget.PeriodType.QUARTER: 4,
    SalesTarget.PeriodType.YEAR: 1,
}


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _check(target: SalesTarget) -> None:
    """The rules a target's own values must follow, as field errors."""
    errors: dict[str, list[str]] = {}
    if target.period_type not in PERIODS:
        errors["period_type"] = [_("Choose month, quarter or year.")]
    elif target.period_type == SalesTarget.PeriodType.YEAR and not target.period:
        target.period = 1
    if target.year is None or not MIN_YEAR <= target.year <= MAX_YEAR:
        errors["year"] = [
            _("Enter a year from %(min)s to %(max)s.")
            % {"min": MIN_YEAR, "max": MAX_YEAR}
        ]
    limit = PERIODS.get(target.period_type)
    if limit and (target.period is None or not 1 <= target.period <= limit):
        errors["period"] = [
            _("Enter 1 for a year.")
            if limit == 1
            else _("Enter a period from 1 to %(max)s.") % {"max": limit}
        ]
    if target.owner_id is None and target.department_id is None:
        errors["department"] = [
            _("Choose an employee, or a department for a department target.")
        ]
    for name in AMOUNTS:
        value = getattr(target, name)
        if value is None:
            value = Decimal("0")
        try:
            value = round_money(value, "order", field=name)
        except Invalid as exc:
            errors.update(exc.fields)
            continue
        if value < 0:
            errors[name] = [_("A target cannot be negative.")]
        setattr(target, name, value)
    _refuse(errors)


def _duplicate(target: SalesTarget) -> None:
    """One target per subject and period (the constraints would say it less clearly)."""
    same = SalesTarget.objects.filter(
        period_type=target.period_type, year=target.year, period=target.period
    ).exclude(pk=target.pk)
    if target.owner_id:
        same, field = same.filter(owner_id=target.owner_id), "owner"
        message = _("%(subject)s already has a target for %(period)s.")
        subject = target.owner
    else:
        same = same.filter(owner__isnull=True, department_id=target.department_id)
        field = "department"
        message = _("%(subject)s already has a department target for %(period)s.")
        subject = target.department
    if same.exists():
        text = message % {
            "subject": subject,
            "period": period_label(target.period_type, target.year, target.period),
        }
        raise Conflict(text, fields={field: [text]})


def _in_scope(*, actor, target: SalesTarget) -> None:
    """The target must be one the actor may see once saved (the sales data scope)."""
    if not SalesTarget.objects.visible_to(actor).filter(pk=target.pk).exists():
        field = "owner" if target.owner_id else "department"
        message = _("You may only set targets within your data scope.")
        raise Invalid(message, fields={field: [message]})


def _save(*, actor, target: SalesTarget, action: str, before=None) -> SalesTarget:
    if target.owner_id:
        # An employee's target counts in the employee's department.
        target.department_id = target.owner.department_id
    _check(target)
    _duplicate(target)
    try:
        target.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise invalid_from_django(exc) from None
    try:
        with transaction.atomic():
            target.save()
            _in_scope(actor=actor, target=target)
            audit_record(actor=actor, obj=target, action=action, before=before)
    except IntegrityError:
        # Someone saved the same subject and period at the same moment.
        _duplicate(target)
        raise
    return target


def target_create(*, actor, data: dict) -> SalesTarget:
    """A new target for an employee (owner) or a department (no owner)."""
    authorize(actor, "sales.add_salestarget")
    target = SalesTarget(**{k: v for k, v in data.items() if k in EDITABLE})
    with transaction.atomic():
        return _save(actor=actor, target=target, action=AuditEvent.Action.CREATE)


def target_update(*, actor, obj: SalesTarget, data: dict, version=None) -> SalesTarget:
    """Change a target's period, subject or amounts (no version: see DECISIONS)."""
    authorize(actor, "sales.change_salestarget")
    with transaction.atomic():
        target = SalesTarget.objects.select_for_update().get(pk=obj.pk)
        before = snapshot(target)
        for name, value in data.items():
            if name in EDITABLE:
                setattr(target, name, value)
        return _save(
            actor=actor, target=target, action=AuditEvent.Action.UPDATE, before=before
        )


def target_delete(*, actor, obj: SalesTarget) -> None:
    """Targets are plans, not business documents: they are deleted for real."""
    record_delete(actor=actor, obj=obj, perm="sales.delete_salestarget")


def target_grid_save(*, actor, year: int, measure: str, cells: dict) -> int:
    """The yearly grid: `cells` maps (employee id, month) to an amount or None.

    A value creates or changes that employee's month target for `measure` ("order" or
    "collection"); a blank cell sets an existing target's measure to 0 and creates
    nothing. All cells are saved or none; errors name the employee and the month.
    Returns how many targets were written.
    """
    if measure not in ("order", "collection"):
        raise Invalid(
            _("Choose orders or collections."),
            fields={"measure": [_("Choose orders or collections.")]},
        )
    if not (
        can(actor, "sales.add_salestarget") or can(actor, "sales.change_salestarget")
    ):
        authorize(actor, "sales.change_salestarget")
    field = f"{measure}_target"
    if not MIN_YEAR <= year <= MAX_YEAR:
        message = _("Enter a year from %(min)s to %(max)s.") % {
            "min": MIN_YEAR,
            "max": MAX_YEAR,
        }
        raise Invalid(message, fields={"year": [message]})
    employees = {
        e.pk: e
        for e in sales_employees(actor=actor).filter(
            pk__in={pk for pk, _month in cells}
        )
    }
    errors: dict[str, list[str]] = {}
    amounts: dict[tuple[int, int], Decimal | None] = {}
    for (pk, month), raw in cells.items():
        key = f"cell-{pk}-{month}"
        if pk not in employees:
            errors[key] = [_("This employee is outside your data scope.")]
            continue
        if not 1 <= month <= 12:
            errors[key] = [_("Enter a month from 1 to 12.")]
            continue
        if raw in (None, ""):
            amounts[(pk, month)] = None
            continue
        try:
            value = round_money(str(raw).strip().replace(",", ""), "order", field=key)
        except DomainError as exc:
            errors[key] = [
                _("%(employee)s, month %(month)s: %(error)s")
                % {"employee": employees[pk], "month": month, "error": exc.message}
            ]
            continue
        if value < 0:
            errors[key] = [
                _("%(employee)s, month %(month)s: a target cannot be negative.")
                % {"employee": employees[pk], "month": month}
            ]
            continue
        amounts[(pk, month)] = value
    _refuse(errors)
    written = 0
    with transaction.atomic():
        existing = {
            (t.owner_id, t.period): t
            for t in SalesTarget.objects.select_for_update().filter(
                owner_id__in=employees,
                period_type=SalesTarget.PeriodType.MONTH,
                year=year,
            )
        }
        needs = set()
        for key, value in amounts.items():
            target = existing.get(key)
            if target is None and value:
                needs.add("sales.add_salestarget")
            elif target is not None and (value or Decimal("0")) != getattr(
                target, field
            ):
                needs.add("sales.change_salestarget")
        for perm in sorted(needs):
            authorize(actor, perm)
        for (pk, month), value in sorted(amounts.items()):
            target = existing.get((pk, month))
            if target is None:
                if not value:
                    continue
                target = SalesTarget(
                    owner=employees[pk],
                    period_type=SalesTarget.PeriodType.MONTH,
                    year=year,
                    period=month,
                    **{field: value},
                )
                _save(actor=actor, target=target, action=AuditEvent.Action.CREATE)
                written += 1
            elif (value or Decimal("0")) != getattr(target, field):
                before = snapshot(target)
                setattr(target, field, value or Decimal("0"))
                _save(
                    actor=actor,
                    target=target,
                    action=AuditEvent.Action.UPDATE,
                    before=before,
                )
                written += 1
    return written
