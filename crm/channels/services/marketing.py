"""D9 writes: promotions (HQ), partner plans inside them (portal), co-marketing fund
requests against the promotion's budget, execution reports.

Rules:
- A promotion's dates and scope (categories, regions, tiers) are fixed once published;
  its name, description and budget may still change, the budget never below the funds
  already approved.
- A plan sits inside a published promotion addressed to its partner: its dates within
  the promotion's, each of its regions the same as or below one of the promotion's
  regions, each of its categories the same as or below one of the promotion's
  categories (when the promotion names any). Refusals name the field and the range.
- The approved fund requests of a promotion's plans never sum above its fund budget:
  the approval locks the promotion row, so two approvals at once are counted one after
  the other.
Portal writes take the partner user as actor: the record must be their partner's
(another partner's record is "not found").
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.channels.models import (
    ExecutionReport,
    FundRequest,
    Partner,
    PartnerPlan,
    Promotion,
)
from crm.channels.portal.access import membership
from crm.channels.selectors.marketing import (
    fund_approved_sum,
    promotions_for_partner,
    within,
)
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Forbidden, Invalid, NotFound
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.notifications import notify
from crm.core.scopes import authorize

PROMOTION_FIELDS = ("name", "description", "starts_on", "ends_on", "fund_budget")
PROMOTION_SCOPE = ("categories", "regions", "tiers")
PLAN_FIELDS = ("title", "description", "starts_on", "ends_on")
PLAN_SCOPE = ("regions", "categories")


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(first, fields=errors)


def _fmt(amount) -> Decimal:
    """An amount as messages show it: the order decimal places (Y2)."""
    return round_money(amount, "order")


def _names(nodes) -> str:
    return "、".join(str(getattr(n, "name", n)) for n in nodes)


def _check_version(obj, version) -> None:
    if version is not None and version != obj.version:
        raise Conflict(
            _("Someone else changed this record in the meantime; reload it."),
            fields={"version": [_("Stale version.")]},
        )


def _date_errors(starts_on, ends_on) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(starts_on, datetime.date):
        errors["starts_on"] = [_("Enter a start date.")]
    if not isinstance(ends_on, datetime.date):
        errors["ends_on"] = [_("Enter an end date.")]
    if not errors and ends_on < starts_on:
        errors["ends_on"] = [_("The end date cannot be before the start date.")]
    return errors


def _money(value, field: str, errors: dict) -> Decimal | None:
    try:
        amount = round_money(
            value if value is not None else Decimal("0"), "order", field=field
        )
    except Invalid as exc:
        errors.update(exc.fields)
        return None
    if amount < 0:
        errors[field] = [_("Enter an amount of 0 or more.")]
        return None
    return amount


# Promotions (HQ)


def _promotion_check(promotion: Promotion) -> None:
    errors = _date_errors(promotion.starts_on, promotion.ends_on)
    if not (promotion.name or "").strip():
        errors["name"] = [_("Enter a name.")]
    budget = _money(promotion.fund_budget, "fund_budget", errors)
    if budget is not None:
        promotion.fund_budget = budget
    _refuse(errors)


def promotion_create(*, actor, data: dict) -> Promotion:
    """A draft promotion owned by its author (a channels business record)."""
    authorize(actor, "channels.add_promotion")
    promotion = Promotion(
        **{k: v for k, v in data.items() if k in PROMOTION_FIELDS},
        owner=actor,
        department=actor.department,
    )
    _promotion_check(promotion)
    with transaction.atomic():
        promotion.save()
        for name in PROMOTION_SCOPE:
            if name in data:
                getattr(promotion, name).set(data[name] or [])
        audit_record(actor=actor, obj=promotion, action=AuditEvent.Action.CREATE)
    return promotion


def promotion_update(*, actor, obj: Promotion, data: dict, version=None) -> Promotion:
    """Change a draft freely; a published one only in name, description and budget."""
    authorize(actor, "channels.change_promotion")
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().get(pk=obj.pk)
        _check_version(promotion, version)
        if promotion.status == Promotion.Status.CANCELLED:
            raise Conflict(_("A cancelled promotion cannot be changed."))
        before = snapshot(promotion)
        if promotion.status == Promotion.Status.PUBLISHED:
            fixed = {}
            for name in ("starts_on", "ends_on"):
                if name in data and data[name] != getattr(promotion, name):
                    fixed[name] = [
                        _("The dates of a published promotion cannot change.")
                    ]
            for name in PROMOTION_SCOPE:
                if name in data and {o.pk for o in data[name] or []} != set(
                    getattr(promotion, name).values_list("pk", flat=True)
                ):
                    fixed[name] = [
                        _("The scope of a published promotion cannot change.")
                    ]
            _refuse(fixed)
        for name in PROMOTION_FIELDS:
            if name in data:
                setattr(promotion, name, data[name])
        _promotion_check(promotion)
        used = fund_approved_sum(promotion.pk)
        if promotion.fund_budget < used:
            message = _(
                "The budget cannot be below the funds already approved (%(used)s)."
            ) % {"used": _fmt(used)}
            raise Invalid(message, fields={"fund_budget": [message]})
        promotion.version += 1
        promotion.save()
        for name in PROMOTION_SCOPE:
            if name in data and promotion.status == Promotion.Status.DRAFT:
                getattr(promotion, name).set(data[name] or [])
        audit_record(
            actor=actor,
            obj=promotion,
            action=AuditEvent.Action.UPDATE,
            before=before,
        )
    return promotion


def promotion_publish(*, actor, promotion: Promotion) -> Promotion:
    """A draft becomes visible to the partners it addresses."""
    authorize(actor, "channels.publish_promotion")
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
        if promotion.status != Promotion.Status.DRAFT:
            raise Conflict(_("Only a draft promotion can be published."))
        before = snapshot(promotion)
        promotion.status = Promotion.Status.PUBLISHED
        promotion.published_at = timezone.now()
        promotion.version += 1
        promotion.save(
            update_fields=["status", "published_at", "version", "updated_at"]
        )
        audit_record(
            actor=actor,
            obj=promotion,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="publish",
        )
    return promotion


def promotion_cancel(*, actor, promotion: Promotion, note: str = "") -> Promotion:
    """No new plans or fund requests under a cancelled promotion."""
    authorize(actor, "channels.publish_promotion")
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
        if promotion.status == Promotion.Status.CANCELLED:
            raise Conflict(_("This promotion is cancelled already."))
        before = snapshot(promotion)
        promotion.status = Promotion.Status.CANCELLED
        promotion.version += 1
        promotion.save(update_fields=["status", "version", "updated_at"])
        audit_record(
            actor=actor,
            obj=promotion,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=note or "cancel",
        )
    return promotion


# Partner plans (portal writes, HQ decisions)


def actor_partner(actor) -> Partner:
    """The partner of a portal actor; HQ users cannot write as a partner."""
    member = membership(actor)
    if member is None or not actor.is_active:
        raise Forbidden(_("Only partner users can do this."))
    return member.partner


def _own(actor, record_partner_id) -> Partner:
    partner = actor_partner(actor)
    if partner.pk != record_partner_id:
        raise NotFound(_("Not found."))
    return partner


def plan_fit_errors(
    promotion: Promotion, *, starts_on, ends_on, regions, categories
) -> dict[str, list[str]]:
    """Why a plan does not sit inside the promotion (empty: it does), by field."""
    errors = _date_errors(starts_on, ends_on)
    period = {"from": promotion.starts_on, "until": promotion.ends_on}
    if "starts_on" not in errors and starts_on < promotion.starts_on:
        errors["starts_on"] = [
            _(
                "The plan must start within the promotion's dates: "
                "%(from)s to %(until)s."
            )
            % period
        ]
    if "ends_on" not in errors and ends_on > promotion.ends_on:
        errors["ends_on"] = [
            _("The plan must end within the promotion's dates: %(from)s to %(until)s.")
            % period
        ]
    allowed_regions = list(promotion.regions.all())
    if allowed_regions:
        names = _names(allowed_regions)
        if not regions:
            errors["regions"] = [
                _("Choose at least one region within the promotion's: %(allowed)s.")
                % {"allowed": names}
            ]
        outside = [r for r in regions if not within(r, allowed_regions)]
        if outside:
            errors["regions"] = [
                _("%(outside)s is outside the promotion's regions: %(allowed)s.")
                % {"outside": _names(outside), "allowed": names}
            ]
    allowed_categories = list(promotion.categories.all())
    if allowed_categories:
        names = _names(allowed_categories)
        if not categories:
            errors["categories"] = [
                _(
                    "Choose at least one product category within the promotion's: %(allowed)s."
                )
                % {"allowed": names}
            ]
        outside = [c for c in categories if not within(c, allowed_categories)]
        if outside:
            errors["categories"] = [
                _("%(outside)s is outside the promotion's products: %(allowed)s.")
                % {"outside": _names(outside), "allowed": names}
            ]
    return errors


def _addressed(partner: Partner, promotion) -> Promotion:
    if promotion is None:
        message = _("Choose a promotion.")
        raise Invalid(message, fields={"promotion": [message]})
    pk = getattr(promotion, "pk", promotion)
    found = promotions_for_partner(partner).filter(pk=pk).first()
    if found is None:
        message = _("Choose a published promotion addressed to you.")
        raise Invalid(message, fields={"promotion": [message]})
    return found


def _plan_check(plan: PartnerPlan, regions, categories) -> None:
    errors: dict[str, list[str]] = {}
    if not (plan.title or "").strip():
        errors["title"] = [_("Enter a title.")]
    errors.update(
        plan_fit_errors(
            plan.promotion,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            regions=regions,
            categories=categories,
        )
    )
    _refuse(errors)


def plan_create(*, actor, data: dict) -> PartnerPlan:
    """A partner's draft plan under a promotion addressed to it, inside its scope."""
    partner = actor_partner(actor)
    promotion = _addressed(partner, data.get("promotion"))
    plan = PartnerPlan(
        partner=partner,
        promotion=promotion,
        created_by=actor,
        **{k: v for k, v in data.items() if k in PLAN_FIELDS},
    )
    regions = list(data.get("regions") or [])
    categories = list(data.get("categories") or [])
    _plan_check(plan, regions, categories)
    with transaction.atomic():
        plan.save()
        plan.regions.set(regions)
        plan.categories.set(categories)
        audit_record(actor=actor, obj=plan, action=AuditEvent.Action.CREATE)
    return plan


