"""Writes for departments (Y3), employees (Y4), roles (Y5) and announcements (S10)."""

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, snapshot
from crm.core.errors import Invalid, invalid_from_django
from crm.core.fieldrights import MODES
from crm.core.models import AuditEvent
from crm.core.numbering import next_number
from crm.core.scopes import DOMAINS, DataScope, authorize
from crm.core.services import record_create, record_delete, record_update
from crm.core.trees import tree_move
from crm.org.models import Announcement, Department, Role, User

# Departments


def department_create(*, actor, data: dict) -> Department:
    """A new department goes under its parent; its path is derived from the parent's."""
    with transaction.atomic():
        dept = record_create(
            actor=actor, model=Department, data=data, perm="org.add_department"
        )
    return dept


def department_update(
    *, actor, obj: Department, data: dict, version=None
) -> Department:
    """Rename or re-kind a department; a new parent moves the whole subtree."""
    data = dict(data)
    new_parent = data.pop("parent", obj.parent)
    with transaction.atomic():
        authorize(actor, "org.change_department")
        if (new_parent.pk if new_parent else None) != obj.parent_id:
            department_move(actor=actor, dept=obj, parent=new_parent)
            obj.refresh_from_db()
        if data:
            obj = record_update(
                actor=actor, obj=obj, data=data, perm="org.change_department"
            )
    return obj


def department_move(
    *, actor, dept: Department, parent: Department | None
) -> Department:
    """Move a subtree; a move under the department's own descendant is refused."""
    authorize(actor, "org.change_department")
    with transaction.atomic():
        dept = Department.objects.select_for_update().get(pk=dept.pk)
        before = snapshot(dept)
        tree_move(dept, parent)
        audit_record(
            actor=actor,
            obj=dept,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="move",
        )
    return dept


def department_deactivate(*, actor, dept: Department) -> Department:
    """A department with active sub-departments or employees stays active: move them first."""
    authorize(actor, "org.change_department")
    if Department.objects.filter(parent=dept, is_active=True).exists():
        raise Invalid(_("Deactivate or move its active sub-departments first."))
    if User.objects.filter(department=dept, is_active=True).exists():
        raise Invalid(_("Move or deactivate its active employees first."))
    return record_update(
        actor=actor,
        obj=dept,
        data={"is_active": False},
        perm="org.change_department",
        note="deactivate",
    )


# Employees


def _full_clean(user: User) -> None:
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise Invalid(
            exc.messages[0], fields={"password": list(exc.messages)}
        ) from None


def employee_create(*, actor, data: dict) -> User:
    """Create an employee login; the password must pass the password policy (Y1)."""
    authorize(actor, "org.add_user")
    data = dict(data)
    password = data.pop("password", "") or ""
    roles = data.pop("roles", None)
    user = User(**data)
    if not user.employee_no:  # numbered from the sequence unless HR gives one
        user.employee_no = next_number("org.employee")
    _check_password(password, user)
    if User.objects.filter(username__iexact=user.username).exists():
        raise Invalid(
            _("This username is taken."),
            fields={"username": [_("This username is taken.")]},
        )
    if roles:
        _authorize_role_grant(actor)
    user.set_password(password)
    _full_clean(user)
    with transaction.atomic():
        user.save()
        if roles is not None:
            user.groups.set(roles)
        audit_record(actor=actor, obj=user, action=AuditEvent.Action.CREATE)
    return user


def _authorize_role_grant(actor) -> None:
    """Granting roles is granting permissions: it needs the right to change roles too,
    or anyone who may edit employees could make themselves administrator."""
    authorize(actor, "org.change_role")


def employee_update(*, actor, obj: User, data: dict, version=None) -> User:
    authorize(actor, "org.change_user")
    data = dict(data)
    roles = data.pop("roles", None)
    supervisor = data.get("supervisor")
    if supervisor is not None and obj.pk in _chain_above(supervisor):
        raise Invalid(
            _("An employee cannot report to their own subordinate."),
            fields={"supervisor": [_("Choose someone outside this employee's team.")]},
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=obj.pk)
        before = snapshot(user)
        before_roles = sorted(user.groups.values_list("name", flat=True))
        if roles is not None and sorted(r.name for r in roles) != before_roles:
            _authorize_role_grant(actor)
        for name, value in data.items():
            setattr(user, name, value)
        _full_clean(user)
        user.save()
        if roles is not None:
            user.groups.set(roles)
        after_roles = sorted(user.groups.values_list("name", flat=True))
        event = audit_record(
            actor=actor, obj=user, action=AuditEvent.Action.UPDATE, before=before
        )
        if before_roles != after_roles:
            event.changes["roles"] = [before_roles, after_roles]
            event.save(update_fields=["changes"])
    return user


def _chain_above(user: User) -> set[int]:
    """The user and everybody above them in the supervisor chain."""
    seen = set()
    while user is not None and user.pk not in seen:
        seen.add(user.pk)
        user = user.supervisor
    return seen


def employee_deactivate(*, actor, user: User) -> User:
    """Employees are deactivated, never deleted: their records keep their owner."""
    authorize(actor, "org.change_user")
    if user.pk == actor.pk:
        raise Invalid(_("You cannot deactivate yourself."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        from rest_framework.authtoken.models import Token

        Token.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            obj=user,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="deactivate",
        )
    return user


def employee_set_password(*, actor, user: User, password: str) -> None:
    if actor.pk != user.pk:
        authorize(actor, "org.change_user")
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            actor=actor,
            obj=user,
            action=AuditEvent.Action.OTHER,
            note="password changed",
        )


