"""Partner portal pages: the partner's own cooperation agreements, read only. Every read
goes through the request's partner: another partner's agreement is not found (404)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from crm.channels.portal.access import portal_view
from crm.channels.selectors.agreements import (
    agreement_rules,
    portal_agreement_get,
    portal_agreements,
)


@portal_view
def agreement_list(request):
    paginator = Paginator(portal_agreements(request.partner), 25)
    page = paginator.get_page(request.GET.get("page") or 1)
    return render(
        request,
        "channels/portal/agreements/list.html",
        {"title": _("Agreements"), "page": page, "agreements": list(page)},
    )


@portal_view
def agreement_detail(request, pk):
    agreement = portal_agreement_get(request.partner, pk)
    rules = agreement_rules(agreement)
    return render(
        request,
        "channels/portal/agreements/detail.html",
        {
            "title": str(agreement),
            "agreement": agreement,
            **rules,
            "territory": list(agreement.territory.order_by("path")),
            "categories": list(agreement.categories.order_by("path")),
        },
    )


urlpatterns = [
    path("agreements/", agreement_list, name="agreement-list"),
    path("agreements/<int:pk>/", agreement_detail, name="agreement-detail"),
]