def plan_update(*, actor, obj: PartnerPlan, data: dict, version=None) -> PartnerPlan:
    """A draft or rejected plan may change (a rejected one goes back to draft)."""
    _own(actor, obj.partner_id)
    with transaction.atomic():
        plan = PartnerPlan.objects.select_for_update().get(pk=obj.pk)
        _check_version(plan, version)
        if plan.status not in (PartnerPlan.Status.DRAFT, PartnerPlan.Status.REJECTED):
            raise Conflict(_("Only a draft or rejected plan can be changed."))
        before = snapshot(plan)
        if "promotion" in data:
            plan.promotion = _addressed(plan.partner, data["promotion"])
        for name in PLAN_FIELDS:
            if name in data:
                setattr(plan, name, data[name])
        regions = list(data["regions"] if "regions" in data else plan.regions.all())
        categories = list(
            data["categories"] if "categories" in data else plan.categories.all()
        )
        _plan_check(plan, regions or [], categories or [])
        plan.status = PartnerPlan.Status.DRAFT
        plan.version += 1
        plan.save()
        plan.regions.set(regions)
        plan.categories.set(categories)
        audit_record(
            actor=actor, obj=plan, action=AuditEvent.Action.UPDATE, before=before
        )
    return plan


def _plan_transition(
    *, actor, plan: PartnerPlan, frm: tuple, to: str, message: str, note: str = ""
) -> PartnerPlan:
    plan = PartnerPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in frm:
        raise Conflict(message)
    before = snapshot(plan)
    plan.status = to
    plan.version += 1
    plan.save(update_fields=["status", "version", "updated_at"])
    audit_record(
        actor=actor,
        obj=plan,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=note or to,
    )
    return plan


