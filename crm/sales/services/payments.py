"""S6 payment collection (收款): receipts against open instalments, voids, reminders.

A receipt (`payment_record`) is booked against one open instalment (a receivable) under
a row lock on that instalment, so two clerks collecting the same instalment at once can
never take it past its amount. `Instalment.received` is written here and nowhere else.

Idempotency: a client (an API caller retrying, a browser posting a form twice) sends the
same `idempotency_key` for the same receipt. The first call records it; a repeat returns
that first receipt (same number) and changes nothing. Two concurrent calls with the same
key are settled by the unique constraint on the key: the loser's insert fails inside a
savepoint and it returns the winner's receipt. A key already used for a different
instalment or amount is refused with Conflict (409).

Commission periods (S7): a closed period's figures never change, so a receipt dated
inside a closed period, and the void of a receipt dated inside one, are refused.
"""

import datetime
import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Invalid
from crm.core.models import AuditEvent
from crm.core.money import round_money
from crm.core.notifications import notify
from crm.core.numbering import next_number
from crm.core.params import get_param
from crm.core.scopes import authorize
from crm.sales.models import CommissionPeriod, Instalment, Payment

KEY_MAX = 64
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
REMINDER_OVERDUE_EVERY = 7  # days between two overdue reminders of one instalment


def money_kind(instalment: Instalment) -> str:
    """The document kind whose decimal places (Y2) round this instalment's money."""
    return "contract" if instalment.contract_id else "order"


def shown_money(amount, kind: str) -> str:
    """An amount for a message: rounded for its kind, with thousands separators."""
    return f"{round_money(amount, kind):,}"


def clean_idempotency_key(key) -> str:
    """A key is optional; when given it is 1–64 letters, digits, '.', '_', ':' or '-'
    (a UUID fits)."""
    key = (key or "").strip() if isinstance(key, str) else ""
    if key and not KEY_PATTERN.match(key):
        message = _(
            "The idempotency key must be 1 to 64 letters, digits, '.', '_', ':' or '-'."
        )
        raise Invalid(message, fields={"idempotency_key": [message]})
    return key


def closed_period_on(day: datetime.date) -> CommissionPeriod | None:
    """The closed commission period containing `day`, if any. The period's row is
    locked, so a period being closed right now is waited for and seen closed, and a
    period cannot close while a receipt dated inside it is being written."""
    period = (
        CommissionPeriod.objects.select_for_update()
        .filter(start_on__lte=day, end_on__gte=day)
        .first()
    )
    return period if period is not None and period.is_closed else None


def _existing_payment(key: str) -> Payment | None:
    return Payment.objects.filter(idempotency_key=key).first() if key else None


def _replay(existing: Payment, *, actor, instalment: Instalment, amount) -> Payment:
    """The receipt already recorded under a key, if this call asks for the same one."""
    same = (
        existing.instalment_id == instalment.pk
        and existing.amount == amount
        and existing.recorded_by_id == actor.pk
    )
    if not same:
        message = _(
            "This idempotency key was already used for a different receipt. "
            "Use a new key for a new receipt."
        )
        raise Conflict(message, fields={"idempotency_key": [message]})
    existing.replayed = True
    return existing


def _clean_amount(raw, instalment: Instalment) -> Decimal:
    if raw is None or raw == "":
        message = _("Enter the amount received.")
        raise Invalid(message, fields={"amount": [message]})
    amount = round_money(raw, money_kind(instalment), field="amount")
    if amount <= 0:
        message = _("The amount must be greater than zero.")
        raise Invalid(message, fields={"amount": [message]})
    return amount


def _clean_received_on(received_on) -> datetime.date:
    today = timezone.localdate()
    received_on = received_on or today
    if received_on > today:
        message = _("A receipt cannot be dated in the future.")
        raise Invalid(message, fields={"received_on": [message]})
    period = closed_period_on(received_on)
    if period is not None:
        message = _(
            "The commission period %(period)s containing this date is closed; "
            "date the receipt after %(end)s."
        ) % {"period": period.name, "end": period.end_on.isoformat()}
        raise Invalid(message, fields={"received_on": [message]})
    return received_on


def payment_record(
    *,
    actor,
    instalment: Instalment,
    amount,
    received_on: datetime.date | None = None,
    method: str = Payment.Method.BANK,
    reference: str = "",
    notes: str = "",
    idempotency_key: str = "",
) -> Payment:
    """Record a receipt against an open instalment: partial payments are fine, more
    than the outstanding amount is refused. The returned payment has `replayed` True
    when the key had recorded it before (nothing was written then)."""
    authorize(actor, "sales.add_payment")
    key = clean_idempotency_key(idempotency_key)
    if method not in Payment.Method.values:
        message = _("Choose a valid payment method.")
        raise Invalid(message, fields={"method": [message]})
    with transaction.atomic():
        # The lock serialises every receipt of this instalment (and so the repeats
        # of one receipt, which name the same instalment).
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        amount = _clean_amount(amount, locked)
        existing = _existing_payment(key)
        if existing is not None:
            return _replay(existing, actor=actor, instalment=locked, amount=amount)
        if not locked.is_open:
            raise Invalid(
                _(
                    "This instalment is not a receivable yet: its contract is not "
                    "active or its order not confirmed."
                )
            )
        outstanding = locked.amount - locked.received
        if amount > outstanding:
            message = _(
                "The amount is more than the %(outstanding)s still outstanding on "
                "this instalment."
            ) % {"outstanding": shown_money(outstanding, money_kind(locked))}
            raise Invalid(message, fields={"amount": [message]})
        received_on = _clean_received_on(received_on)
        payment = Payment(
            instalment=locked,
            customer_id=locked.customer_id,
            owner_id=locked.owner_id,
            department_id=locked.department_id,
            amount=amount,
            received_on=received_on,
            method=method,
            reference=(reference or "").strip()[:100],
            notes=(notes or "").strip()[:255],
            idempotency_key=key,
            recorded_by=actor,
        )
        try:
            # A savepoint: a concurrent twin with the same key wins the unique
            # constraint, this insert (and its number) is rolled back, and the
            # twin's receipt is returned.
            with transaction.atomic():
                payment.number = next_number("sales.payment")
                payment.save()
        except IntegrityError:
            existing = _existing_payment(key)
            if existing is None:
                raise
            return _replay(existing, actor=actor, instalment=locked, amount=amount)
        before = snapshot(locked)
        locked.received += amount
        locked.save(update_fields=["received", "updated_at"])
        audit_record(actor=actor, obj=payment, action=AuditEvent.Action.CREATE)
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=_("Receipt %(number)s") % {"number": payment.number},
        )
    payment.replayed = False
    return payment


