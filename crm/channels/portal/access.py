"""D3: who is a partner user, and the one gate every portal page and portal API view uses.

A partner user's data scope is always its own partner: portal views read
`request.partner` (pages) or `self.partner` (API) and filter by it, so another
partner's ids are simply not found (404)."""

from functools import wraps

from django.http import Http404
from rest_framework import permissions

from crm.channels.models import Partner, PartnerUser


def membership(user) -> PartnerUser | None:
    """The user's partner membership, or None for HQ staff (and anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.partner_membership
    except PartnerUser.DoesNotExist:
        return None


def is_partner_user(user) -> bool:
    return membership(user) is not None


def user_partner(user) -> Partner | None:
    member = membership(user)
    return member.partner if member else None


def portal_view(view=None, *, admin=False):
    """Decorate a portal page: only active partner users pass (others get 404), and
    `request.partner` / `request.partner_admin` are set. `admin=True`: partner admins only."""

    def decorate(func):
        @wraps(func)
        def wrapped(request, *args, **kwargs):
            member = membership(request.user)
            if member is None or not request.user.is_active:
                raise Http404
            if member.partner.status == Partner.Status.TERMINATED:
                raise Http404
            if admin and not member.is_admin:
                raise Http404
            request.partner = member.partner
            request.partner_admin = member.is_admin
            return func(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


class IsPartnerUser(permissions.BasePermission):
    """DRF: the portal API is for partner users only (HQ users get 403)."""

    def has_permission(self, request, view) -> bool:
        member = membership(request.user)
        return member is not None and member.partner.status != Partner.Status.TERMINATED


class PortalAPIMixin:
    """Portal API views: partner users only; `self.partner` is theirs. Querysets must be
    filtered by `self.partner` (get_queryset), so another partner's ids give 404."""

    permission_classes = [IsPartnerUser]

    @property
    def partner(self) -> Partner:
        return membership(self.request.user).partner