def plan_submit(*, actor, plan: PartnerPlan) -> PartnerPlan:
    """The partner sends its draft to HQ; it must still sit inside the promotion."""
    partner = _own(actor, plan.partner_id)
    with transaction.atomic():
        _addressed(partner, plan.promotion_id)
        _plan_check(plan, list(plan.regions.all()), list(plan.categories.all()))
        plan = _plan_transition(
            actor=actor,
            plan=plan,
            frm=(PartnerPlan.Status.DRAFT,),
            to=PartnerPlan.Status.SUBMITTED,
            message=_("Only a draft plan can be submitted."),
        )
        notify(
            recipient=partner.owner,
            title=_("%(partner)s submitted the plan %(plan)s")
            % {"partner": partner, "plan": plan},
            url=reverse("channels:plan-detail", args=[plan.pk]),
            kind="channels.plan_submitted",
        )
    return plan


def _decide_plan(*, actor, plan, to: str, note: str) -> PartnerPlan:
    authorize(actor, "channels.change_partnerplan")
    with transaction.atomic():
        plan = _plan_transition(
            actor=actor,
            plan=plan,
            frm=(PartnerPlan.Status.SUBMITTED,),
            to=to,
            message=_("Only a submitted plan can be approved or rejected."),
            note=note,
        )
        title = (
            _("Your plan %(plan)s was approved")
            if to == PartnerPlan.Status.APPROVED
            else _("Your plan %(plan)s was rejected")
        )
        notify(
            recipient=plan.created_by,
            title=title % {"plan": plan},
            body=note,
            url=reverse("portal:plan-detail", args=[plan.pk]),
            kind="channels.plan_decided",
        )
    return plan


