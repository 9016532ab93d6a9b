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


class PortalBoundaryMiddleware:
    """Partner users: "/" goes to the portal; any other HQ path is 404. Runs after
    authentication (sessions); token-authenticated API calls are checked by the portal
    API's own permission class, and HQ API views refuse them for lack of permissions."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_partner_user(request.user):
            if request.path == "/":
                return redirect("portal:home")
            if not request.path.startswith(PARTNER_PATHS):
                raise Http404
        return self.get_response(request)
