"""Generic record writes that every module's services build on: create, versioned update,
delete, each authorised, validated, field-rights checked, audited, in one transaction."""

from functools import cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_event, audit_record, snapshot
from crm.core.bulk import insert_many
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


def _full_clean(obj, exclude=None, *, in_batch: bool = False) -> None:
    try:
        obj.full_clean(
            exclude=exclude,
            validate_unique=not in_batch,
            validate_constraints=not in_batch,
        )
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


@cache
def _relations(model) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if f.is_relation)


def record_build(
    *,
    actor,
    model,
    data: dict,
    perm: str,
    in_batch: bool = False,
    later: tuple[str, ...] = (),
):
    """A new record from plain field values, authorised, field-rights checked and
    validated, not saved; owner/department default to the actor's.

    `in_batch` (record_create_many writes it later) leaves out the checks that cost a
    query per record: unique values and constraints, which the database enforces at the
    insert, and references given as records (loaded, or inserted first by the batch).
    `later` names fields the caller fills just before the insert (a number).
    """
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
        if in_batch:
            obj.department = actor.department  # loaded once: no existence check per row
        else:
            obj.department_id = actor.department_id
    exclude = list(later) or None
    if in_batch:
        exclude = [
            *later,
            *(
                f.name
                for f in _relations(model)
                if f.is_cached(obj) and f.get_cached_value(obj) is not None
            ),
        ]
    _full_clean(obj, exclude, in_batch=in_batch)
    return obj


def record_create(*, actor, model, data: dict, perm: str, note: str = ""):
    """Create a record from plain field values; owner/department default to the actor's."""
    obj = record_build(actor=actor, model=model, data=data, perm=perm)
    with transaction.atomic():
        obj.save()
        if isinstance(
            obj, TreeNode
        ):  # the path needs the id, so it is set after the insert
            tree_place(obj)
        audit_record(actor=actor, obj=obj, action=AuditEvent.Action.CREATE, note=note)
    return obj


def record_create_many(*, actor, objs: list, note: str = "") -> list:
    """Insert records built by record_build(in_batch=True): one bulk insert per model
    (crm.core.bulk), the models in the order they first appear (a contact's customer first), then
    every record's audit row at once, in the records' order. All or nothing; the
    database's constraints refuse what the batch build did not check. Tree nodes need
    their id for their path: create them with record_create."""
    groups: dict[type, list] = {}
    for obj in objs:
        if isinstance(obj, TreeNode):
            raise TypeError("record_create_many cannot place tree nodes")
        groups.setdefault(type(obj), []).append(obj)
    with transaction.atomic():
        for model, group in groups.items():
            insert_many(model, group)
        insert_many(
            AuditEvent,
            [
                audit_event(
                    actor=actor, obj=obj, action=AuditEvent.Action.CREATE, note=note
                )
                for obj in objs
            ],
        )
    return objs


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
