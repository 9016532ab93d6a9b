"""D7 targets and D8 scores: writes, and the scoring of a period.

Rules (see docs in each function; all money Decimal, ROUND_HALF_UP):
- A partner has one target per period kind and start (month, quarter, year; the start is
  the period's first day, the end is computed). A target inside a closed score period is
  final: changing, deleting or creating one there is refused (409).
- A period is scored against the partner's target of the same kind and start; without
  one, against the targets of the next smaller kind inside it, added up (PeriodTarget).
- A period's computation covers EVERY partner that is not terminated, whoever triggers it,
  so ranks are global; each viewer then sees only the partners in their scope.
- Each active KPI gives 0–100 points (two decimals) with a breakdown entry naming its
  inputs and formula. A KPI without inputs for a partner (no target, no service level
  entered, no stock reported…) is "not applicable": it is left out of that partner's
  weights, and the breakdown says so. total = Σ points × weight ÷ Σ weights (applicable
  active KPIs), two decimals. Ranks: ties share a rank, the next rank skips (1, 1, 3).
- Outcomes from the agreement in force at the period end: the highest rebate tier whose
  threshold the achievement reaches (percent × sell-in received in the period); the
  largest fine among the penalties whose threshold the achievement is below. No target
  (no achievement) means no rebate and no penalty.
- Closing a period locks it: no recompute, no target edits inside it."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.channels.models import (
    AgreementTerm,
    Kpi,
    Partner,
    PartnerScore,
    PartnerTarget,
    PartnerTargetLine,
    PeriodKind,
    ReceiptLine,
    ScorePeriod,
    SellThroughLine,
    SellThroughReport,
    StockBound,
    StockCount,
)
from crm.channels.selectors.partners_scope import partners_visible
from crm.channels.selectors.scores import (
    add_months,
    closed_period_covering,
    is_period_start,
    month_starts,
    new_customers_subquery,
    period_end,
    period_name,
    previous_period,
    sum_of,
)
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.scopes import authorize

HUNDRED = Decimal("100")
CENT = Decimal("0.01")
ZERO = Decimal("0")
NEUTRAL = Decimal("50")

TARGET_FIELDS = (
    "partner",
    "period_kind",
    "starts_on",
    "sales_amount",
    "new_customers",
    "service_level",
    "service_level_actual",
)


def q2(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def plain(value) -> str:
    """80.00 → "80", 2.50 → "2.5" (no exponent)."""
    text = format(Decimal(value).normalize(), "f")
    return text


def clamp(value: Decimal, low=ZERO, high=HUNDRED) -> Decimal:
    return max(low, min(high, value))


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)


# Targets


def _target_lines(raw) -> list[tuple]:
    """[(category, quantity)] from the input; a category at most once, quantity > 0."""
    errors, lines, seen = {}, [], set()
    for index, line in enumerate(raw or [], start=1):
        category, quantity = line.get("category"), line.get("quantity")
        key = f"lines[{index}]"
        if category is None:
            errors[key] = [_("Line %(n)s: choose a product line.") % {"n": index}]
            continue
        if quantity is None or Decimal(quantity) <= 0:
            errors[key] = [_("Line %(n)s: enter a quantity above 0.") % {"n": index}]
            continue
        if category.pk in seen:
            errors[key] = [
                _("Line %(n)s: %(line)s appears twice.")
                % {"n": index, "line": category}
            ]
            continue
        seen.add(category.pk)
        lines.append((category, Decimal(quantity)))
    _refuse(errors)
    return lines


def _check_target(target: PartnerTarget) -> None:
    errors: dict[str, list[str]] = {}
    if target.period_kind not in PeriodKind.values:
        errors["period_kind"] = [_("Choose month, quarter or year.")]
    elif target.starts_on is None:
        errors["starts_on"] = [_("Enter the first day of the period.")]
    elif not is_period_start(target.period_kind, target.starts_on):
        errors["starts_on"] = [
            _(
                "A period starts on its first day: the 1st of a month, of a quarter "
                "(January, April, July, October) or of January for a year."
            )
        ]
    else:
        target.ends_on = period_end(target.period_kind, target.starts_on)
    try:
        target.sales_amount = round_money(
            target.sales_amount or 0, "order", field="sales_amount"
        )
    except Invalid as exc:
        errors.update(exc.fields)
    else:
        if target.sales_amount < 0:
            errors["sales_amount"] = [_("A target cannot be negative.")]
    for name in ("service_level", "service_level_actual"):
        value = getattr(target, name)
        if value is not None and not ZERO <= Decimal(value) <= Decimal("1000"):
            errors[name] = [_("Enter a percentage from 0 to 1000.")]
    _refuse(errors)


def _refuse_locked(kind, starts_on, ends_on) -> None:
    closed = closed_period_covering(starts_on, ends_on)
    if closed is not None:
        raise Conflict(
            _("Score period %(period)s is closed: its targets are final.")
            % {"period": closed}
        )


def _refuse_duplicate(target: PartnerTarget) -> None:
    same = PartnerTarget.objects.filter(
        partner_id=target.partner_id,
        period_kind=target.period_kind,
        starts_on=target.starts_on,
    ).exclude(pk=target.pk)
    if same.exists():
        text = _("%(partner)s already has a target for %(period)s.") % {
            "partner": target.partner,
            "period": period_name(target.period_kind, target.starts_on),
        }
        raise Conflict(text, fields={"starts_on": [text]})


def _in_scope(actor, partner: Partner) -> None:
    if not partners_visible(actor).filter(pk=partner.pk).exists():
        message = _("You may only set targets for partners in your data scope.")
        raise Invalid(message, fields={"partner": [message]})


def _save_target(target: PartnerTarget, lines) -> None:
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        _refuse_duplicate(target)
        raise
    if lines is not None:
        target.lines.all().delete()
        PartnerTargetLine.objects.bulk_create(
            PartnerTargetLine(target=target, category=category, quantity=quantity)
            for category, quantity in lines
        )


def target_create(*, actor, data: dict) -> PartnerTarget:
    """A partner's target for a month, quarter or year (`starts_on` its first day);
    `lines`: [{"category", "quantity"}] product-line quantity targets."""
    authorize(actor, "channels.add_partnertarget")
    lines = _target_lines(data.get("lines"))
    target = PartnerTarget(**{k: v for k, v in data.items() if k in TARGET_FIELDS})
    if target.partner_id is None:
        _refuse({"partner": [_("Choose a partner.")]})
    _in_scope(actor, target.partner)
    _check_target(target)
    with transaction.atomic():
        _refuse_locked(target.period_kind, target.starts_on, target.ends_on)
        _refuse_duplicate(target)
        target.owner_id = target.partner.owner_id
        target.department_id = target.partner.department_id
        _save_target(target, lines)
        audit_record(actor=actor, obj=target, action=AuditEvent.Action.CREATE)
    return target


def _lock_target(obj: PartnerTarget, version) -> PartnerTarget:
    locked = PartnerTarget.objects.select_for_update().get(pk=obj.pk)
    if version is None:
        raise Conflict(
            _("The record version is missing."), fields={"version": [_("Required.")]}
        )
    if int(version) != locked.version:
        raise Conflict(
            _(
                "This record was changed by someone else in the meantime. "
                "Reload it and apply your change again."
            ),
            fields={
                "version": [
                    _("Stale version %(v)s; current is %(c)s.")
                    % {"v": version, "c": locked.version}
                ]
            },
        )
    _refuse_locked(locked.period_kind, locked.starts_on, locked.ends_on)
    return locked


def target_update(*, actor, obj: PartnerTarget, data: dict, version=None):
    """Change a target (and, when `lines` is given, replace its product lines)."""
    authorize(actor, "channels.change_partnertarget")
    lines = _target_lines(data["lines"]) if "lines" in data else None
    with transaction.atomic():
        target = _lock_target(obj, version)
        before = snapshot(target)
        for name, value in data.items():
            if name in TARGET_FIELDS:
                setattr(target, name, value)
        _in_scope(actor, target.partner)
        _check_target(target)
        _refuse_locked(target.period_kind, target.starts_on, target.ends_on)
        _refuse_duplicate(target)
        target.owner_id = target.partner.owner_id
        target.department_id = target.partner.department_id
        target.version += 1
        _save_target(target, lines)
        audit_record(
            actor=actor, obj=target, action=AuditEvent.Action.UPDATE, before=before
        )
    return target


def target_delete(*, actor, obj: PartnerTarget) -> None:
    """Targets are plans: deleted for real, unless a closed period holds them."""
    authorize(actor, "channels.delete_partnertarget")
    with transaction.atomic():
        locked = PartnerTarget.objects.select_for_update().get(pk=obj.pk)
        _refuse_locked(locked.period_kind, locked.starts_on, locked.ends_on)
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.DELETE,
            before=snapshot(locked),
        )
        locked.delete()


# KPIs

# Each measure's parameters: name -> (default, minimum, maximum).
PARAMETERS = {
    Kpi.Measure.TARGET_ACHIEVEMENT: {"cap": (100, 1, 1000)},
    Kpi.Measure.GROWTH: {"span": (50, 1, 1000)},
    Kpi.Measure.INVENTORY_HEALTH: {"window_days": (30, 1, 366)},
    Kpi.Measure.REPORTING_TIMELINESS: {"deadline_day": (5, 1, 28)},
    Kpi.Measure.SERVICE_LEVEL: {"cap": (100, 1, 1000)},
    Kpi.Measure.NEW_CUSTOMERS: {"cap": (100, 1, 1000)},
    Kpi.Measure.PRODUCT_LINES: {"cap": (100, 1, 1000)},
}


def kpi_parameters(kpi: Kpi) -> dict:
    """The KPI's parameters with the measure's defaults filled in."""
    defaults = {name: spec[0] for name, spec in PARAMETERS[kpi.measure].items()}
    return {**defaults, **(kpi.parameters or {})}


def _check_parameters(measure: str, parameters) -> dict:
    if parameters in (None, ""):
        return {}
    known = PARAMETERS.get(measure, {})
    if not isinstance(parameters, dict):
        _refuse({"parameters": [_("Enter an object of parameter names and values.")]})
    errors = []
    clean = {}
    for name, value in parameters.items():
        if name not in known:
            errors.append(
                _("Unknown parameter %(name)s; this measure takes: %(names)s.")
                % {"name": name, "names": ", ".join(known) or "—"}
            )
            continue
        _default, low, high = known[name]
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(_("%(name)s must be a whole number.") % {"name": name})
        elif not low <= value <= high:
            errors.append(
                _("%(name)s must be from %(min)s to %(max)s.")
                % {"name": name, "min": low, "max": high}
            )
        else:
            clean[name] = value
    if errors:
        _refuse({"parameters": errors})
    return clean


def kpi_update(*, actor, obj: Kpi, data: dict) -> Kpi:
    """Weight (≥ 0), active, parameters (checked per measure), name, description,
    order. The measure of a KPI is fixed."""
    authorize(actor, "channels.change_kpi")
    with transaction.atomic():
        kpi = Kpi.objects.select_for_update().get(pk=obj.pk)
        before = snapshot(kpi)
        errors = {}
        if "weight" in data:
            weight = data["weight"]
            if weight is None or Decimal(weight) < 0 or Decimal(weight) > 1000:
                errors["weight"] = [_("Enter a weight from 0 to 1000.")]
            else:
                kpi.weight = q2(weight)
        if "parameters" in data:
            kpi.parameters = _check_parameters(kpi.measure, data["parameters"])
        for name in ("active", "name", "description", "sort_order"):
            if name in data and data[name] is not None:
                setattr(kpi, name, data[name])
        if not str(kpi.name).strip():
            errors["name"] = [_("Enter a name.")]
        _refuse(errors)
        kpi.save()
        audit_record(
            actor=actor, obj=kpi, action=AuditEvent.Action.UPDATE, before=before
        )
    return kpi


# Score periods


def period_create(*, actor, data: dict) -> ScorePeriod:
    """A month, quarter or year to score; `starts_on` its first day, the end computed,
    the name (2026-03, 2026 Q1, 2026) unless given. One period per kind and start."""
    authorize(actor, "channels.add_scoreperiod")
    kind, starts_on = data.get("kind"), data.get("starts_on")
    errors = {}
    if kind not in PeriodKind.values:
        errors["kind"] = [_("Choose month, quarter or year.")]
    if starts_on is None:
        errors["starts_on"] = [_("Enter the first day of the period.")]
    elif kind in PeriodKind.values and not is_period_start(kind, starts_on):
        errors["starts_on"] = [
            _(
                "A period starts on its first day: the 1st of a month, of a quarter "
                "(January, April, July, October) or of January for a year."
            )
        ]
    _refuse(errors)
    name = (data.get("name") or "").strip() or period_name(kind, starts_on)
    with transaction.atomic():
        if ScorePeriod.objects.filter(kind=kind, starts_on=starts_on).exists():
            text = _("Period %(name)s already exists.") % {
                "name": period_name(kind, starts_on)
            }
            raise Conflict(text, fields={"starts_on": [text]})
        period = ScorePeriod.objects.create(
            name=name[:50],
            kind=kind,
            starts_on=starts_on,
            ends_on=period_end(kind, starts_on),
        )
        audit_record(actor=actor, obj=period, action=AuditEvent.Action.CREATE)
    return period


def period_compute(*, actor, period: ScorePeriod) -> ScorePeriod:
    """Score every non-terminated partner for an open period, replacing its scores."""
    authorize(actor, "channels.change_scoreperiod")
    with transaction.atomic():
        locked = ScorePeriod.objects.select_for_update().get(pk=period.pk)
        if locked.status == ScorePeriod.Status.CLOSED:
            raise Conflict(_("The period is closed: its scores are final."))
        before = snapshot(locked)
        scores = score_partners(locked)
        PartnerScore.objects.filter(period=locked).delete()
        PartnerScore.objects.bulk_create(scores, batch_size=500)
        locked.computed_at = timezone.now()
        locked.save(update_fields=["computed_at", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=_("Computed: %(n)s partners") % {"n": len(scores)},
        )
    locked.score_count = len(scores)
    return locked


score_period_compute = period_compute


def period_close(*, actor, period: ScorePeriod) -> ScorePeriod:
    """Lock a computed period: no recompute, no target edits inside it."""
    authorize(actor, "channels.close_scoreperiod")
    with transaction.atomic():
        locked = ScorePeriod.objects.select_for_update().get(pk=period.pk)
        if locked.status == ScorePeriod.Status.CLOSED:
            raise Conflict(_("The period is already closed."))
        if locked.computed_at is None:
            raise Conflict(_("Compute the period's scores before closing it."))
        before = snapshot(locked)
        locked.status = ScorePeriod.Status.CLOSED
        locked.closed_at, locked.closed_by = timezone.now(), actor
        locked.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=_("Closed"),
        )
    return locked


def period_delete(*, actor, period: ScorePeriod) -> None:
    """An open period may be deleted with its scores; a closed one is history."""
    authorize(actor, "channels.delete_scoreperiod")
    with transaction.atomic():
        locked = ScorePeriod.objects.select_for_update().get(pk=period.pk)
        if locked.status == ScorePeriod.Status.CLOSED:
            raise Conflict(_("The period is closed: its scores are final."))
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.DELETE,
            before=snapshot(locked),
        )
        locked.delete()


# Scoring


def _s(value) -> str | None:
    """A Decimal for the JSON breakdown (plain text, exact)."""
    return None if value is None else str(value)


class PeriodTarget:
    """The targets a period is scored against: the partner's own target of the period's
    kind and start; without one, the targets of the next smaller kind inside the period
    added up (a quarter: its month targets; a year: its quarter targets, else its month
    targets). Service levels are then averaged over the targets that set them."""

    def __init__(self, targets: list[PartnerTarget]):
        self.count = len(targets)
        self.sales_amount = sum((t.sales_amount for t in targets), ZERO)
        self.new_customers = sum(t.new_customers for t in targets)
        levels = [t.service_level for t in targets if t.service_level]
        actuals = [
            t.service_level_actual
            for t in targets
            if t.service_level and t.service_level_actual is not None
        ]
        self.service_level = q2(sum(levels) / len(levels)) if levels else None
        self.service_level_actual = q2(sum(actuals) / len(actuals)) if actuals else None
        lines: dict[int, list] = {}
        for t in targets:
            for line in t.lines.all():
                entry = lines.setdefault(line.category_id, [line.category, ZERO])
                entry[1] += line.quantity
        self.lines = [(category, quantity) for category, quantity in lines.values()]


SMALLER = {
    PeriodKind.MONTH: (),
    PeriodKind.QUARTER: (PeriodKind.MONTH,),
    PeriodKind.YEAR: (PeriodKind.QUARTER, PeriodKind.MONTH),
}


def _period_targets(facts, period: ScorePeriod) -> None:
    by_kind = PartnerTarget.objects.filter(
        partner_id__in=facts,
        starts_on__gte=period.starts_on,
        ends_on__lte=period.ends_on,
    ).prefetch_related("lines__category")
    grouped: dict[tuple, list] = {}
    for t in by_kind:
        grouped.setdefault((t.partner_id, t.period_kind), []).append(t)
    for pk, f in facts.items():
        own = [
            t
            for t in grouped.get((pk, period.kind), [])
            if t.starts_on == period.starts_on
        ]
        if own:
            f.target = PeriodTarget(own)
            continue
        for kind in SMALLER[period.kind]:
            if grouped.get((pk, kind)):
                f.target = PeriodTarget(grouped[(pk, kind)])
                break


class Facts:
    """Everything the measures read about one partner in one period."""

    def __init__(self, partner: Partner):
        self.partner = partner
        self.target: PeriodTarget | None = None
        self.sell_through = ZERO
        self.previous = ZERO
        self.sell_in = ZERO
        self.new_customers = 0
        self.stock: list[dict] = []
        self.months_on_time: list[tuple[datetime.date, bool]] = []
        self.line_quantities: dict[int, Decimal] = {}

    @property
    def achievement(self) -> Decimal | None:
        if self.target is None or not self.target.sales_amount:
            return None
        return q2(self.sell_through * HUNDRED / self.target.sales_amount)


def gather_facts(period: ScorePeriod, partners, kpis) -> dict[int, Facts]:
    """Bulk reads for all partners: a handful of queries whatever their number."""
    start, end = period.starts_on, period.ends_on
    prev_start, prev_end = previous_period(period.kind, start)
    facts = {p.pk: Facts(p) for p in partners}
    lines = SellThroughLine.objects.filter(partner=OuterRef("pk"))
    annotated = Partner.objects.filter(pk__in=facts).annotate(
        st=sum_of(lines.filter(sold_on__gte=start, sold_on__lte=end), "amount"),
        prev=sum_of(
            lines.filter(sold_on__gte=prev_start, sold_on__lte=prev_end), "amount"
        ),
        si=sum_of(
            ReceiptLine.objects.filter(
                partner=OuterRef("pk"), received_on__gte=start, received_on__lte=end
            ),
            "amount",
        ),
        newc=new_customers_subquery(OuterRef("pk"), start, end),
    )
    for row in annotated.values("pk", "st", "prev", "si", "newc"):
        f = facts[row["pk"]]
        f.sell_through, f.previous = Decimal(row["st"]), Decimal(row["prev"])
        f.sell_in, f.new_customers = Decimal(row["si"]), row["newc"]
    _period_targets(facts, period)
    measures = {k.measure for k in kpis}
    params = {k.measure: kpi_parameters(k) for k in kpis}
    if Kpi.Measure.INVENTORY_HEALTH in measures:
        _gather_stock(
            facts, period, params[Kpi.Measure.INVENTORY_HEALTH]["window_days"]
        )
    if Kpi.Measure.REPORTING_TIMELINESS in measures:
        _gather_reports(
            facts, period, params[Kpi.Measure.REPORTING_TIMELINESS]["deadline_day"]
        )
    if Kpi.Measure.PRODUCT_LINES in measures:
        _gather_line_quantities(facts, period)
    return facts


def _gather_stock(facts, period: ScorePeriod, window_days: int) -> None:
    """Per partner × product with a stock count on or before the period end: the stock at
    the period end (last count + received since − sold since, as the reconciliation
    computes it; never below 0) and the quantity sold in the `window_days` up to it."""
    end = period.ends_on
    window_start = end - datetime.timedelta(days=window_days - 1)
    last_count = (
        StockCount.objects.filter(
            partner=OuterRef("partner"),
            product=OuterRef("product"),
            counted_on__lte=end,
        )
        .order_by("-counted_on", "-pk")
        .values("pk")[:1]
    )
    sold = SellThroughLine.objects.filter(
        partner=OuterRef("partner"), product=OuterRef("product"), sold_on__lte=end
    )
    received = ReceiptLine.objects.filter(
        partner=OuterRef("partner"), product=OuterRef("product"), received_on__lte=end
    )
    counts = (
        StockCount.objects.filter(partner_id__in=facts, pk=Subquery(last_count))
        .annotate(
            received_since=sum_of(
                received.filter(received_on__gt=OuterRef("counted_on")), "quantity"
            ),
            sold_since=sum_of(
                sold.filter(sold_on__gt=OuterRef("counted_on")), "quantity"
            ),
            sold_window=sum_of(sold.filter(sold_on__gte=window_start), "quantity"),
        )
        .select_related("product")
        .order_by("partner_id", "product__code")
    )
    bounds = {(b.partner_id, b.product_id): b for b in StockBound.objects.all()}
    for count in counts:
        stock = max(
            ZERO,
            Decimal(count.quantity)
            + Decimal(count.received_since)
            - Decimal(count.sold_since),
        )
        sold_window = Decimal(count.sold_window)
        if stock == 0 and sold_window == 0:
            continue  # not carried any more: neither stocked nor sold
        bound = (
            bounds.get((count.partner_id, count.product_id))
            or bounds.get((None, count.product_id))
            or bounds.get((count.partner_id, None))
            or bounds.get((None, None))
        )
        low = bound.low_days if bound else 7
        high = bound.high_days if bound else 90
        daily = sold_window / window_days
        days = q2(stock / daily) if daily else None  # None: no sales, infinite cover
        inside = days is not None and low <= days <= high
        facts[count.partner_id].stock.append(
            {
                "product": count.product.code,
                "stock": _s(q2(stock)),
                "sold_window": _s(q2(sold_window)),
                "days": _s(days),
                "low": low,
                "high": high,
                "inside": inside,
            }
        )


def _gather_reports(facts, period: ScorePeriod, deadline_day: int) -> None:
    """Per partner and month of the period: was a sell-through report covering the month
    submitted by `deadline_day` of the following month? A report covers the months of
    its from/until dates, or else of its lines' sale dates."""
    start, end = period.starts_on, period.ends_on
    reports = (
        SellThroughReport.objects.filter(partner_id__in=facts)
        .annotate(first=Min("lines__sold_on"), last=Max("lines__sold_on"))
        .filter(
            Q(period_start__lte=end, period_end__gte=start)
            | Q(first__lte=end, last__gte=start)
        )
        .values(
            "partner_id", "created_at", "period_start", "period_end", "first", "last"
        )
    )
    covered: dict[int, list] = {}
    for r in reports:
        lo = r["period_start"] if r["period_start"] else r["first"]
        hi = r["period_end"] if r["period_end"] else r["last"]
        if lo is None or hi is None:
            continue
        covered.setdefault(r["partner_id"], []).append(
            (lo, hi, timezone.localtime(r["created_at"]).date())
        )
    for pk, f in facts.items():
        for month in month_starts(start, end):
            month_end = add_months(month, 1) - datetime.timedelta(days=1)
            deadline = add_months(month, 1).replace(day=deadline_day)
            on_time = any(
                lo <= month_end and hi >= month and submitted <= deadline
                for lo, hi, submitted in covered.get(pk, [])
            )
            f.months_on_time.append((month, on_time, deadline))


