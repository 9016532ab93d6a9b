"""S1 lead writes: create and edit, follow-ups, assignment by hand and by rule (round
robin), conversion into customer + contact + opportunity, and the public web form.

Every service authorises, validates (field errors a form or API client can show), runs in
one transaction, locks the rows whose state changes and writes the audit trail (Y7).
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, DomainError, Invalid, invalid_from_django
from crm.core.models import AuditEvent
from crm.core.notifications import notify
from crm.core.numbering import next_number
from crm.core.scopes import authorize
from crm.core.services import record_create, record_update
from crm.core.validators import EARLIEST_YEAR, is_too_early
from crm.customers.models import Activity, Customer
from crm.customers.selectors import customer_queryset
from crm.customers.services import contact_create, customer_create
from crm.org.models import User
from crm.sales.models import AssignmentRule, Lead, LeadFollowUp
from crm.sales.selectors.leads import rule_candidates
from crm.sales.services import opportunities as opportunity_services

SEQUENCE = "sales.lead"
# Follow-ups use the same kinds as customer activities (call, visit, e-mail…).
FOLLOW_UP_KINDS = Activity.Kind
# A follow-up is recorded once it happened: a little clock skew is tolerated.
FUTURE_TOLERANCE = datetime.timedelta(minutes=10)

# What a person may type into a lead (create); an edit may also move its status.
INPUT_FIELDS = (
    "name",
    "company",
    "job_title",
    "mobile",
    "phone",
    "email",
    "region",
    "address",
    "industry",
    "source",
    "source_detail",
    "requirement",
    "next_follow_up_on",
)
UPDATE_FIELDS = (*INPUT_FIELDS, "status", "disqualify_reason")
# What a visitor of the public web form may send.
WEB_FORM_FIELDS = (
    "name",
    "company",
    "job_title",
    "mobile",
    "phone",
    "email",
    "requirement",
)


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)


def _full_clean(obj, exclude=None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


def _strip(data: dict, allowed) -> dict:
    return {
        k: v.strip() if isinstance(v, str) else v
        for k, v in data.items()
        if k in allowed
    }


def _lock(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


def _refuse_converted(lead: Lead) -> None:
    if lead.status == Lead.Status.CONVERTED:
        raise Conflict(_("This lead was converted; it is read-only."))


def _check_owner(owner) -> None:
    if owner is None or not owner.is_active:
        _refuse({"owner": [_("Choose an active employee.")]})


def _notify_assigned(lead: Lead, actor=None) -> None:
    """Tell the new owner (not when they took the lead themselves)."""
    owner = lead.owner
    if owner is None or (actor is not None and owner.pk == actor.pk):
        return
    notify(
        recipient=owner,
        title=_("Lead %(number)s assigned to you: %(lead)s")
        % {"number": lead.number, "lead": lead},
        body=lead.requirement[:500],
        url=reverse("sales:lead-detail", args=[lead.pk]),
        kind="sales.lead_assigned",
        dedupe_key=f"sales.lead-assigned:{lead.pk}:{lead.version}",
    )


# Assignment rules (round robin)


def _rule_for(source: str) -> AssignmentRule | None:
    """The active rule for this source, else the active rule for every source, locked:
    two leads arriving at once wait for each other and go to different people."""
    rules = AssignmentRule.objects.select_for_update().filter(is_active=True)
    return (
        rules.filter(source=source).order_by("priority", "pk").first()
        or rules.filter(source="").order_by("priority", "pk").first()
    )


def _next_in_turn(rule: AssignmentRule) -> User | None:
    """The employee after the one the rule gave its last lead to (wrapping round); the
    rule remembers them. None when the department has nobody active."""
    if not rule.department.is_active:
        return None
    people = rule_candidates(rule).select_related("department")
    after = rule.last_assigned_id or 0
    owner = people.filter(pk__gt=after).first() or people.first()
    if owner is not None:
        rule.last_assigned = owner
        rule.save(update_fields=["last_assigned", "updated_at"])
    return owner


def _route(source: str) -> User | None:
    """The owner the assignment rules give a new lead of this source (call inside the
    lead's transaction: the rule row stays locked until it commits)."""
    rule = _rule_for(source)
    return _next_in_turn(rule) if rule is not None else None


RULE_FIELDS = (
    "name",
    "department",
    "source",
    "include_subdepartments",
    "is_active",
    "priority",
)


def _check_rule(data: dict) -> None:
    department = data.get("department")
    if department is not None and not department.is_active:
        _refuse({"department": [_("Choose an active department.")]})


def assignment_rule_create(*, actor, data: dict) -> AssignmentRule:
    """A new round-robin rule; one active rule per lead source (and one for every source)."""
    authorize(actor, "sales.add_assignmentrule")
    data = _strip(data, RULE_FIELDS)
    _check_rule(data)
    return record_create(
        actor=actor, model=AssignmentRule, data=data, perm="sales.add_assignmentrule"
    )


def assignment_rule_update(
    *, actor, obj: AssignmentRule, data: dict, version=None
) -> AssignmentRule:
    """Edit a rule; its turn (last assigned) goes on where it was."""
    authorize(actor, "sales.change_assignmentrule")
    data = _strip(data, RULE_FIELDS)
    _check_rule(data)
    return record_update(
        actor=actor, obj=obj, data=data, perm="sales.change_assignmentrule"
    )


# Leads


def _owner_fields(owner) -> dict:
    return {
        "owner": owner,
        "department": owner.department if owner is not None else None,
        "assigned_at": timezone.now() if owner is not None else None,
    }


def lead_create(*, actor, data: dict, route: bool = False, note: str = "") -> Lead:
    """A new lead gets the next lead number and starts as new. Its owner is the one given
    (someone else: needs sales.assign_lead; an active employee), else — with `route`, as
    for imports — the one the assignment rules choose, else the creator."""
    authorize(actor, "sales.add_lead")
    owner = data.get("owner")
    data = _strip(data, INPUT_FIELDS)
    if owner is not None:
        if owner.pk != actor.pk:
            authorize(actor, "sales.assign_lead")
        _check_owner(owner)
    with transaction.atomic():
        if owner is None and route:
            owner = _route(data.get("source") or Lead.Source.OTHER)
        data.update(_owner_fields(owner or actor))
        # Taken inside the transaction: a refused lead gives its number back.
        data["number"] = next_number(SEQUENCE)
        lead = record_create(
            actor=actor, model=Lead, data=data, perm="sales.add_lead", note=note
        )
        _notify_assigned(lead, actor)
    return lead


def lead_submit_web_form(
    *, data: dict, ip: str | None, source_detail: str = ""
) -> Lead:
    """A lead from the public web form (nobody logged in): source "web form", the
    sender's address kept, assigned by the rules. A name and a way to reach the person
    (mobile, phone or e-mail) are needed; numbers and e-mail must be valid."""
    data = _strip(data, WEB_FORM_FIELDS)
    errors: dict[str, list[str]] = {}
    if not data.get("name"):
        errors["name"] = [_("Tell us your name.")]
    if not any(data.get(k) for k in ("mobile", "phone", "email")):
        errors["mobile"] = [_("Leave a mobile number, a phone number or an e-mail.")]
    _refuse(errors)
    lead = Lead(
        **data,
        source=Lead.Source.WEB_FORM,
        source_detail=(source_detail or "")[:200],
        submitted_ip=ip or None,
    )
    _full_clean(lead, exclude=["number"])
    with transaction.atomic():
        for name, value in _owner_fields(_route(Lead.Source.WEB_FORM)).items():
            setattr(lead, name, value)
        lead.number = next_number(SEQUENCE)
        lead.save()
        audit_record(
            actor=None, obj=lead, action=AuditEvent.Action.CREATE, note="web form"
        )
        _notify_assigned(lead)
    return lead


def lead_update(*, actor, obj: Lead, data: dict, version=None) -> Lead:
    """Edit an open lead carrying the version it was read at (stale: 409). A converted
    lead is read-only; "converted" is reached only by converting; a disqualified lead
    says why. Its owner changes by assignment, not here."""
    authorize(actor, "sales.change_lead")
    data = _strip(data, UPDATE_FIELDS)
    with transaction.atomic():
        locked = _lock(obj)
        _refuse_converted(locked)
        status = data.get("status", locked.status)
        if status == Lead.Status.CONVERTED:
            _refuse({"status": [_("A lead becomes converted by converting it.")]})
        if status == Lead.Status.DISQUALIFIED:
            if not data.get("disqualify_reason", locked.disqualify_reason):
                _refuse({"disqualify_reason": [_("Say why the lead is disqualified.")]})
        elif "status" in data:
            data["disqualify_reason"] = ""
        return record_update(
            actor=actor,
            obj=locked,
            data=data,
            perm="sales.change_lead",
            version=version,
        )


def _set_owner(*, actor, lead: Lead, owner, note: str) -> Lead:
    before = snapshot(lead)
    for name, value in _owner_fields(owner).items():
        setattr(lead, name, value)
    lead.version += 1
    lead.save(
        update_fields=["owner", "department", "assigned_at", "version", "updated_at"]
    )
    audit_record(
        actor=actor,
        obj=lead,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=note,
    )
    _notify_assigned(lead, actor)
    return lead


def lead_assign(*, actor, lead: Lead, owner) -> Lead:
    """Give a lead to an active employee by hand (sales.assign_lead); they are notified."""
    authorize(actor, "sales.assign_lead")
    _check_owner(owner)
    with transaction.atomic():
        locked = _lock(lead)
        _refuse_converted(locked)
        if locked.owner_id == owner.pk:
            return locked
        return _set_owner(actor=actor, lead=locked, owner=owner, note="assign")


def lead_assign_by_rule(*, actor, lead: Lead) -> Lead:
    """Give a lead to whoever's turn it is under the rule for its source
    (sales.assign_lead)."""
    authorize(actor, "sales.assign_lead")
    with transaction.atomic():
        locked = _lock(lead)
        _refuse_converted(locked)
        owner = _route(locked.source)
        if owner is None:
            raise Invalid(
                _(
                    "No active assignment rule gives this lead to anyone: add a rule "
                    "for its source (or for every source) whose department has active "
                    "employees."
                )
            )
        return _set_owner(actor=actor, lead=locked, owner=owner, note="assign by rule")


# Follow-ups


def lead_follow_up_create(*, actor, lead: Lead, data: dict) -> LeadFollowUp:
    """Record a follow-up with a lead. The lead's next follow-up date becomes that of its
    newest follow-up, and a new lead becomes contacted."""
    authorize(actor, "sales.add_leadfollowup")
    data = _strip(data, ("kind", "occurred_at", "content", "next_follow_up_on"))
    data["occurred_at"] = data.get("occurred_at") or timezone.now()
    data["kind"] = data.get("kind") or FOLLOW_UP_KINDS.CALL
    errors: dict[str, list[str]] = {}
    if data["kind"] not in FOLLOW_UP_KINDS.values:
        errors["kind"] = [_("Choose a kind of follow-up.")]
    if not data.get("content"):
        errors["content"] = [_("Say what happened.")]
    occurred = data["occurred_at"]
    if is_too_early(occurred):
        errors["occurred_at"] = [
            _("Enter a time after %(year)s.") % {"year": EARLIEST_YEAR}
        ]
    elif occurred > timezone.now() + FUTURE_TOLERANCE:
        errors["occurred_at"] = [
            _("A follow-up is recorded once it happened; plan the next one instead.")
        ]
    next_on = data.get("next_follow_up_on")
    if next_on and next_on < timezone.localdate(occurred):
        errors["next_follow_up_on"] = [
            _("The next follow-up cannot be before this one.")
        ]
    _refuse(errors)
    with transaction.atomic():
        locked = _lock(lead)
        _refuse_converted(locked)
        follow_up = LeadFollowUp(lead=locked, recorded_by=actor, **data)
        _full_clean(follow_up)
        follow_up.save()
        audit_record(actor=actor, obj=follow_up, action=AuditEvent.Action.CREATE)
        newest = locked.follow_ups.order_by("-occurred_at", "-pk").first()
        before = snapshot(locked)
        locked.next_follow_up_on = newest.next_follow_up_on
        if locked.status == Lead.Status.NEW:
            locked.status = Lead.Status.CONTACTED
        if snapshot(locked) != before:
            locked.version += 1
            locked.save(
                update_fields=["next_follow_up_on", "status", "version", "updated_at"]
            )
            audit_record(
                actor=actor,
                obj=locked,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note="follow-up",
            )
    return follow_up


# Conversion


def _prefixed(exc: DomainError, prefix: str) -> DomainError:
    """A customer/contact/opportunity service's error, its fields named as in the
    conversion input (customer_name, opportunity_amount…)."""
    fields = {f"{prefix}_{name}": messages for name, messages in exc.fields.items()}
    return type(exc)(exc.message, fields=fields)


def _new_customer_data(lead: Lead, given: dict) -> dict:
    industry = lead.industry if lead.industry in Customer.Industry.values else ""
    return {
        "name": (given.get("name") or lead.company or lead.name).strip(),
        "credit_code": (given.get("credit_code") or "").strip(),
        "type": Customer.Type.END_USER if lead.company else Customer.Type.INDIVIDUAL,
        "main_phone": lead.phone or lead.mobile,
        "email": lead.email,
        "region": lead.region,
        "address": lead.address,
        "industry": industry,
        "notes": lead.requirement,
    }


def lead_convert(
    *,
    actor,
    lead: Lead,
    customer: Customer | None = None,
    new_customer: dict | None = None,
    contact=None,
    create_contact: bool = True,
    opportunity: dict | None = None,
) -> Lead:
    """Turn an open lead, in one transaction, into a customer (an existing one the user
    can see, or a new one), a contact (one of that customer's, or a new one from the
    lead) and optionally an opportunity (name, amount, expected close). The lead keeps
    links to them and becomes read-only; converting again is refused (409). Anything
    refused on the way leaves nothing behind."""
    authorize(actor, "sales.change_lead")
    new_customer = new_customer or {}
    with transaction.atomic():
        locked = _lock(lead)
        if locked.status == Lead.Status.CONVERTED:
            raise Conflict(_("This lead was converted already."))
        if locked.status == Lead.Status.DISQUALIFIED:
            raise Conflict(
                _("A disqualified lead cannot be converted; change its status first.")
            )
        if customer is not None:
            if not customer_queryset(actor=actor).filter(pk=customer.pk).exists():
                _refuse({"customer": [_("Choose a customer you can see.")]})
        else:
            try:
                customer = customer_create(
                    actor=actor,
                    data=_new_customer_data(locked, new_customer),
                    note=f"lead {locked.number}",
                )
            except DomainError as exc:
                raise _prefixed(exc, "customer") from None
        if contact is not None:
            if contact.customer_id != customer.pk:
                _refuse({"contact": [_("Choose a contact of this customer.")]})
        elif create_contact:
            try:
                contact = contact_create(
                    actor=actor,
                    data={
                        "customer": customer,
                        "name": locked.name,
                        "position": locked.job_title,
                        "mobile": locked.mobile,
                        "office_phone": locked.phone,
                        "email": locked.email,
                    },
                )
            except DomainError as exc:
                raise _prefixed(exc, "contact") from None
        deal = None
        if opportunity is not None:
            name = (opportunity.get("name") or "").strip() or customer.name
            try:
                deal = opportunity_services.opportunity_create(
                    actor=actor,
                    data={
                        "name": name,
                        "customer": customer,
                        "contact": contact,
                        "amount": opportunity.get("amount") or Decimal("0"),
                        "expected_close_on": opportunity.get("expected_close_on"),
                        "source": locked.source,
                        "description": locked.requirement,
                        "owner": actor,
                        "department": actor.department,
                    },
                )
            except DomainError as exc:
                raise _prefixed(exc, "opportunity") from None
        before = snapshot(locked)
        locked.status = Lead.Status.CONVERTED
        locked.converted_at, locked.converted_by = timezone.now(), actor
        locked.customer, locked.contact, locked.opportunity = customer, contact, deal
        locked.version += 1
        locked.save()
        audit_record(actor=actor, obj=locked, action="convert", before=before)
    return locked
