"""D3: partner users live in the portal and never reach an HQ page or HQ API."""

from django.http import Http404
from django.shortcuts import redirect

from crm.channels.portal.access import is_partner_user

# What a partner user may open besides the portal itself.
PARTNER_PATHS = (
    "/portal/",
    "/api/v1/portal/",
    "/api/v1/auth/",
    "/accounts/",
    "/i18n/",
    "/static/",
    "/healthz",
)


def token_user(request):
    """The user of an "Authorization: Token <key>" header (DRF authenticates it only
    inside the view, after this middleware), or None."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "token":
        return None
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=parts[1]).first()
    return token.user if token is not None else None


class PortalBoundaryMiddleware:
    """Partner users: "/" goes to the portal; any other HQ path is 404, by session or by
    API token alike (a token is looked up only for HQ paths under /api/)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_partner_user(request.user):
            if request.path == "/":
                return redirect("portal:home")
            if not request.path.startswith(PARTNER_PATHS):
                raise Http404
        elif request.path.startswith("/api/") and not request.path.startswith(
            PARTNER_PATHS
        ):
            user = token_user(request)
            if user is not None and is_partner_user(user):
                raise Http404
        return self.get_response(request)