def _gather_line_quantities(facts, period: ScorePeriod) -> None:
    """Quantity sold per product line of each partner's target (one query per line)."""
    for f in facts.values():
        if f.target is not None:
            for category, _quantity in f.target.lines:
                f.line_quantities[category.pk] = _line_sold(f, category, period)


def _line_sold(f: Facts, category, period: ScorePeriod) -> Decimal:
    total = SellThroughLine.objects.filter(
        partner_id=f.partner.pk,
        sold_on__gte=period.starts_on,
        sold_on__lte=period.ends_on,
        product__category__path__startswith=category.path,
    ).aggregate(q=Sum("quantity"))["q"]
    return Decimal(total or 0)


# Measures: each returns (points or None when not applicable, inputs, formula)


def measure_target_achievement(f: Facts, params):
    cap = Decimal(params["cap"])
    target = f.target.sales_amount if f.target else ZERO
    inputs = {"sell_through": _s(f.sell_through), "target": _s(target)}
    if f.target and f.target.count > 1:
        inputs["targets"] = f.target.count
    if not target:
        return None, inputs, "no_target"
    achievement = f.achievement
    inputs["achievement"] = _s(achievement)
    points = q2(clamp(achievement, ZERO, cap) * HUNDRED / cap)
    formula = (
        f"min(100, {q2(f.sell_through)} ÷ {q2(target)} × 100 = {achievement})"
        f" = {points}"
        if cap == HUNDRED
        else f"min({cap}, {achievement}) × 100 ÷ {cap} = {points}"
    )
    return points, inputs, formula


