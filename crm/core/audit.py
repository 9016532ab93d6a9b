"""Y7 audit trail, written by services in the same transaction as the change."""

import contextlib
import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.core.models import AuditEvent

_AS_IS = frozenset({str, int, bool, float, type(None)})


def _plain(value, field=None):
    if type(value) in _AS_IS:  # most values: the checks below would keep them as is
        return value
    if isinstance(value, Decimal):
        # As the database stores it: 180.00 typed in and 180.000000 read back are one value.
        places = getattr(field, "decimal_places", None)
        if places is not None:
            with contextlib.suppress(InvalidOperation):  # too long: keep as it is
                value = value.quantize(Decimal(1).scaleb(-places))
        return str(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        # A form gives local time, the database UTC: compare and store one of them.
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return str(value)


def snapshot(obj) -> dict:
    """The record's concrete field values, JSON-ready (foreign keys as ids)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"created_at", "updated_at", "password"}:
            continue
        data[field.name] = _plain(getattr(obj, field.attname), field)
    return data


def audit_event(
    *, actor, obj, action: str, before: dict | None = None, note: str = ""
) -> AuditEvent:
    """The audit row of a change, not yet saved (bulk writers insert many at once)."""
    after = snapshot(obj) if action != AuditEvent.Action.DELETE else {}
    if before:
        keys = sorted(set(before) | set(after))
        changes = {
            k: [before.get(k), after.get(k)]
            for k in keys
            if before.get(k) != after.get(k)
        }
    else:  # a new record (bulk imports write many): every value that is set
        changes = {k: [None, after[k]] for k in sorted(after) if after[k] is not None}
    if action == AuditEvent.Action.UPDATE:
        changes.pop("version", None)
    return AuditEvent(
        actor=actor if actor and actor.is_authenticated else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        changes=changes,
        note=note[:255],
    )


def audit_record(
    *, actor, obj, action: str, before: dict | None = None, note: str = ""
) -> AuditEvent:
    """Write the audit row of a change, in the service's transaction."""
    event = audit_event(actor=actor, obj=obj, action=action, before=before, note=note)
    event.save(force_insert=True)
    return event


def history_for(obj, *, hidden: frozenset[str] = frozenset()):
    """A record's audit events, newest first, with hidden fields' values removed."""
    events = list(
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(
                obj, for_concrete_model=False
            ),
            object_id=str(obj.pk),
        ).select_related("actor")[:200]
    )
    for event in events:
        event.visible_changes = {
            k: v for k, v in event.changes.items() if k not in hidden
        }
    return events
