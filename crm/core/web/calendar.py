"""X5 calendar feed pages: my secret address (show, regenerate, revoke) and the feed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from crm.core.calendar import (
    calendar_feed_get,
    calendar_feed_regenerate,
    calendar_feed_revoke,
    calendar_feed_user,
    calendar_for,
)
from crm.core.params import get_param


def _feed_url(request, feed) -> str:
    if feed is None:
        return ""
    return request.build_absolute_uri(
        reverse("core:calendar-ics", kwargs={"token": feed.token})
    )


@require_GET
def calendar_page(request):
    """The address to paste into a calendar application."""
    feed = calendar_feed_get(actor=request.user)
    return render(
        request,
        "core/calendar.html",
        {
            "title": _("Calendar feed"),
            "feed": feed,
            "feed_url": _feed_url(request, feed),
        },
    )


@require_POST
def calendar_regenerate(request):
    had_feed = calendar_feed_get(actor=request.user) is not None
    calendar_feed_regenerate(actor=request.user)
    messages.success(
        request,
        _("A new address was made; the previous one no longer works.")
        if had_feed
        else _("Your calendar address is ready."),
    )
    return redirect("core:calendar")


@require_POST
def calendar_revoke(request):
    calendar_feed_revoke(actor=request.user)
    messages.success(request, _("The calendar address no longer works."))
    return redirect("core:calendar")


@login_not_required
@never_cache
@require_GET
def calendar_ics(request, token):
    """The feed itself. Calendar applications cannot log in: the secret token is the
    credential, and an unknown or revoked token is simply not found."""
    user = calendar_feed_user(token)
    if user is None:
        raise Http404
    name = f"{get_param('company_name')} · {user}"
    body = calendar_for(user, base_url=request.build_absolute_uri("/"), name=name)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