def measure_growth(f: Facts, params):
    span = Decimal(params["span"])
    inputs = {"sell_through": _s(f.sell_through), "previous": _s(f.previous)}
    if not f.previous:
        return NEUTRAL, inputs, "no_previous"
    growth = q2((f.sell_through - f.previous) * HUNDRED / f.previous)
    inputs["growth"] = _s(growth)
    points = q2(clamp(NEUTRAL + growth * NEUTRAL / span))
    formula = (
        f"growth = ({q2(f.sell_through)} − {q2(f.previous)}) ÷ {q2(f.previous)}"
        f" × 100 = {growth}%; "
        f"points = 50 + {growth} × 50 ÷ {span}, within 0–100 = {points}"
    )
    return points, inputs, formula


def measure_inventory_health(f: Facts, params):
    total = len(f.stock)
    inside = sum(1 for row in f.stock if row["inside"])
    inputs = {
        "products": total,
        "inside": inside,
        "window_days": params["window_days"],
        "items": f.stock,
    }
    if not total:
        return None, inputs, "no_stock"
    points = q2(Decimal(inside) * HUNDRED / total)
    return points, inputs, f"{inside} ÷ {total} × 100 = {points}"


def measure_reporting_timeliness(f: Facts, params):
    months = len(f.months_on_time)
    on_time = sum(1 for _m, ok, _d in f.months_on_time if ok)
    inputs = {
        "months": months,
        "on_time": on_time,
        "deadline_day": params["deadline_day"],
        "items": [
            {"month": f"{m:%Y-%m}", "deadline": d.isoformat(), "on_time": ok}
            for m, ok, d in f.months_on_time
        ],
    }
    points = q2(Decimal(on_time) * HUNDRED / months)
    return points, inputs, f"{on_time} ÷ {months} × 100 = {points}"