def plan_approve(*, actor, plan: PartnerPlan, note: str = "") -> PartnerPlan:
    return _decide_plan(
        actor=actor, plan=plan, to=PartnerPlan.Status.APPROVED, note=note
    )


def plan_reject(*, actor, plan: PartnerPlan, note: str = "") -> PartnerPlan:
    return _decide_plan(
        actor=actor, plan=plan, to=PartnerPlan.Status.REJECTED, note=note
    )


# Co-marketing funds


FUNDABLE = (PartnerPlan.Status.SUBMITTED, PartnerPlan.Status.APPROVED)


def fundrequest_create(
    *, actor, plan: PartnerPlan, amount, purpose: str
) -> FundRequest:
    """A partner asks for funds under its submitted or approved plan."""
    partner = _own(actor, plan.partner_id)
    errors: dict[str, list[str]] = {}
    value = _money(amount, "amount", errors)
    if value is not None and value <= 0:
        errors["amount"] = [_("Enter an amount above 0.")]
    if not (purpose or "").strip():
        errors["purpose"] = [_("Say what the funds are for.")]
    _refuse(errors)
    with transaction.atomic():
        plan = PartnerPlan.objects.select_related("promotion").get(pk=plan.pk)
        if plan.status not in FUNDABLE:
            raise Conflict(
                _("Funds can be requested for submitted or approved plans only.")
            )
        if plan.promotion.status != Promotion.Status.PUBLISHED:
            raise Conflict(_("The promotion of this plan is no longer running."))
        request = FundRequest.objects.create(
            plan=plan, amount=value, purpose=purpose.strip(), requested_by=actor
        )
        audit_record(actor=actor, obj=request, action=AuditEvent.Action.CREATE)
        notify(
            recipient=partner.owner,
            title=_("%(partner)s requests %(amount)s co-marketing funds")
            % {"partner": partner, "amount": value},
            body=purpose,
            url=reverse("channels:plan-detail", args=[plan.pk]),
            kind="channels.fund_requested",
        )
    return request


