"""Who points at a record: relations discovered from the model registry, never listed by hand.

Used to merge records (every reference to a merged record moves to the survivor, in any
app, present or future) and to find business documents that keep a record from being
deleted (relations that PROTECT or RESTRICT it).

A reference is a foreign key or one-to-one field on another model, a many-to-many field
pointing at the model, or a GenericForeignKey whose content type is the model's.
"""

from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from crm.core.errors import Conflict

FK, ONE_TO_ONE, M2M, GENERIC = "fk", "one_to_one", "m2m", "generic"


@dataclass(frozen=True)
class Reference:
    model: type[models.Model]  # the model holding the reference
    field: str  # its field (for M2M: the through model's field pointing at the target)
    kind: str
    through: type[models.Model] | None = None  # M2M: the through model
    source_field: str = ""  # M2M: the through model's field pointing at `model`
    ct_field: str = ""  # generic: the content-type field

    @property
    def label(self) -> str:
        holder = self.through if self.kind == M2M else self.model
        return f"{holder._meta.label_lower}.{self.field}"

    @property
    def rows_model(self) -> type[models.Model]:
        return self.through if self.kind == M2M else self.model

    @property
    def on_delete(self):
        if self.kind in (FK, ONE_TO_ONE):
            return self.model._meta.get_field(self.field).remote_field.on_delete
        return None


def references_to(model) -> list[Reference]:
    """Every reference to `model` from any installed model (including `model` itself)."""
    found = []
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            field = rel.field
            through = field.remote_field.through
            if not through._meta.auto_created:
                continue  # a custom through model's foreign key is found as an FK
            found.append(
                Reference(
                    rel.related_model,
                    field.m2m_reverse_field_name(),
                    M2M,
                    through=through,
                    source_field=field.m2m_field_name(),
                )
            )
        else:
            kind = ONE_TO_ONE if rel.one_to_one else FK
            found.append(Reference(rel.related_model, rel.field.name, kind))
    for other in apps.get_models():
        for field in other._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                found.append(
                    Reference(other, field.fk_field, GENERIC, ct_field=field.ct_field)
                )
    return found


def _rows(ref: Reference, model, ids):
    manager = ref.rows_model._base_manager
    if ref.kind != GENERIC:
        return manager.filter(**{f"{ref.field}__in": ids})
    field = ref.model._meta.get_field(ref.field)
    keys = [str(i) for i in ids] if isinstance(field, models.CharField) else list(ids)
    return manager.filter(
        **{
            ref.ct_field: ContentType.objects.get_for_model(model),
            f"{ref.field}__in": keys,
        }
    )


def reference_counts(model, ids, *, skip=()) -> dict[str, int]:
    """Rows pointing at any of `ids`, per reference (skip: labels of holder models)."""
    return {
        ref.label: _rows(ref, model, ids).count()
        for ref in references_to(model)
        if ref.rows_model._meta.label_lower not in skip
    }


def protected_references(obj) -> dict[str, int]:
    """Rows of other models that PROTECT or RESTRICT `obj` (its business documents), by
    the holder's verbose name; references from the record's own model are left out."""
    model = type(obj)
    result: dict[str, int] = {}
    for ref in references_to(model):
        if ref.model is model or ref.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        count = _rows(ref, model, [obj.pk]).count()
        if count:
            name = str(ref.model._meta.verbose_name_plural)
            result[name] = result.get(name, 0) + count
    return result


def repoint_references(model, source_ids, target, *, skip=()) -> dict[str, int]:
    """Move every reference to one of `source_ids` onto `target`, in one transaction.

    Many-to-many links the target already has are dropped instead of doubled; a one-to-one
    both sides hold, or a unique constraint the move would break, refuses the whole move.
    Returns how many rows moved per reference. `skip`: holder models (label_lower) to
    leave alone, e.g. the audit trail, which stays with the merged records.
    """
    source_ids = [pk for pk in source_ids if pk != target.pk]
    moved: dict[str, int] = {}
    with transaction.atomic():
        for ref in references_to(model):
            if ref.rows_model._meta.label_lower in skip:
                continue
            rows = _rows(ref, model, source_ids)
            try:
                with transaction.atomic():
                    moved[ref.label] = _move(ref, model, rows, target)
            except IntegrityError:
                raise Conflict(
                    _(
                        "%(model)s of these records cannot be combined: they would "
                        "break a uniqueness rule."
                    )
                    % {
                        "model": str(
                            ref.rows_model._meta.verbose_name_plural
                        ).capitalize()
                    }
                ) from None
    return moved


def _move(ref: Reference, model, rows, target) -> int:
    if ref.kind == M2M:
        existing = set(
            ref.through._base_manager.filter(**{ref.field: target.pk}).values_list(
                f"{ref.source_field}_id", flat=True
            )
        )
        count = 0
        for row in rows:
            source = getattr(row, f"{ref.source_field}_id")
            if source in existing:
                row.delete()  # the target already has this link
                continue
            existing.add(source)
            setattr(row, f"{ref.field}_id", target.pk)
            row.save(update_fields=[ref.field])
            count += 1
        return count
    if ref.kind == ONE_TO_ONE:
        taken = _rows(ref, model, [target.pk]).exists()
        if rows.count() > (0 if taken else 1):
            raise IntegrityError(ref.label)
    if ref.kind == GENERIC:
        field = ref.model._meta.get_field(ref.field)
        value = str(target.pk) if isinstance(field, models.CharField) else target.pk
        return rows.update(**{ref.field: value})
    return rows.update(**{ref.field: target.pk})