def measure_service_level(f: Facts, params):
    cap = Decimal(params["cap"])
    target = f.target.service_level if f.target else None
    actual = f.target.service_level_actual if f.target else None
    inputs = {"actual": _s(actual), "target": _s(target)}
    if not target or actual is None:
        return None, inputs, "no_service_level"
    ratio = q2(Decimal(actual) * HUNDRED / Decimal(target))
    points = q2(clamp(ratio, ZERO, cap) * HUNDRED / cap)
    return (
        points,
        inputs,
        f"min(100, {q2(actual)} ÷ {q2(target)} × 100 = {ratio}) = {points}",
    )


def measure_new_customers(f: Facts, params):
    cap = Decimal(params["cap"])
    target = f.target.new_customers if f.target else 0
    inputs = {"actual": f.new_customers, "target": target}
    if not target:
        return None, inputs, "no_target"
    ratio = q2(Decimal(f.new_customers) * HUNDRED / target)
    points = q2(clamp(ratio, ZERO, cap) * HUNDRED / cap)
    return (
        points,
        inputs,
        (f"min(100, {f.new_customers} ÷ {target} × 100 = {ratio}) = {points}"),
    )


def measure_product_lines(f: Facts, params):
    lines = f.target.lines if f.target else []
    items, ratios = [], []
    for category, quantity in sorted(lines, key=lambda x: x[0].path):
        sold = f.line_quantities.get(category.pk, ZERO)
        ratio = q2(clamp(sold * HUNDRED / quantity))
        ratios.append(ratio)
        items.append(
            {
                "line": category.name,
                "target": _s(quantity),
                "sold": _s(sold),
                "points": _s(ratio),
            }
        )
    inputs = {"items": items}
    if not ratios:
        return None, inputs, "no_lines"
    points = q2(sum(ratios) / len(ratios))
    return (
        points,
        inputs,
        (f"({' + '.join(str(r) for r in ratios)}) ÷ {len(ratios)} = {points}"),
    )


