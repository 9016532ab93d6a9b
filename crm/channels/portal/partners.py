"""Partner portal pages of D1/D3: the partner's own company profile (read-only) and,
for partner admins, the partner's portal users. Every read is by request.partner, so
another partner's user ids are not found (404)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.channels.portal.access import portal_view
from crm.channels.selectors import partners as selectors
from crm.channels.services import partners as services
from crm.channels.web.partners_forms import PasswordResetForm, PortalUserForm
from crm.core.errors import DomainError

BASE = "channels/portal/base.html"


def _apply_errors(form, exc: DomainError) -> None:
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


@portal_view
def company(request):
    partner = selectors.Partner.objects.select_related(
        "tier", "region__parent__parent", "parent", "owner"
    ).get(pk=request.partner.pk)
    return render(
        request,
        "channels/portal/partners/company.html",
        {
            "title": _("My company"),
            "partner": partner,
            "regions_served": list(partner.regions_served.order_by("code")),
            "territories": selectors.partner_territories(partner=partner),
        },
    )


@portal_view(admin=True)
def user_list(request):
    return render(
        request,
        "channels/portal/partners/users.html",
        {
            "title": _("Users"),
            "members": list(selectors.partner_members(partner=request.partner)),
            "me": request.user.pk,
        },
    )


@portal_view(admin=True)
def user_create(request):
    form = PortalUserForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.partner_user_create(
                    actor=request.user, partner=request.partner, data=form.cleaned_data
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                status = exc.status
                _apply_errors(form, exc)
            else:
                messages.success(request, _("User created."))
                return redirect("portal:user-list")
    return render(
        request,
        "core/form.html",
        {
            "form": form,
            "title": _("New user"),
            "base_template": BASE,
            "list_url": reverse("portal:user-list"),
            "cancel_url": reverse("portal:user-list"),
        },
        status=status,
    )


def _member_action(request, pk, run, done: str):
    member = selectors.member_get(partner=request.partner, pk=pk)
    try:
        run(member)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("portal:user-list")


@portal_view(admin=True)
@require_POST
def user_deactivate(request, pk):
    return _member_action(
        request,
        pk,
        lambda m: services.partner_user_deactivate(actor=request.user, member=m),
        _("User deactivated."),
    )


@portal_view(admin=True)
@require_POST
def user_activate(request, pk):
    return _member_action(
        request,
        pk,
        lambda m: services.partner_user_activate(actor=request.user, member=m),
        _("User activated."),
    )


@portal_view(admin=True)
@require_POST
def user_toggle_admin(request, pk):
    return _member_action(
        request,
        pk,
        lambda m: services.partner_user_set_admin(
            actor=request.user, member=m, is_admin=not m.is_admin
        ),
        _("Administrator rights changed."),
    )


@portal_view(admin=True)
def user_password(request, pk):
    member = selectors.member_get(partner=request.partner, pk=pk)
    form = PasswordResetForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.partner_user_reset_password(
                    actor=request.user,
                    member=member,
                    password=form.cleaned_data["password"],
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                status = exc.status
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Password reset."))
                return redirect("portal:user-list")
    return render(
        request,
        "core/form.html",
        {
            "form": form,
            "title": _("New password for %(user)s") % {"user": member.user.username},
            "base_template": BASE,
            "list_url": reverse("portal:user-list"),
            "cancel_url": reverse("portal:user-list"),
        },
        status=status,
    )


urlpatterns = [
    path("company/", company, name="company"),
    path("users/", user_list, name="user-list"),
    path("users/new/", user_create, name="user-create"),
    path("users/<int:pk>/deactivate/", user_deactivate, name="user-deactivate"),
    path("users/<int:pk>/activate/", user_activate, name="user-activate"),
    path("users/<int:pk>/admin/", user_toggle_admin, name="user-admin"),
    path("users/<int:pk>/password/", user_password, name="user-password"),
]