def payment_void(*, actor, payment: Payment, reason: str) -> Payment:
    """Void a receipt: its amount is outstanding on the instalment again; the receipt
    stays visible as voided. Refused when its date lies in a closed commission period."""
    authorize(actor, "sales.void_payment")
    reason = (reason or "").strip()
    if not reason:
        message = _("Give the reason for voiding this receipt.")
        raise Invalid(message, fields={"reason": [message]})
    if len(reason) > 255:
        message = _("Keep the reason under 255 characters.")
        raise Invalid(message, fields={"reason": [message]})
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == Payment.Status.VOIDED:
            raise Conflict(_("This receipt is already voided."))
        # Locks in the order payment_record takes them: instalment, then period.
        instalment = Instalment.objects.select_for_update().get(pk=locked.instalment_id)
        period = closed_period_on(locked.received_on)
        if period is not None:
            raise Conflict(
                _(
                    "This receipt counts in the closed commission period %(period)s "
                    "and cannot be voided any more."
                )
                % {"period": period.name}
            )
        before_payment, before_instalment = snapshot(locked), snapshot(instalment)
        locked.status = Payment.Status.VOIDED
        locked.voided_by, locked.voided_at = actor, timezone.now()
        locked.void_reason = reason
        locked.save(
            update_fields=[
                "status",
                "voided_by",
                "voided_at",
                "void_reason",
                "updated_at",
            ]
        )
        instalment.received -= locked.amount
        instalment.save(update_fields=["received", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before_payment,
            note=_("Voided: %(reason)s") % {"reason": reason},
        )
        audit_record(
            actor=actor,
            obj=instalment,
            action=AuditEvent.Action.UPDATE,
            before=before_instalment,
            note=_("Receipt %(number)s voided") % {"number": locked.number},
        )
    return locked


# X3 daily job: due-soon and overdue reminders to each instalment's owner.


def receivable_reminders_send(*, today: datetime.date | None = None) -> int:
    """Tell each open instalment's owner, in the app and by e-mail, that it falls due
    within `receivable_reminder_days` days (Y2) and, once overdue, on its first overdue
    day and then once a week while money is outstanding. Each reminder has a dedupe
    key (the instalment, its due date, and the overdue week), so running the job twice
    a day, or missing a day, never tells anybody twice or leaves them untold. Returns
    how many were sent."""
    today = today or timezone.localdate()
    ahead = int(get_param("receivable_reminder_days"))
    horizon = today + datetime.timedelta(days=ahead)
    instalments = (
        Instalment.objects.filter(
            is_open=True, owner__isnull=False, due_on__lte=horizon
        )
        .filter(received__lt=F("amount"))
        .select_related("owner", "customer", "contract", "order")
        .order_by("due_on", "pk")
    )
    sent = 0
    for instalment in instalments.iterator(chunk_size=1000):
        kind = money_kind(instalment)
        outstanding = shown_money(instalment.amount - instalment.received, kind)
        values = {
            "document": instalment.document_number,
            "sequence": instalment.sequence,
            "customer": instalment.customer.name,
            "outstanding": outstanding,
            "date": instalment.due_on.isoformat(),
        }
        if instalment.due_on >= today:
            title = (
                _(
                    "Due on %(date)s: %(document)s #%(sequence)s of %(customer)s, "
                    "%(outstanding)s outstanding"
                )
                % values
            )
            body = _(
                "Instalment %(sequence)s of %(document)s, customer %(customer)s, "
                "falls due on %(date)s; %(outstanding)s is outstanding."
            )
            key = f"sales.receivable.due:{instalment.pk}:{instalment.due_on}"
            kind_key = "sales.receivable_due"
        else:
            days = (today - instalment.due_on).days
            week = (days - 1) // REMINDER_OVERDUE_EVERY
            values["days"] = days
            title = (
                _(
                    "Overdue %(days)s days: %(document)s #%(sequence)s of "
                    "%(customer)s, %(outstanding)s outstanding"
                )
                % values
            )
            body = _(
                "Instalment %(sequence)s of %(document)s, customer %(customer)s, was "
                "due on %(date)s; %(outstanding)s is still outstanding."
            )
            key = f"sales.receivable.overdue:{instalment.pk}:{instalment.due_on}:{week}"
            kind_key = "sales.receivable_overdue"
        notification = notify(
            recipient=instalment.owner,
            title=title,
            body=body % values,
            url=reverse("sales:instalment-payment", args=[instalment.pk]),
            kind=kind_key,
            dedupe_key=key,
        )
        sent += notification is not None
    return sent