MEASURES = {
    Kpi.Measure.TARGET_ACHIEVEMENT: measure_target_achievement,
    Kpi.Measure.GROWTH: measure_growth,
    Kpi.Measure.INVENTORY_HEALTH: measure_inventory_health,
    Kpi.Measure.REPORTING_TIMELINESS: measure_reporting_timeliness,
    Kpi.Measure.SERVICE_LEVEL: measure_service_level,
    Kpi.Measure.NEW_CUSTOMERS: measure_new_customers,
    Kpi.Measure.PRODUCT_LINES: measure_product_lines,
}


def score_breakdown(f: Facts, kpis) -> tuple[Decimal, list[dict]]:
    """Each active KPI's entry, and total = Σ points × weight ÷ Σ weights over the
    applicable ones (two decimals, half up)."""
    entries = []
    for kpi in kpis:
        points, inputs, formula = MEASURES[kpi.measure](f, kpi_parameters(kpi))
        entries.append(
            {
                "kpi": kpi.code,
                "name": kpi.name,
                "measure": kpi.measure,
                "weight": _s(kpi.weight),
                "applicable": points is not None,
                "inputs": inputs,
                "formula": formula,
                "points": _s(points),
            }
        )
    weights = sum(
        (Decimal(e["weight"]) for e in entries if e["applicable"]), start=ZERO
    )
    weighted_sum = ZERO
    for entry in entries:
        if entry["applicable"] and weights:
            weight = Decimal(entry["weight"])
            entry["share"] = _s(q2(weight * HUNDRED / weights))
            entry["weighted"] = _s(q2(Decimal(entry["points"]) * weight / weights))
            weighted_sum += Decimal(entry["points"]) * weight
        else:
            entry["share"], entry["weighted"] = None, None
    total = q2(weighted_sum / weights) if weights else ZERO
    return total, entries


