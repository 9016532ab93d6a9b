"""Generic record writes that every module's services build on: create, versioned update,
delete, each authorised, validated, field-rights checked, audited, in one transaction."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Conflict, Forbidden, invalid_from_django
from crm.core.fieldrights import field_rights
from crm.core.models import AuditEvent, TreeNode
from crm.core.scopes import authorize
from crm.core.trees import tree_place


def _check_field_rights(actor, model, data: dict, obj=None) -> None:
    rights = field_rights(actor, model)
    blocked = rights.hidden | rights.readonly
    denied = {}
    for name, value in data.items():
        if name in blocked and (obj is None or getattr(obj, name) != value):
            denied[name] = [_("You may not change this field.")]
    if denied:
        raise Forbidden(_("You may not change some of these fields."), fields=denied)


def _full_clean(obj, exclude=None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


def record_create(*, actor, model, data: dict, perm: str, note: str = ""):
    """Create a record from plain field values; owner/department default to the actor's."""
    authorize(actor, perm)
    _check_field_rights(
        actor, model, {k: v for k, v in data.items() if v not in (None, "")}
    )
    obj = model(**data)
    if hasattr(obj, "owner_id") and not obj.owner_id and actor.is_authenticated:
        obj.owner = actor
    if (
        hasattr(obj, "department_id")
        and not obj.department_id
        and getattr(actor, "department_id", None)
    ):
        obj.department_id = actor.department_id
    _full_clean(obj)
    with transaction.atomic():
        obj.save()
        if isinstance(
            obj, TreeNode
        ):  # the path needs the id, so it is set after the insert
            tree_place(obj)
        audit_record(actor=actor, obj=obj, action=AuditEvent.Action.CREATE, note=note)
    return obj


def record_update(
    *, actor, obj, data: dict, perm: str, version: int | None = None, note: str = ""
):
    """Apply changes to a record under lock; a stale `version` is refused with Conflict (409)."""
    authorize(actor, perm)
    model = type(obj)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=obj.pk)
        if hasattr(locked, "version"):
            if version is None:
                raise Conflict(
                    _("The record version is missing."),
                    fields={"version": [_("Required.")]},
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
        _check_field_rights(actor, model, data, locked)
        before = snapshot(locked)
        for name, value in data.items():
            setattr(locked, name, value)
        _full_clean(locked)
        if hasattr(locked, "version"):
            locked.version += 1
        locked.save()
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note=note,
        )
    return locked


def record_delete(*, actor, obj, perm: str, note: str = "") -> None:
    """Delete for real (drafts, configuration); business records are deactivated instead."""
    authorize(actor, perm)
    with transaction.atomic():
        before = snapshot(obj)
        audit_record(
            actor=actor,
            obj=obj,
            action=AuditEvent.Action.DELETE,
            before=before,
            note=note,
        )
        obj.delete()
