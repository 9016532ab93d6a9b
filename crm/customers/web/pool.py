"""C8 public pool page: pool customers with their filters; reps claim, managers assign."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.core.api.serializers import is_id
from crm.core.errors import Conflict, DomainError, Invalid
from crm.core.lists import REGISTRY
from crm.core.scopes import authorize, can
from crm.core.web.views import style_filter_form
from crm.customers import pool
from crm.customers.selectors import customer_get
from crm.org.models import User

MAX_SELECTED = 100


def pool_page(request):
    """The pool's customers (ListSpec "customers.pool": search, filters, sort, pages,
    export) with check boxes to claim or assign the selected ones."""
    spec = REGISTRY["customers.pool"]
    user = request.user
    authorize(user, spec.view_perm)
    qs, filterset = spec.queryset(user, request.GET)
    page, paginator = spec.paginate(qs, request.GET)
    columns = spec.columns_for(user)
    if filterset is not None:
        style_filter_form(filterset.form)
    can_assign = can(user, "customers.assign_customer")
    context = {
        "spec": spec,
        "title": spec.title,
        "columns": columns,
        "rows": [
            {"obj": obj, "cells": [(col, col.value(obj)) for col in columns]}
            for obj in page
        ],
        "page": page,
        "paginator": paginator,
        "filterset": filterset,
        "q": request.GET.get("q", ""),
        "sort": request.GET.get("sort", ""),
        "can_export": can(user, "core.export_data"),
        "can_claim": can(user, "customers.claim_customer"),
        "can_assign": can_assign,
        "assignees": pool.assignable_users(actor=user)[:500] if can_assign else [],
        "limits": pool.pool_limits(user),
    }
    template = (
        "customers/_pool_results.html"
        if request.htmx and not request.htmx.boosted
        else "customers/pool.html"
    )
    return render(request, template, context)


def _back(request):
    back = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        return redirect(back)
    return redirect("customers:pool")


@require_POST
def pool_act(request):
    """Claim or assign the selected pool customers, one service call each; stops at the
    first refusal (a limit reached, a customer gone) and says how far it got."""
    action = request.POST.get("action")
    ids = [int(v) for v in request.POST.getlist("ids") if is_id(v)][:MAX_SELECTED]
    if action not in ("claim", "assign"):
        raise Invalid(_("Choose claim or assign."))
    if not ids:
        messages.warning(request, _("Select customers first."))
        return _back(request)
    owner = None
    if action == "assign":
        authorize(request.user, "customers.assign_customer")
        raw = request.POST.get("owner", "")
        owner = User.objects.filter(pk=int(raw)).first() if is_id(raw) else None
    else:
        authorize(request.user, "customers.claim_customer")
    done = 0
    for pk in ids:
        try:
            customer = pool.pool_customer_get(actor=request.user, pk=pk)
            if action == "claim":
                pool.pool_claim(actor=request.user, customer=customer)
            else:
                pool.pool_assign(actor=request.user, customer=customer, owner=owner)
        except DomainError as exc:
            if done:
                messages.success(request, _done_message(action, done))
            messages.error(request, exc.message)
            return _back(request)
        done += 1
    messages.success(request, _done_message(action, done))
    return _back(request)


def _done_message(action: str, n: int) -> str:
    if action == "claim":
        return ngettext("%(n)d customer claimed.", "%(n)d customers claimed.", n) % {
            "n": n
        }
    return ngettext("%(n)d customer assigned.", "%(n)d customers assigned.", n) % {
        "n": n
    }


@require_POST
def customer_release(request, pk):
    """Give one of my customers back to the pool (from the pool tab of its page)."""
    customer = customer_get(actor=request.user, pk=pk)
    try:
        pool.pool_release(actor=request.user, customer=customer)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("customers:customer-detail", pk=customer.pk)
    messages.success(
        request, _("%(name)s is in the public pool now.") % {"name": customer}
    )
    if can(request.user, "customers.view_customer") and (
        customer_get_or_none(request.user, customer.pk) is not None
    ):
        return redirect("customers:customer-detail", pk=customer.pk)
    return redirect("customers:customer-list")


def customer_get_or_none(user, pk):
    try:
        return customer_get(actor=user, pk=pk)
    except DomainError:
        return None