# Roles


def _clean_role(data: dict) -> dict:
    errors = {}
    scopes = data.get("data_scopes") or {}
    valid_scopes = set(DataScope.values)
    for domain, scope in scopes.items():
        if domain not in DOMAINS:
            errors.setdefault("data_scopes", []).append(
                _("Unknown domain %(d)s.") % {"d": domain}
            )
        elif scope not in valid_scopes:
            errors.setdefault("data_scopes", []).append(
                _("Unknown scope %(s)s.") % {"s": scope}
            )
    rights = data.get("field_rights") or {}
    for label, fields in rights.items():
        if not isinstance(fields, dict) or any(
            mode not in MODES for mode in fields.values()
        ):
            errors.setdefault("field_rights", []).append(
                _("Invalid field rights for %(l)s.") % {"l": label}
            )
    if not (data.get("name") or "").strip():
        errors["name"] = [_("This field is required.")]
    if errors:
        raise Invalid(_("The role is invalid."), fields=errors)
    return data


def role_save(*, actor, role: Role | None, data: dict) -> Role:
    """Create or update a role: permissions, data scopes per domain, field rights."""
    authorize(actor, "org.change_role" if role else "org.add_role")
    data = _clean_role(dict(data))
    permissions = data.pop("permissions", None)
    clash = Role.objects.filter(name=data["name"].strip())
    if role is not None:
        clash = clash.exclude(pk=role.pk)
    if clash.exists():
        raise Invalid(
            _("A role with this name exists."),
            fields={"name": [_("A role with this name exists.")]},
        )
    role_existed, before_perms = role is not None, []
    with transaction.atomic():
        if role is None:
            role = Role(**data)
            _full_clean_role(role)
            role.save()
            before, action = {}, AuditEvent.Action.CREATE
        else:
            role = Role.objects.select_for_update().get(pk=role.pk)
            before, action = snapshot(role), AuditEvent.Action.UPDATE
            before_perms = sorted(_perm_names(role.permissions.all()))
            for name, value in data.items():
                setattr(role, name, value)
            _full_clean_role(role)
            role.save()
        if permissions is not None:
            role.permissions.set(permissions)
        event = audit_record(actor=actor, obj=role, action=action, before=before)
        after_perms = sorted(_perm_names(role.permissions.all()))
        if (before_perms if role_existed else []) != after_perms:
            event.changes["permissions"] = [
                before_perms if role_existed else None,
                after_perms,
            ]
            event.save(update_fields=["changes"])
    return role


def _full_clean_role(role: Role) -> None:
    """Length limits and NUL characters give field errors, not database errors."""
    for name in ("name", "description"):
        if "\x00" in (getattr(role, name) or ""):
            raise Invalid(
                _("Null characters are not allowed."),
                fields={name: [_("Null characters are not allowed.")]},
            )
    try:
        role.full_clean(exclude=["permissions", "group_ptr"], validate_unique=False)
    except ValidationError as exc:
        raise invalid_from_django(exc) from None


def _perm_names(perms) -> list[str]:
    return [
        f"{p.content_type.app_label}.{p.codename}"
        for p in perms.select_related("content_type")
    ]


def permissions_by_codes(codes: list[str]) -> list[Permission]:
    result = []
    for code in codes:
        app_label, codename = code.split(".", 1)
        result.extend(
            Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            )
        )
    return result


# Announcements (S10)

ANNOUNCEMENT_FIELDS = ("title", "body", "is_pinned", "published_at")


def _announcement_data(data: dict) -> dict:
    unknown = set(data) - set(ANNOUNCEMENT_FIELDS)
    if unknown:
        raise Invalid(
            _("These fields cannot be set here."),
            fields={name: [_("Not an editable field.")] for name in sorted(unknown)},
        )
    return dict(data)


def announcement_create(*, actor, data: dict) -> Announcement:
    """A new announcement is a draft of its author until it is published."""
    data = _announcement_data(data)
    with transaction.atomic():
        return record_create(
            actor=actor,
            model=Announcement,
            data={**data, "author": actor, "is_published": False},
            perm="org.add_announcement",
        )


def announcement_update(
    *, actor, obj: Announcement, data: dict, version=None
) -> Announcement:
    """Edit the text, the pin or the publication time; a stale version is refused."""
    return record_update(
        actor=actor,
        obj=obj,
        data=_announcement_data(data),
        perm="org.change_announcement",
        version=version,
    )


def announcement_publish(
    *, actor, announcement: Announcement, publish: bool = True
) -> Announcement:
    """Publish now (or at the later time set), or withdraw a published announcement."""
    authorize(actor, "org.change_announcement")
    with transaction.atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        before = snapshot(locked)
        if publish:
            now = timezone.now()
            scheduled = locked.published_at is not None and locked.published_at > now
            locked.published_at = locked.published_at if scheduled else now
        locked.is_published = publish
        locked.version += 1
        locked.save()
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditEvent.Action.UPDATE,
            before=before,
            note="publish" if publish else "withdraw",
        )
    return locked


def announcement_delete(*, actor, announcement: Announcement) -> None:
    """Delete for real (the audit trail keeps its last text)."""
    record_delete(actor=actor, obj=announcement, perm="org.delete_announcement")