def fundrequest_approve(
    *, actor, request: FundRequest, amount=None, note: str = ""
) -> FundRequest:
    """Grant the amount asked for, or less; the promotion's approved funds never exceed
    its budget (the promotion row is locked while counting)."""
    authorize(actor, "channels.approve_fundrequest")
    with transaction.atomic():
        plan = PartnerPlan.objects.get(pk=request.plan_id)
        # Lock order: the promotion first, then the request (every approval does so).
        promotion = Promotion.objects.select_for_update().get(pk=plan.promotion_id)
        request = FundRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != FundRequest.Status.PENDING:
            raise Conflict(_("This fund request has been decided already."))
        plan = PartnerPlan.objects.get(pk=request.plan_id)
        if plan.status not in FUNDABLE:
            raise Conflict(
                _("Funds can be approved for submitted or approved plans only.")
            )
        errors: dict[str, list[str]] = {}
        value = _money(
            request.amount if amount in (None, "") else amount, "amount", errors
        )
        if value is not None and value <= 0:
            errors["amount"] = [_("Enter an amount above 0.")]
        elif value is not None and value > request.amount:
            errors["amount"] = [
                _("You cannot approve more than the %(requested)s requested.")
                % {"requested": _fmt(request.amount)}
            ]
        _refuse(errors)
        remaining = promotion.fund_budget - fund_approved_sum(promotion.pk)
        if value > remaining:
            message = _(
                "This would overspend the promotion's fund budget: %(remaining)s "
                "of %(budget)s remains."
            ) % {
                "remaining": _fmt(remaining),
                "budget": _fmt(promotion.fund_budget),
            }
            raise Conflict(message, fields={"amount": [message]})
        before = snapshot(request)
        request.status = FundRequest.Status.APPROVED
        request.approved_amount = value
        request.decided_by, request.decided_at = actor, timezone.now()
        request.decision_note = (note or "")[:255]
        request.save()
        audit_record(
            actor=actor,
            obj=request,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="approve",
        )
        notify(
            recipient=request.requested_by,
            title=_("%(amount)s co-marketing funds approved for %(plan)s")
            % {"amount": value, "plan": plan},
            body=note,
            url=reverse("portal:plan-detail", args=[plan.pk]),
            kind="channels.fund_decided",
        )
    return request


def fundrequest_reject(*, actor, request: FundRequest, note: str = "") -> FundRequest:
    authorize(actor, "channels.approve_fundrequest")
    with transaction.atomic():
        request = FundRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != FundRequest.Status.PENDING:
            raise Conflict(_("This fund request has been decided already."))
        before = snapshot(request)
        request.status = FundRequest.Status.REJECTED
        request.decided_by, request.decided_at = actor, timezone.now()
        request.decision_note = (note or "")[:255]
        request.save()
        audit_record(
            actor=actor,
            obj=request,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="reject",
        )
        notify(
            recipient=request.requested_by,
            title=_("Your fund request for %(plan)s was rejected")
            % {"plan": request.plan},
            body=note,
            url=reverse("portal:plan-detail", args=[request.plan_id]),
            kind="channels.fund_decided",
        )
    return request


# Execution reports


def execution_create(*, actor, plan: PartnerPlan, data: dict) -> ExecutionReport:
    """The partner reports what an approved plan spent and achieved."""
    _own(actor, plan.partner_id)
    errors: dict[str, list[str]] = {}
    spent = _money(data.get("spent"), "spent", errors)
    sales = _money(data.get("sales_amount"), "sales_amount", errors)
    leads = data.get("leads") or 0
    if not isinstance(leads, int) or leads < 0:
        errors["leads"] = [_("Enter a whole number of 0 or more.")]
    summary = (data.get("summary") or "").strip()
    if not summary:
        errors["summary"] = [_("Describe the results.")]
    reported_on = data.get("reported_on") or timezone.localdate()
    _refuse(errors)
    with transaction.atomic():
        plan = PartnerPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status not in (PartnerPlan.Status.APPROVED, PartnerPlan.Status.DONE):
            raise Conflict(_("Results can be reported for approved plans only."))
        report = ExecutionReport.objects.create(
            plan=plan,
            reported_on=reported_on,
            spent=spent,
            leads=leads,
            sales_amount=sales,
            summary=summary,
            submitted_by=actor,
        )
        audit_record(actor=actor, obj=report, action=AuditEvent.Action.CREATE)
    return report
