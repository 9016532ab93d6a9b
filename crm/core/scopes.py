"""Y5 data permissions: the one place that decides which rows a user may see, and authorize()."""

from typing import Self

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.errors import Forbidden


class DataScope(models.TextChoices):
    OWN = "own", _("Own records")
    SUBORDINATES = "own_and_subordinates", _("Own and subordinates'")
    DEPARTMENT = "department", _("Own department")
    DEPARTMENT_TREE = "department_tree", _("Department and below")
    ALL = "all", _("All")


# The domains a role grants a data scope for; later modules add theirs here.
DOMAINS: dict[str, str] = {
    "org": _("Organisation"),
    "products": _("Products"),
    "customers": _("Customers"),
    "sales": _("Sales"),
    "channels": _("Channels"),
    "marketing": _("Marketing"),
    "service": _("Service"),
}


def data_scopes(user, domain: str) -> set[str]:
    """The scopes the user's roles grant in a domain (several roles: all of them, OR-ed)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return {DataScope.ALL}
    return user.data_scopes(domain)


def scope_q(
    user, domain: str, *, owner: str = "owner", department: str = "department"
) -> Q | None:
    """A Q selecting the rows visible to `user`; None means everything. Empty scope sees nothing."""
    scopes = data_scopes(user, domain)
    if DataScope.ALL in scopes:
        return None
    q = Q(pk__in=[])
    if not scopes:
        return q
    if DataScope.OWN in scopes:
        q |= Q(**{owner: user.pk})
    if DataScope.SUBORDINATES in scopes:
        q |= Q(**{f"{owner}__in": user.subordinate_ids()})
    if user.department_id and DataScope.DEPARTMENT in scopes:
        q |= Q(**{department: user.department_id})
    if user.department_id and DataScope.DEPARTMENT_TREE in scopes:
        q |= Q(**{f"{department}__in": user.department_subtree_ids()})
    return q


class ScopedQuerySet(models.QuerySet):
    """Models set `scope_domain` (and optionally `scope_owner_field`/`scope_department_field`)."""

    def visible_to(self, user) -> Self:
        model = self.model
        q = scope_q(
            user,
            model.scope_domain,
            owner=getattr(model, "scope_owner_field", "owner"),
            department=getattr(model, "scope_department_field", "department"),
        )
        return self if q is None else self.filter(q)


def authorize(user, perm: str, obj=None) -> None:
    """Refuse (403) an action the user's roles do not grant. The only action-permission check."""
    if not (user.is_authenticated and user.is_active and user.has_perm(perm)):
        raise Forbidden(_("You do not have permission to do this."))


def can(user, perm: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(perm))
