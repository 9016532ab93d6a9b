"""S7 commissions (佣金): rules, settlement periods, and the computation of each
employee's commission on the money collected in a period.

Computation (`commission_period_compute`): every posted (not voided) receipt dated
within the period counts for the receipt's owner. Its amount is split across product
categories in proportion to the line totals of its document (the contract's lines for
a contract instalment, the order's lines for an order instalment); a document without
lines (or with a zero total) gives one split without category. For each split the most
specific active rule that matches wins:

    employee + category  >  employee  >  role + category  >  role  >  category  >  a
    rule naming nobody and no category (a default rate)  >  none: no commission

A category rule covers its sub-categories; between two matching category rules of the
same level the deeper category wins, then the higher rate (an employee with two roles
gets the better of the two role rates), then the older rule. Base amounts are rounded
with `decimals_contract`, the last split taking the remainder so the splits add up to
the receipt; commission = base × rate / 100, rounded with `decimals_contract`. A split
that no rule matches is still listed, with rate 0, so the statement shows every
collection. Recomputing an open period replaces its lines.

Closing (`commission_period_close`) recomputes once more and locks the period: it can
no longer be recomputed or edited, a receipt dated inside it is refused, and voiding a
receipt dated inside it is refused (crm.sales.services.payments) — a correction goes
into a later period as a new receipt, never into figures already paid out.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.scopes import authorize
from crm.core.services import record_create, record_update
from crm.products.models import Category
from crm.sales.models import (
    CommissionLine,
    CommissionPeriod,
    CommissionRule,
    ContractLine,
    Payment,
    SalesOrderLine,
)

HUNDRED = Decimal(100)


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)


# Rules


def _check_rule(data: dict, obj: CommissionRule | None = None) -> None:
    def value(name):
        return data[name] if name in data else getattr(obj, name, None)

    errors: dict[str, list[str]] = {}
    employee, role, category = value("employee"), value("role"), value("category")
    if employee is not None and role is not None:
        errors["role"] = [_("Choose an employee or a role, not both.")]
    rate = value("rate")
    if rate is not None and not (Decimal(0) <= Decimal(rate) <= HUNDRED):
        errors["rate"] = [_("The rate is a percentage between 0 and 100.")]
    if value("is_active") is not False and not errors:
        twin = CommissionRule.objects.filter(
            is_active=True, employee=employee, role=role, category=category
        )
        if obj is not None:
            twin = twin.exclude(pk=obj.pk)
        twin = twin.first()
        if twin is not None:
            errors["name"] = [
                _(
                    "The active rule “%(name)s” already covers this employee, role "
                    "and category; change it or deactivate it."
                )
                % {"name": twin.name}
            ]
    _refuse(errors)


def commission_rule_create(*, actor, data: dict) -> CommissionRule:
    """A rule for an employee or a role, optionally a product category, with a rate."""
    authorize(actor, "sales.add_commissionrule")
    with transaction.atomic():
        _check_rule(data)
        return record_create(
            actor=actor,
            model=CommissionRule,
            data=data,
            perm="sales.add_commissionrule",
        )


def commission_rule_update(
    *, actor, obj: CommissionRule, data: dict, version=None
) -> CommissionRule:
    """Change a rule; closed periods keep the rate they were computed with."""
    authorize(actor, "sales.change_commissionrule")
    with transaction.atomic():
        locked = CommissionRule.objects.select_for_update().get(pk=obj.pk)
        _check_rule(data, locked)
        return record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_commissionrule",
        )


@dataclass(frozen=True)
class RuleMatcher:
    """Picks the winning rule for (employee, roles, category path)."""

    rules: tuple

    @classmethod
    def active(cls) -> "RuleMatcher":
        return cls(
            tuple(
                CommissionRule.objects.filter(is_active=True)
                .select_related("category")
                .order_by("pk")
            )
        )

    @staticmethod
    def level(rule: CommissionRule) -> int:
        if rule.employee_id is not None:
            return 5 if rule.category_id is not None else 4
        if rule.role_id is not None:
            return 3 if rule.category_id is not None else 2
        return 1 if rule.category_id is not None else 0

    def best(
        self, *, employee_id: int, role_ids: set[int], category_path: str | None
    ) -> CommissionRule | None:
        candidates = []
        for rule in self.rules:
            if rule.employee_id is not None and rule.employee_id != employee_id:
                continue
            if rule.role_id is not None and rule.role_id not in role_ids:
                continue
            if rule.category_id is not None and not (
                category_path and category_path.startswith(rule.category.path)
            ):
                continue
            depth = len(rule.category.path) if rule.category_id else 0
            candidates.append(((self.level(rule), depth, rule.rate, -rule.pk), rule))
        if not candidates:
            return None
        return max(candidates, key=lambda c: c[0])[1]


# Periods


def _check_period(data: dict, obj: CommissionPeriod | None = None) -> None:
    start = data.get("start_on", getattr(obj, "start_on", None))
    end = data.get("end_on", getattr(obj, "end_on", None))
    errors: dict[str, list[str]] = {}
    if start and end and end < start:
        errors["end_on"] = [_("The end date is before the start date.")]
    elif start and end:
        if connection.vendor == "postgresql":
            # Two overlapping periods created at once must not both pass the check.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {CommissionPeriod._meta.db_table} "
                    "IN SHARE ROW EXCLUSIVE MODE"
                )
        clash = CommissionPeriod.objects.filter(start_on__lte=end, end_on__gte=start)
        if obj is not None:
            clash = clash.exclude(pk=obj.pk)
        clash = clash.order_by("start_on").first()
        if clash is not None:
            errors["start_on"] = [
                _("It overlaps the period %(name)s (%(start)s – %(end)s).")
                % {
                    "name": clash.name,
                    "start": clash.start_on.isoformat(),
                    "end": clash.end_on.isoformat(),
                }
            ]
    _refuse(errors)


def commission_period_create(*, actor, data: dict) -> CommissionPeriod:
    """A settlement period; periods never overlap."""
    authorize(actor, "sales.add_commissionperiod")
    with transaction.atomic():
        _check_period(data)
        return record_create(
            actor=actor,
            model=CommissionPeriod,
            data=data,
            perm="sales.add_commissionperiod",
        )


def commission_period_update(
    *, actor, obj: CommissionPeriod, data: dict, version=None
) -> CommissionPeriod:
    """Rename or move an open period (still without overlapping another)."""
    authorize(actor, "sales.change_commissionperiod")
    with transaction.atomic():
        locked = CommissionPeriod.objects.select_for_update().get(pk=obj.pk)
        if locked.is_closed:
            raise Conflict(_("The period is closed and can no longer be changed."))
        _check_period(data, locked)
        return record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_commissionperiod",
        )


def _category_weights(payments: list[Payment]) -> dict[tuple[str, int], list]:
    """Per document, [(category id or None, line total)] sorted by category."""
    contract_ids = {p.instalment.contract_id for p in payments} - {None}
    order_ids = {p.instalment.order_id for p in payments} - {None}
    weights: dict[tuple[str, int], list] = defaultdict(list)
    sources = (
        ("contract", ContractLine, contract_ids),
        ("order", SalesOrderLine, order_ids),
    )
    for kind, model, ids in sources:
        if not ids:
            continue
        rows = (
            model.objects.filter(**{f"{kind}__in": ids})
            .order_by()
            .values_list(kind, "product__category")
            .annotate(weight=Sum("total"))
        )
        for document_id, category_id, weight in rows:
            if weight and weight > 0:
                weights[(kind, document_id)].append((category_id, weight))
    for splits in weights.values():
        splits.sort(key=lambda s: (s[0] is not None, s[0] or 0))
    return weights


def _split(amount: Decimal, weights: list) -> list[tuple[int | None, Decimal]]:
    """`amount` in proportion to `weights`; the last part takes the rounding rest."""
    if not weights:
        return [(None, amount)]
    total = sum(weight for _category, weight in weights)
    parts, given = [], Decimal(0)
    for index, (category_id, weight) in enumerate(weights):
        if index == len(weights) - 1:
            base = amount - given
        else:
            base = round_money(amount * weight / total, "contract")
            given += base
        parts.append((category_id, base))
    return parts


def _role_ids(user_ids: set[int]) -> dict[int, set[int]]:
    through = get_user_model().groups.through
    roles: dict[int, set[int]] = defaultdict(set)
    for user_id, group_id in through.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "group_id"
    ):
        roles[user_id].add(group_id)
    return roles


def commission_lines_build(period: CommissionPeriod) -> list[CommissionLine]:
    """The period's lines from its receipts and today's rules (not saved)."""
    payments = list(
        Payment.objects.filter(
            status=Payment.Status.POSTED,
            received_on__gte=period.start_on,
            received_on__lte=period.end_on,
            owner__isnull=False,
        )
        .select_related("instalment")
        .order_by("received_on", "pk")
    )
    weights = _category_weights(payments)
    matcher = RuleMatcher.active()
    roles = _role_ids({p.owner_id for p in payments})
    category_ids = {c for splits in weights.values() for c, _w in splits} - {None}
    paths = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "path"))
    lines = []
    for payment in payments:
        instalment = payment.instalment
        document = (
            ("contract", instalment.contract_id)
            if instalment.contract_id
            else ("order", instalment.order_id)
        )
        for category_id, base in _split(payment.amount, weights.get(document, [])):
            rule = matcher.best(
                employee_id=payment.owner_id,
                role_ids=roles.get(payment.owner_id, set()),
                category_path=paths.get(category_id),
            )
            rate = rule.rate if rule is not None else Decimal(0)
            lines.append(
                CommissionLine(
                    period=period,
                    employee_id=payment.owner_id,
                    department_id=payment.department_id,
                    payment=payment,
                    rule=rule,
                    category_id=category_id,
                    base_amount=base,
                    rate=rate,
                    amount=round_money(base * rate / HUNDRED, "contract"),
                )
            )
    return lines


def _recompute(period: CommissionPeriod) -> int:
    lines = commission_lines_build(period)
    CommissionLine.objects.filter(period=period).delete()
    CommissionLine.objects.bulk_create(lines, batch_size=1000)
    return len(lines)


def commission_period_compute(*, actor, period: CommissionPeriod) -> CommissionPeriod:
    """(Re)build an open period's lines from its receipts; `line_count` tells how many."""
    authorize(actor, "sales.change_commissionperiod")
    with transaction.atomic():
        locked = CommissionPeriod.objects.select_for_update().get(pk=period.pk)
        if locked.is_closed:
            raise Conflict(_("The period is closed: its commissions are final."))
        before = snapshot(locked)
        count = _recompute(locked)
        locked.computed_at = timezone.now()
        locked.save(update_fields=["computed_at", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=_("Computed: %(n)s lines") % {"n": count},
        )
    locked.line_count = count
    return locked


def commission_period_close(*, actor, period: CommissionPeriod) -> CommissionPeriod:
    """Compute the period one last time and lock it."""
    authorize(actor, "sales.close_commissionperiod")
    with transaction.atomic():
        locked = CommissionPeriod.objects.select_for_update().get(pk=period.pk)
        if locked.is_closed:
            raise Conflict(_("The period is already closed."))
        before = snapshot(locked)
        count = _recompute(locked)
        now = timezone.now()
        locked.computed_at, locked.closed_at, locked.closed_by = now, now, actor
        locked.status = CommissionPeriod.Status.CLOSED
        locked.save(
            update_fields=[
                "computed_at",
                "closed_at",
                "closed_by",
                "status",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=_("Closed: %(n)s lines") % {"n": count},
        )
    locked.line_count = count
    return locked