def rank_scores(scores: list[PartnerScore]) -> None:
    """Best total first; equal totals share a rank and the next rank skips (1, 1, 3)."""
    ordered = sorted(scores, key=lambda s: -s.total)
    previous, rank = None, 0
    for position, score in enumerate(ordered, start=1):
        if score.total != previous:
            rank, previous = position, score.total
        score.rank = rank


def agreement_outcome(f: Facts, period: ScorePeriod) -> dict:
    """Rebate and penalty from the agreement in force at the period end."""
    from crm.channels.selectors.agreements import agreement_in_force

    result = {
        "agreement": None,
        "rebate": ZERO,
        "penalty": ZERO,
        "rebate_rule": None,
        "penalty_rule": None,
    }
    agreement = agreement_in_force(f.partner, period.ends_on)
    if agreement is None:
        result["text"] = _("No agreement in force at the period end.")
        return result
    result["agreement"] = agreement.number
    achievement = f.achievement
    if achievement is None:
        result["text"] = _(
            "Agreement %(number)s: no sell-through target, so no rebate or penalty."
        ) % {"number": agreement.number}
        return result
    rules = list(AgreementTerm.objects.filter(agreement=agreement))
    tiers = [
        r
        for r in rules
        if r.kind == AgreementTerm.Kind.REBATE and achievement >= r.threshold_percent
    ]
    fines = [
        r
        for r in rules
        if r.kind == AgreementTerm.Kind.PENALTY and achievement < r.threshold_percent
    ]
    parts = []
    if tiers:
        tier = max(tiers, key=lambda r: r.threshold_percent)
        result["rebate"] = round_money(f.sell_in * tier.percent / HUNDRED, "order")
        result["rebate_rule"] = {
            "threshold": _s(tier.threshold_percent),
            "percent": _s(tier.percent),
            "sell_in": _s(f.sell_in),
        }
        parts.append(
            _(
                "Rebate %(percent)s%% of sell-in %(sell_in)s = %(amount)s "
                "(achievement %(achievement)s%% ≥ %(threshold)s%%)"
            )
            % {
                "percent": plain(tier.percent),
                "sell_in": q2(f.sell_in),
                "amount": result["rebate"],
                "achievement": achievement,
                "threshold": plain(tier.threshold_percent),
            }
        )
    if fines:
        fine = max(fines, key=lambda r: (r.amount, -r.threshold_percent))
        result["penalty"] = round_money(fine.amount, "order")
        result["penalty_rule"] = {
            "threshold": _s(fine.threshold_percent),
            "amount": _s(fine.amount),
        }
        parts.append(
            _("Penalty %(amount)s (achievement %(achievement)s%% < %(threshold)s%%)")
            % {
                "amount": result["penalty"],
                "achievement": achievement,
                "threshold": plain(fine.threshold_percent),
            }
        )
    if not parts:
        parts.append(_("No rebate tier reached and no penalty."))
    result["text"] = f"{agreement.number}: " + "; ".join(parts)
    return result


def score_partners(period: ScorePeriod) -> list[PartnerScore]:
    """The scores of every non-terminated partner for the period (not saved), ranked."""
    kpis = list(Kpi.objects.filter(active=True).order_by("sort_order", "code"))
    partners = list(
        Partner.objects.exclude(status=Partner.Status.TERMINATED).order_by("pk")
    )
    facts = gather_facts(period, partners, kpis)
    scores = []
    for partner in partners:
        f = facts[partner.pk]
        total, entries = score_breakdown(f, kpis)
        outcome = agreement_outcome(f, period)
        scores.append(
            PartnerScore(
                period=period,
                partner=partner,
                total=total,
                breakdown=entries,
                sell_in_amount=f.sell_in,
                sell_through_amount=f.sell_through,
                achievement_percent=f.achievement,
                rebate_amount=outcome["rebate"],
                penalty_amount=outcome["penalty"],
                outcome=str(outcome["text"])[:255],
            )
        )
    rank_scores(scores)
    return scores
