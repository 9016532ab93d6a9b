"""D10 writes: a partner registers an end customer or deal (报备); the system detects
channel conflicts at submission; the channel manager decides.

Conflict at submission, when either holds:
(a) another partner registered the same end customer (the same linked customer, or the
    same name key from crm.customers.naming: 北京华为技术有限公司 = 华为技术有限公司) and that
    registration is open (pending, conflict) or approved and still protected
    (valid_until today or later, or none);
(b) the registration's region is the same as or below a region of another partner's
    exclusive territory in force today.
The new registration is then `conflict` with the reason and the registrations it
collides with; the other partner's open registrations become `conflict` too (an
approved, protected one stays approved: its protection was decided already). The
channel managers of every partner involved are notified in the app. Otherwise it is
`pending`.

Registrations serialise on the deal number sequence: the number is taken first, and the
sequence row stays locked until the registration commits, so two partners registering
the same customer at once are checked one after the other.

Deciding: approving one registration protects it for `deal_protection_days` (system
parameter, default 90) and rejects the competing ones that still hold the customer
(open, or approved earlier: HQ gives the customer to one partner); rejecting closes it. The
partners whose registrations are rejected are told why (in-app notification to each of
their portal users). A registration is decided once: deciding it again is a 409.
"""

import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.channels.models import DealRegistration, Partner, PartnerUser
from crm.channels.selectors.deals import (
    HOLDING,
    OPEN,
    exclusive_territories_over,
    same_customer_registrations,
)
from crm.channels.services.marketing import actor_partner
from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.notifications import notify
from crm.core.numbering import next_number
from crm.core.params import Param, get_param, register
from crm.core.scopes import authorize
from crm.customers.naming import name_key

register(
    Param(
        "deal_protection_days",
        gettext_lazy("Deal registration protection (days)"),
        int,
        90,
        min=1,
        max=730,
        group=gettext_lazy("Channels"),
        help=gettext_lazy(
            "An approved deal registration protects its partner's end customer for "
            "this many days."
        ),
    ),
)

FIELDS = (
    "customer",
    "customer_name",
    "region",
    "project",
    "expected_amount",
    "expected_close_on",
    "notes",
)


def _managers(partners) -> list:
    seen, managers = set(), []
    for partner in partners:
        if partner.owner_id and partner.owner_id not in seen:
            seen.add(partner.owner_id)
            managers.append(partner.owner)
    return managers


def _tell_partner(partner: Partner, *, title: str, body: str, deal) -> None:
    """Every active portal user of the partner gets the news in the app."""
    for member in PartnerUser.objects.filter(
        partner=partner, user__is_active=True
    ).select_related("user"):
        notify(
            recipient=member.user,
            title=title,
            body=body,
            url=reverse("portal:deal-detail", args=[deal.pk]),
            kind="channels.deal_decided",
        )


def deal_register(*, actor, data: dict, today: datetime.date | None = None):
    """A partner user registers an end customer or deal; conflicts are detected now."""
    partner = actor_partner(actor)
    today = today or timezone.localdate()
    deal = DealRegistration(
        partner=partner,
        submitted_by=actor,
        **{k: v for k, v in data.items() if k in FIELDS},
    )
    errors: dict[str, list[str]] = {}
    if not (deal.customer_name or "").strip() and deal.customer_id:
        deal.customer_name = deal.customer.name
    deal.customer_name = (deal.customer_name or "").strip()
    if not deal.customer_name:
        errors["customer_name"] = [_("Enter the end customer's name.")]
    try:
        deal.expected_amount = round_money(
            deal.expected_amount if deal.expected_amount is not None else 0,
            "order",
            field="expected_amount",
        )
        if deal.expected_amount < 0:
            errors["expected_amount"] = [_("Enter an amount of 0 or more.")]
    except Invalid as exc:
        errors.update(exc.fields)
    if errors:
        raise Invalid(next(iter(errors.values()))[0], fields=errors)
    deal.customer_key = name_key(deal.customer_name)
    with transaction.atomic():
        # Taking the number locks the sequence row until commit: registrations are
        # checked for conflicts one at a time.
        deal.number = next_number("channels.deal")
        same = list(
            same_customer_registrations(
                partner_id=partner.pk,
                customer_id=deal.customer_id,
                customer_key=deal.customer_key,
                today=today,
            )
        )
        territories = list(
            exclusive_territories_over(
                partner_id=partner.pk, region=deal.region, today=today
            )
        )
        reasons = []
        if same:
            reasons.append(
                _("%(customer)s is already registered by %(partners)s (%(numbers)s).")
                % {
                    "customer": deal.customer_name,
                    "partners": "、".join(dict.fromkeys(str(d.partner) for d in same)),
                    "numbers": "、".join(d.number for d in same),
                }
            )
        for territory in territories:
            reasons.append(
                _("%(region)s is in the exclusive territory of %(partner)s.")
                % {"region": deal.region.name, "partner": territory.partner}
            )
        if reasons:
            deal.status = DealRegistration.Status.CONFLICT
            deal.conflict_reason = " ".join(reasons)[:255]
        deal.save()
        audit_record(actor=actor, obj=deal, action=AuditEvent.Action.CREATE)
        if not reasons:
            return deal
        deal.conflicts_with.set(same)
        for other in same:
            other.conflicts_with.add(deal)
            if other.status == DealRegistration.Status.PENDING:
                before = snapshot(other)
                other.status = DealRegistration.Status.CONFLICT
                other.conflict_reason = (
                    _("%(customer)s was registered by %(partner)s too (%(number)s).")
                    % {
                        "customer": other.customer_name,
                        "partner": partner,
                        "number": deal.number,
                    }
                )[:255]
                other.save(update_fields=["status", "conflict_reason", "updated_at"])
                audit_record(
                    actor=actor,
                    obj=other,
                    action=AuditEvent.Action.UPDATE,
                    before=before,
                    note="conflict",
                )
        involved = [partner, *(d.partner for d in same)]
        involved += [t.partner for t in territories]
        for manager in _managers(involved):
            notify(
                recipient=manager,
                title=_("Channel conflict: %(number)s %(customer)s")
                % {"number": deal.number, "customer": deal.customer_name},
                body=deal.conflict_reason,
                url=reverse("channels:deal-detail", args=[deal.pk]),
                kind="channels.deal_conflict",
            )
    return deal


