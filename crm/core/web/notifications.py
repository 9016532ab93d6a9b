"""X4 notification pages: the list of my notifications, mark one or all read, the bell."""

from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.core.lists import CappedPaginator
from crm.core.notifications import (
    notification_get,
    notification_list,
    notification_mark_all_read,
    notification_mark_read,
    unread_count,
)

PAGE_SIZE = 30


def _bell_context(request) -> dict:
    return {"notifications_unread": unread_count(request.user)}


@require_GET
def notifications(request):
    """My notifications, newest first; `?unread=1` shows only the unread ones."""
    unread = request.GET.get("unread") == "1"
    qs = notification_list(actor=request.user, unread=unread)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page") or 1)
    context = {
        "title": _("Notifications"),
        "page": page,
        "unread_only": unread,
        **_bell_context(request),
    }
    template = (
        "core/notifications_list.html"
        if request.htmx and not request.htmx.boosted
        else "core/notifications.html"
    )
    return render(request, template, context)


@require_POST
def notification_read(request, pk):
    """Mark one notification read; htmx gets the row back and the bell refreshed."""
    notification = notification_get(actor=request.user, pk=pk)
    notification_mark_read(actor=request.user, notification=notification)
    if request.htmx:
        return render(
            request,
            "core/notifications_row.html",
            {"n": notification, "oob_bell": True, **_bell_context(request)},
        )
    return redirect("core:notifications")


@require_GET
def notification_open(request, pk):
    """Follow a notification's link, marking it read on the way."""
    notification = notification_get(actor=request.user, pk=pk)
    notification_mark_read(actor=request.user, notification=notification)
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return redirect(url)
    return redirect("core:notifications")


@require_POST
def notifications_read_all(request):
    notification_mark_all_read(actor=request.user)
    if request.htmx:
        response = render(
            request,
            "core/notifications_list.html",
            {
                "page": CappedPaginator(
                    notification_list(actor=request.user), PAGE_SIZE
                ).get_page(1),
                "unread_only": False,
                "oob_bell": True,
                **_bell_context(request),
            },
        )
        return response
    return redirect("core:notifications")


@require_GET
def notification_bell(request):
    """The bell alone: the top bar refreshes it every minute."""
    return render(request, "core/_bell.html", _bell_context(request))
