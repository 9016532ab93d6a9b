"""S10 company news pages: everybody reads the published announcements; publishers
(org.add_announcement / org.change_announcement) write, publish, withdraw and delete."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.core.audit import history_for
from crm.core.errors import Conflict, DomainError, Forbidden
from crm.core.scopes import authorize, can
from crm.core.web.forms import RecordForm
from crm.org import services
from crm.org.models import Announcement
from crm.org.selectors import (
    announcement_get,
    announcement_queryset,
    can_publish_announcements,
)

PAGE_SIZE = 10


class AnnouncementForm(RecordForm):
    class Meta:
        model = Announcement
        fields = ["title", "body", "is_pinned", "published_at"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 10}),
            "published_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        help_texts = {
            "published_at": gettext_lazy(
                "Leave empty to publish at once; a later time schedules it."
            )
        }


def announcement_list(request):
    """The company news, pinned first; publishers also see drafts and scheduled ones."""
    qs = announcement_queryset(actor=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "org/announcements/list.html",
        {
            "title": _("Company news"),
            "page": page,
            "can_add": can(request.user, "org.add_announcement"),
            "can_publish": can(request.user, "org.change_announcement"),
            "publisher": can_publish_announcements(request.user),
        },
    )


def announcement_detail(request, pk):
    announcement = announcement_get(actor=request.user, pk=pk)
    publisher = can_publish_announcements(request.user)
    return render(
        request,
        "org/announcements/detail.html",
        {
            "title": announcement.title,
            "object": announcement,
            "publisher": publisher,
            "can_change": can(request.user, "org.change_announcement"),
            "can_delete": can(request.user, "org.delete_announcement"),
            "history": history_for(announcement) if publisher else [],
        },
    )


@require_http_methods(["GET", "POST"])
def announcement_edit(request, pk=None):
    """Write a new announcement (a draft) or edit one; "save and publish" does both."""
    user = request.user
    authorize(user, "org.change_announcement" if pk else "org.add_announcement")
    obj = announcement_get(actor=user, pk=pk) if pk else None
    form = AnnouncementForm(request.POST or None, instance=obj, user=user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                saved = _save(request, form, obj)
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            except DomainError as exc:
                if isinstance(exc, Forbidden) and not exc.fields:
                    raise
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, exc.message)
                status = exc.status
            else:
                if obj is not None and obj.is_published:
                    messages.success(request, _("Saved."))
                elif saved.is_published:
                    messages.success(request, _("Announcement published."))
                else:
                    messages.success(request, _("Announcement saved as a draft."))
                return redirect("org:announcement-detail", pk=saved.pk)
    return render(
        request,
        "org/announcements/form.html",
        {
            "form": form,
            "object": obj,
            "title": _("Edit %(name)s") % {"name": obj}
            if obj
            else _("New announcement"),
            "can_publish": can(user, "org.change_announcement"),
        },
        status=status,
    )


def _save(request, form, obj):
    """Create or update, and publish when asked: all or nothing."""
    user = request.user
    with transaction.atomic():
        if obj is None:
            saved = services.announcement_create(actor=user, data=form.service_data())
        else:
            saved = services.announcement_update(
                actor=user,
                obj=obj,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        if "publish" in request.POST and not saved.is_published:
            saved = services.announcement_publish(actor=user, announcement=saved)
    return saved


@require_POST
def announcement_publish(request, pk):
    announcement = announcement_get(actor=request.user, pk=pk)
    services.announcement_publish(actor=request.user, announcement=announcement)
    messages.success(request, _("Announcement published."))
    return redirect("org:announcement-detail", pk=announcement.pk)


@require_POST
def announcement_withdraw(request, pk):
    announcement = announcement_get(actor=request.user, pk=pk)
    services.announcement_publish(
        actor=request.user, announcement=announcement, publish=False
    )
    messages.success(request, _("Announcement withdrawn."))
    return redirect("org:announcement-detail", pk=announcement.pk)


@require_POST
def announcement_delete(request, pk):
    announcement = announcement_get(actor=request.user, pk=pk)
    services.announcement_delete(actor=request.user, announcement=announcement)
    messages.success(request, _("Announcement deleted."))
    return redirect("org:announcement-list")