def _close(*, actor, deal, status: str, note: str, valid_until=None, reason=""):
    before = snapshot(deal)
    deal.status = status
    deal.decided_by, deal.decided_at = actor, timezone.now()
    deal.decision_note = (reason or note or "")[:255]
    if valid_until is not None:
        deal.valid_until = valid_until
    deal.save()
    audit_record(
        actor=actor,
        obj=deal,
        action=AuditEvent.Action.UPDATE,
        before=before,
        note=status,
    )
    return deal


def deal_decide(
    *,
    actor,
    deal: DealRegistration,
    approve: bool,
    note: str = "",
    today: datetime.date | None = None,
) -> DealRegistration:
    """Approve (protect it; the competing registrations are rejected) or reject a
    registration awaiting a decision; the losers' partners are told why."""
    authorize(actor, "channels.decide_dealregistration")
    today = today or timezone.localdate()
    with transaction.atomic():
        deal = (
            DealRegistration.objects.select_for_update()
            .select_related("partner")
            .get(pk=deal.pk)
        )
        if deal.status not in OPEN:
            raise Conflict(_("This registration has been decided already."))
        if not approve:
            _close(
                actor=actor,
                deal=deal,
                status=DealRegistration.Status.REJECTED,
                note=note,
            )
            _tell_partner(
                deal.partner,
                title=_("Deal registration %(number)s (%(customer)s) was rejected")
                % {"number": deal.number, "customer": deal.customer_name},
                body=note,
                deal=deal,
            )
            return deal
        days = int(get_param("deal_protection_days"))
        _close(
            actor=actor,
            deal=deal,
            status=DealRegistration.Status.APPROVED,
            note=note,
            valid_until=today + datetime.timedelta(days=days),
        )
        through = DealRegistration.conflicts_with.through.objects
        ids = set(
            through.filter(from_dealregistration_id=deal.pk).values_list(
                "to_dealregistration_id", flat=True
            )
        ) | set(
            through.filter(to_dealregistration_id=deal.pk).values_list(
                "from_dealregistration_id", flat=True
            )
        )
        losers = (
            DealRegistration.objects.select_for_update()
            .filter(pk__in=ids, status__in=HOLDING)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
            .order_by("pk")
        )
        for loser in losers.select_related("partner"):
            reason = _(
                "%(customer)s was given to %(partner)s (%(number)s), protected until "
                "%(until)s."
            ) % {
                "customer": deal.customer_name,
                "partner": deal.partner,
                "number": deal.number,
                "until": deal.valid_until,
            }
            if note:
                reason = f"{reason} {note}"
            _close(
                actor=actor,
                deal=loser,
                status=DealRegistration.Status.REJECTED,
                note=note,
                reason=reason,
            )
            _tell_partner(
                loser.partner,
                title=_("Deal registration %(number)s (%(customer)s) was rejected")
                % {"number": loser.number, "customer": loser.customer_name},
                body=reason,
                deal=loser,
            )
    return deal


def deal_registrations_expire(*, today: datetime.date | None = None) -> int:
    """Approved registrations whose protection ended before `today` become expired
    (a daily job's body; conflict detection already ignores them by date, so running
    it late or twice changes nothing). Returns how many expired."""
    today = today or timezone.localdate()
    with transaction.atomic():
        due = list(
            DealRegistration.objects.select_for_update()
            .filter(status=DealRegistration.Status.APPROVED, valid_until__lt=today)
            .order_by("pk")
        )
        for deal in due:
            before = snapshot(deal)
            deal.status = DealRegistration.Status.EXPIRED
            deal.save(update_fields=["status", "updated_at"])
            audit_record(
                actor=None,
                obj=deal,
                action=AuditEvent.Action.UPDATE,
                before=before,
                note="expired",
            )
    return len(due)
