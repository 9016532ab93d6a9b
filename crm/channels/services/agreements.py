"""D2 cooperation agreements (合作协议): create and edit drafts, their reward and penalty
rules, activation, termination, renewal, and the daily expiry job.

Every service authorises, locks the agreement it changes (looked up among the actor's
visible partners: 404 outside them), validates with field errors, bumps the version
and writes the audit trail (Y7) in the same transaction.

Status flow:

    draft ──activate──> active ──terminate (reason)──> terminated
                          │ └──(its end date passes: daily job)──> expired
                          └──renew──> a new draft; when that is activated ──> renewed

- Only drafts are editable (header, territory, product scope, rules); a stale version
  is refused (409).
- Activation needs a partner that is not terminated, and no other agreement of the
  partner in force (active, or renewed and still running) overlapping it in time: the
  refusal names the other agreement.
- Renewal makes the next draft from an active or expired agreement: same partner,
  title, terms, territory, product scope, price list, discount, target and rules,
  valid from the day after the old one ends for the same length (whole months stay
  whole months: 1 Jan–31 Dec is followed by 1 Jan–31 Dec). One renewal per agreement.
- The daily job warns the channel manager (the partner's owner) once per agreement of
  an active agreement ending within `agreement_expiry_warning_days`, and marks active
  agreements whose end date has passed expired.
"""

import calendar
import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.channels.models import Agreement, AgreementTerm, Partner
from crm.channels.selectors.agreements import IN_FORCE
from crm.channels.selectors.partners_scope import of_visible_partners, partners_visible
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.money import MAX_AMOUNT, round_money
from crm.core.notifications import notify
from crm.core.numbering import next_number
from crm.core.params import get_param
from crm.core.scopes import authorize
from crm.core.services import record_update
from crm.customers.models import Region
from crm.products.models import Category, PriceList

S = Agreement.Status
K = AgreementTerm.Kind
HEADER_FIELDS = (
    "partner",
    "title",
    "starts_on",
    "ends_on",
    "signed_on",
    "price_list",
    "discount_percent",
    "annual_target",
    "terms",
)
M2M_FIELDS = ("territory", "categories")
COPY_FIELDS = (
    "partner_id",
    "title",
    "price_list_id",
    "discount_percent",
    "annual_target",
    "terms",
    "owner_id",
    "department_id",
)
RULE_FIELDS = ("kind", "threshold_percent", "percent", "amount", "description")
HUNDRED = Decimal(100)
MAX_THRESHOLD = Decimal(999)


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _lock(actor, agreement: Agreement) -> Agreement:
    """The agreement, locked, if its partner is visible to the actor; else 404."""
    try:
        return (
            of_visible_partners(Agreement.objects.all(), actor)
            .select_for_update()
            .get(pk=agreement.pk)
        )
    except Agreement.DoesNotExist:
        raise NotFound(_("Agreement not found.")) from None


def _check_draft(agreement: Agreement) -> None:
    if agreement.status != S.DRAFT:
        raise Conflict(
            _("Only draft agreements can be changed; this one is %(status)s.")
            % {"status": agreement.get_status_display()}
        )


def _save(agreement: Agreement, *fields: str) -> None:
    agreement.version += 1
    agreement.save(update_fields=[*fields, "version", "updated_at"])


def _m2m_state(agreement: Agreement) -> dict[str, list[str]]:
    return {
        "territory": sorted(str(r) for r in agreement.territory.all()),
        "categories": sorted(str(c) for c in agreement.categories.all()),
    }


def _add_changes(event: AuditEvent, changes: dict) -> None:
    if changes:
        event.changes = {**event.changes, **changes}
        event.save(update_fields=["changes"])


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


# Header


