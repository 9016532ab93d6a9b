"""Y5 field rights: which fields of a model a user may see and edit, asked by forms,
serializers, exports and history alike.

Two sources, combined:
- a model's `permission_fields` ({"cost": "products.view_cost"}): hidden without that permission;
- the user's roles (`user.field_modes(label)`): per-field "hidden" / "readonly"; with several roles
  the widest grant wins, as for data scopes.
A model lists the fields a role editor may restrict in `restrictable_fields`.
"""

from dataclasses import dataclass

from django.apps import apps

from crm.core.scopes import can

HIDDEN, READONLY, EDIT = "hidden", "readonly", "edit"
MODES = (HIDDEN, READONLY, EDIT)


@dataclass(frozen=True)
class FieldRights:
    hidden: frozenset[str]
    readonly: frozenset[str]

    def visible(self, names):
        return [n for n in names if n not in self.hidden]


def field_rights(user, model) -> FieldRights:
    label = model._meta.label_lower
    hidden = {
        name
        for name, perm in getattr(model, "permission_fields", {}).items()
        if not can(user, perm)
    }
    readonly: set[str] = set()
    if user.is_authenticated and not user.is_superuser:
        for name, mode in user.field_modes(label).items():
            if mode == HIDDEN:
                hidden.add(name)
            elif mode == READONLY:
                readonly.add(name)
    return FieldRights(frozenset(hidden), frozenset(readonly - hidden))


def restrictable_models():
    """Models whose fields a role may hide or make read-only, for the role editor."""
    return [m for m in apps.get_models() if getattr(m, "restrictable_fields", None)]