def _clean_header(actor, data: dict, agreement: Agreement | None) -> tuple[dict, dict]:
    """(header fields, many-to-many fields), checked: a visible partner that is not
    terminated, a title, the end not before the start, a discount between 0 and 100,
    no negative target."""
    header = {name: data[name] for name in HEADER_FIELDS if name in data}
    m2m = {name: list(data[name] or []) for name in M2M_FIELDS if name in data}
    errors: dict[str, list[str]] = {}

    def current(name):
        return header[name] if name in header else getattr(agreement, name, None)

    partner = current("partner")
    if partner is None:
        errors["partner"] = [_("Choose a partner.")]
    elif "partner" in header and (
        agreement is None or partner.pk != agreement.partner_id
    ):
        if not partners_visible(actor).filter(pk=partner.pk).exists():
            errors["partner"] = [_("No such partner within your data scope.")]
        elif partner.status == Partner.Status.TERMINATED:
            errors["partner"] = [_("The partner is terminated.")]
    if "title" in header or agreement is None:
        header["title"] = (header.get("title") or "").strip()
        if not header["title"]:
            errors["title"] = [_("Enter a title.")]
    if current("starts_on") is None:
        errors["starts_on"] = [_("Enter the first day of validity.")]
    if current("ends_on") is None:
        errors["ends_on"] = [_("Enter the last day of validity.")]
    starts_on, ends_on = current("starts_on"), current("ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("The end date is before the start date.")]
    if "discount_percent" in header:
        value = _decimal(header["discount_percent"] or 0, "discount_percent", errors)
        if value is not None:
            if not 0 <= value <= HUNDRED:
                errors["discount_percent"] = [
                    _("Enter a percentage between 0 and 100.")
                ]
            header["discount_percent"] = value
    if "annual_target" in header:
        value = _decimal(header["annual_target"] or 0, "annual_target", errors)
        if value is not None:
            if value < 0:
                errors["annual_target"] = [_("The target cannot be negative.")]
            elif value >= MAX_AMOUNT:
                errors["annual_target"] = [
                    _("Enter an amount below 100,000,000,000,000.")
                ]
            header["annual_target"] = value
    if "terms" in header:
        header["terms"] = (header["terms"] or "").strip()
    price_list = header.get("price_list")
    if price_list is not None and not PriceList.objects.filter(pk=price_list.pk):
        errors["price_list"] = [_("No such price list.")]
    for name, model in (("territory", Region), ("categories", Category)):
        if name in m2m:
            ids = {obj.pk for obj in m2m[name]}
            if model.objects.filter(pk__in=ids).count() != len(ids):
                errors[name] = [_("Select a valid choice.")]
    _refuse(errors)
    return header, m2m


def agreement_create(*, actor, data: dict) -> Agreement:
    """A new draft agreement, numbered from channels.agreement; it belongs to the
    partner's channel manager and department (the channel scope follows the partner)."""
    authorize(actor, "channels.add_agreement")
    header, m2m = _clean_header(actor, data, None)
    with transaction.atomic():
        partner = header["partner"]
        agreement = Agreement(
            **header,
            number=next_number("channels.agreement"),
            owner_id=partner.owner_id,
            department_id=partner.department_id,
        )
        agreement.save()
        for name, values in m2m.items():
            getattr(agreement, name).set(values)
        event = audit_record(
            actor=actor, obj=agreement, action=AuditEvent.Action.CREATE
        )
        _add_changes(
            event,
            {
                name: [None, value]
                for name, value in _m2m_state(agreement).items()
                if value
            },
        )
    return agreement


def agreement_update(*, actor, obj: Agreement, data: dict, version=None) -> Agreement:
    """Change a draft; a stale version is refused (409)."""
    authorize(actor, "channels.change_agreement")
    with transaction.atomic():
        locked = _lock(actor, obj)
        _check_draft(locked)
        header, m2m = _clean_header(actor, data, locked)
        if "partner" in header:
            header["owner"] = header["partner"].owner
            header["department"] = header["partner"].department
        before_m2m = _m2m_state(locked)
        agreement = record_update(
            actor=actor,
            obj=locked,
            data=header,
            perm="channels.change_agreement",
            version=version,
        )
        for name, values in m2m.items():
            getattr(agreement, name).set(values)
        after_m2m = _m2m_state(agreement)
        event = (
            AuditEvent.objects.filter(
                content_type=ContentType.objects.get_for_model(Agreement),
                object_id=str(agreement.pk),
            )
            .order_by("-id")
            .first()
        )
        _add_changes(
            event,
            {
                name: [before_m2m[name], after_m2m[name]]
                for name in after_m2m
                if before_m2m[name] != after_m2m[name]
            },
        )
    return agreement


# Rules: rebate tiers and penalties


def _clean_rule(data: dict, rule: AgreementTerm | None) -> dict:
    """A rebate: achievement ≥ threshold % earns percent % of sell-in (0–100), no fine.
    A penalty: achievement < threshold % costs a fine above zero, no rebate."""
    data = {name: data[name] for name in RULE_FIELDS if name in data}
    errors: dict[str, list[str]] = {}
    kind = data.get("kind", rule.kind if rule else None)
    if kind not in K.values:
        errors["kind"] = [_("Choose rebate or penalty.")]
    for name in ("threshold_percent", "percent", "amount"):
        if name in data and data[name] not in (None, ""):
            value = _decimal(data[name], name, errors)
            if value is not None:
                data[name] = value
        elif name in data:
            data[name] = Decimal(0) if name != "threshold_percent" else None

    def current(name):
        return data[name] if name in data else getattr(rule, name, None)

    threshold = current("threshold_percent")
    if threshold is None and "threshold_percent" not in errors:
        errors["threshold_percent"] = [_("Enter the achievement threshold.")]
    elif threshold is not None and not 0 <= threshold <= MAX_THRESHOLD:
        errors["threshold_percent"] = [_("Enter a percentage between 0 and 999.")]
    percent = current("percent") or Decimal(0)
    amount = current("amount") or Decimal(0)
    if kind == K.REBATE and not errors.get("percent"):
        if not 0 < percent <= HUNDRED:
            errors["percent"] = [
                _("Enter the rebate as a percentage above 0 and up to 100.")
            ]
        data["amount"] = Decimal(0)
    if kind == K.PENALTY and not errors.get("amount"):
        if amount <= 0:
            errors["amount"] = [_("Enter a fine above zero.")]
        else:
            try:
                data["amount"] = round_money(amount, "contract", field="amount")
            except Invalid as exc:
                errors.update(exc.fields)
        data["percent"] = Decimal(0)
    if "description" in data:
        data["description"] = (data["description"] or "").strip()[:255]
    _refuse(errors)
    return data


def _check_unique_threshold(agreement, kind, threshold, rule=None) -> None:
    clash = agreement.rules.filter(kind=kind, threshold_percent=threshold)
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        message = _("This agreement already has a %(kind)s at %(threshold)s%%.") % {
            "kind": K(kind).label.lower(),
            "threshold": f"{Decimal(threshold).normalize():f}",
        }
        raise Invalid(message, fields={"threshold_percent": [message]})


def rule_text(rule: AgreementTerm) -> str:
    threshold = f"{rule.threshold_percent.normalize():f}%"
    if rule.kind == K.REBATE:
        return f"{rule.get_kind_display()} ≥{threshold}: {rule.percent.normalize():f}%"
    return f"{rule.get_kind_display()} <{threshold}: {round_money(rule.amount, 'contract'):f}"


def _rules_saved(*, actor, agreement: Agreement, before: dict, was, now, note: str):
    _save(agreement)
    event = audit_record(
        actor=actor,
        obj=agreement,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=note,
    )
    _add_changes(event, {"rules": [was, now]})


def agreement_rule_add(*, actor, agreement: Agreement, data: dict) -> AgreementTerm:
    authorize(actor, "channels.change_agreement")
    with transaction.atomic():
        locked = _lock(actor, agreement)
        _check_draft(locked)
        values = _clean_rule(data, None)
        _check_unique_threshold(locked, values["kind"], values["threshold_percent"])
        before = snapshot(locked)
        rule = AgreementTerm.objects.create(agreement=locked, **values)
        _rules_saved(
            actor=actor,
            agreement=locked,
            before=before,
            was=None,
            now=rule_text(rule),
            note="rule added",
        )
    return rule


def _locked_rule(actor, rule: AgreementTerm) -> tuple[Agreement, AgreementTerm]:
    locked = _lock(actor, rule.agreement)
    _check_draft(locked)
    try:
        return locked, locked.rules.select_for_update().get(pk=rule.pk)
    except AgreementTerm.DoesNotExist:
        raise NotFound(_("Rule not found.")) from None


def agreement_rule_update(*, actor, rule: AgreementTerm, data: dict) -> AgreementTerm:
    authorize(actor, "channels.change_agreement")
    with transaction.atomic():
        agreement, rule = _locked_rule(actor, rule)
        values = _clean_rule(data, rule)
        kind = values.get("kind", rule.kind)
        threshold = values.get("threshold_percent", rule.threshold_percent)
        _check_unique_threshold(agreement, kind, threshold, rule)
        before, was = snapshot(agreement), rule_text(rule)
        for name, value in values.items():
            setattr(rule, name, value)
        rule.save()
        _rules_saved(
            actor=actor,
            agreement=agreement,
            before=before,
            was=was,
            now=rule_text(rule),
            note="rule changed",
        )
    return rule


def agreement_rule_remove(*, actor, rule: AgreementTerm) -> None:
    authorize(actor, "channels.change_agreement")
    with transaction.atomic():
        agreement, rule = _locked_rule(actor, rule)
        before, was = snapshot(agreement), rule_text(rule)
        rule.delete()
        _rules_saved(
            actor=actor,
            agreement=agreement,
            before=before,
            was=was,
            now=None,
            note="rule removed",
        )


# Lifecycle


def _transition(*, actor, agreement: Agreement, action: str, note: str = "", **values):
    before = snapshot(agreement)
    for name, value in values.items():
        setattr(agreement, name, value)
    _save(agreement, *values)
    audit_record(actor=actor, obj=agreement, action=action, before=before, note=note)
    return agreement


def overlapping(agreement: Agreement):
    """The partner's other agreements in force overlapping this one's validity."""
    return (
        Agreement.objects.filter(
            partner_id=agreement.partner_id,
            status__in=IN_FORCE,
            starts_on__lte=agreement.ends_on,
            ends_on__gte=agreement.starts_on,
        )
        .exclude(pk=agreement.pk)
        .order_by("starts_on", "pk")
    )


def agreement_activate(*, actor, agreement: Agreement) -> Agreement:
    """A draft comes into force. The partner must not be terminated, and no other
    agreement of it in force may overlap this one in time. The agreement it renews
    (if any) becomes `renewed`."""
    authorize(actor, "channels.change_agreement")
    with transaction.atomic():
        locked = _lock(actor, agreement)
        # One activation per partner at a time: the overlap check below must see
        # every other activation that commits.
        partner = Partner.objects.select_for_update().get(pk=locked.partner_id)
        if locked.status != S.DRAFT:
            raise Conflict(
                _("Only draft agreements can be activated; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        if partner.status == Partner.Status.TERMINATED:
            raise Conflict(
                _(
                    "Partner %(partner)s is terminated; its agreements cannot come "
                    "into force."
                )
                % {"partner": partner.name}
            )
        other = overlapping(locked).first()
        if other is not None:
            message = _(
                "Agreement %(number)s (%(start)s – %(end)s) of this partner is in "
                "force in the same period."
            ) % {
                "number": other.number,
                "start": other.starts_on.isoformat(),
                "end": other.ends_on.isoformat(),
            }
            raise Conflict(message, fields={"starts_on": [message]})
        _transition(actor=actor, agreement=locked, action="activate", status=S.ACTIVE)
        if locked.previous_id:
            previous = Agreement.objects.select_for_update().get(pk=locked.previous_id)
            if previous.status in (S.ACTIVE, S.EXPIRED):
                _transition(
                    actor=actor,
                    agreement=previous,
                    action="renewed",
                    note=f"renewed by {locked.number}",
                    status=S.RENEWED,
                )
    return locked


def agreement_terminate(*, actor, agreement: Agreement, reason: str) -> Agreement:
    """End an active agreement early, giving the reason."""
    authorize(actor, "channels.change_agreement")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(
            _("Give the reason for terminating the agreement."),
            fields={"reason": [_("Required.")]},
        )
    if len(reason) > 255:
        raise Invalid(
            _("Keep the reason under 255 characters."),
            fields={"reason": [_("Keep the reason under 255 characters.")]},
        )
    with transaction.atomic():
        locked = _lock(actor, agreement)
        if locked.status != S.ACTIVE:
            raise Conflict(
                _("Only agreements in force can be terminated; this one is %(status)s.")
                % {"status": locked.get_status_display()}
            )
        return _transition(
            actor=actor,
            agreement=locked,
            action="terminate",
            note=reason[:255],
            status=S.TERMINATED,
            termination_reason=reason,
        )


def add_months(day: datetime.date, months: int) -> datetime.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def whole_months(starts_on: datetime.date, ends_on: datetime.date) -> int | None:
    """How many whole months starts_on..ends_on (both included) spans, if it does."""
    after = ends_on + datetime.timedelta(days=1)
    months = (after.year - starts_on.year) * 12 + after.month - starts_on.month
    if months > 0 and add_months(starts_on, months) == after:
        return months
    return None


def renewal_period(agreement: Agreement) -> tuple[datetime.date, datetime.date]:
    """From the day after the agreement ends, for the same length: the same number of
    whole months when it spans whole months, else the same number of days."""
    starts_on = agreement.ends_on + datetime.timedelta(days=1)
    months = whole_months(agreement.starts_on, agreement.ends_on)
    if months is not None:
        ends_on = add_months(starts_on, months) - datetime.timedelta(days=1)
    else:
        ends_on = starts_on + (agreement.ends_on - agreement.starts_on)
    return starts_on, ends_on


def agreement_renew(*, actor, agreement: Agreement) -> Agreement:
    """The next agreement, as a draft, copied from an active or expired one (terms,
    territory, product scope, price list, discount, target and rules). An agreement
    is renewed once."""
    authorize(actor, "channels.add_agreement")
    with transaction.atomic():
        locked = _lock(actor, agreement)
        existing = Agreement.objects.filter(previous=locked).first()
        if existing is not None:
            raise Conflict(
                _("This agreement was already renewed by %(number)s.")
                % {"number": existing.number}
            )
        if locked.status not in (S.ACTIVE, S.EXPIRED):
            raise Conflict(
                _(
                    "Only agreements in force or expired can be renewed; this one is "
                    "%(status)s."
                )
                % {"status": locked.get_status_display()}
            )
        partner = Partner.objects.get(pk=locked.partner_id)
        if partner.status == Partner.Status.TERMINATED:
            raise Conflict(
                _("Partner %(partner)s is terminated.") % {"partner": partner.name}
            )
        starts_on, ends_on = renewal_period(locked)
        renewal = Agreement(
            **{name: getattr(locked, name) for name in COPY_FIELDS},
            number=next_number("channels.agreement"),
            starts_on=starts_on,
            ends_on=ends_on,
            previous=locked,
        )
        renewal.save()
        renewal.territory.set(locked.territory.all())
        renewal.categories.set(locked.categories.all())
        AgreementTerm.objects.bulk_create(
            AgreementTerm(
                agreement=renewal,
                **{name: getattr(rule, name) for name in RULE_FIELDS},
            )
            for rule in locked.rules.all()
        )
        event = audit_record(
            actor=actor,
            obj=renewal,
            action=AuditEvent.Action.CREATE,
            note=f"renews {locked.number}",
        )
        _add_changes(
            event,
            {
                name: [None, value]
                for name, value in _m2m_state(renewal).items()
                if value
            },
        )
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.OTHER,
            note=f"renewal {renewal.number} drafted",
        )
    return renewal


# The daily job


def agreements_expiry_run(*, today: datetime.date | None = None) -> dict[str, int]:
    """Expire active agreements whose end date has passed, then warn each channel
    manager (in the app and by e-mail) of active agreements ending within
    `agreement_expiry_warning_days`, once per agreement (expiry_notified_on, and a
    dedupe key should two runs overlap). Returns how many were expired and warned."""
    today = today or timezone.localdate()
    expired = 0
    due = Agreement.objects.filter(status=S.ACTIVE, ends_on__lt=today).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            agreement = (
                Agreement.objects.select_for_update()
                .filter(pk=pk, status=S.ACTIVE, ends_on__lt=today)
                .first()
            )
            if agreement is None:
                continue
            _transition(
                actor=None, agreement=agreement, action="expire", status=S.EXPIRED
            )
            expired += 1
    days = int(get_param("agreement_expiry_warning_days"))
    horizon = today + datetime.timedelta(days=days)
    warned = 0
    candidates = Agreement.objects.filter(
        status=S.ACTIVE,
        ends_on__gte=today,
        ends_on__lte=horizon,
        expiry_notified_on__isnull=True,
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            agreement = (
                Agreement.objects.select_for_update(of=("self",))
                .select_related("partner__owner")
                .filter(pk=pk, status=S.ACTIVE, expiry_notified_on__isnull=True)
                .first()
            )
            if agreement is None:
                continue
            values = {
                "number": agreement.number,
                "partner": agreement.partner.name,
                "date": agreement.ends_on.isoformat(),
                "days": (agreement.ends_on - today).days,
            }
            notification = notify(
                recipient=agreement.partner.owner,
                title=_("Agreement %(number)s of %(partner)s expires on %(date)s")
                % values,
                body=_(
                    "The cooperation agreement %(number)s with %(partner)s ends on "
                    "%(date)s, in %(days)s days. Renew it in time if the cooperation "
                    "goes on."
                )
                % values,
                url=reverse("channels:agreement-detail", args=[agreement.pk]),
                kind="channels.agreement_expiring",
                dedupe_key=f"channels.agreement.expiry:{agreement.pk}:{agreement.ends_on}",
            )
            before = snapshot(agreement)
            agreement.expiry_notified_on = today
            agreement.save(update_fields=["expiry_notified_on", "updated_at"])
            audit_record(
                actor=None,
                obj=agreement,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note="expiry warning sent",
            )
            warned += notification is not None
    return {"expired": expired, "warned": warned}
