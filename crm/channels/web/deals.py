"""HQ pages of D10: deal registrations (报备), their conflicts side by side, decisions.
Thin views over crm.channels.selectors.deals and crm.channels.services.deals."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.channels.selectors.deals import (
    OPEN,
    competing,
    deal_get,
    deal_queryset,
    exclusive_territories_over,
)
from crm.channels.services import deals as services
from crm.core.audit import history_for
from crm.core.scopes import authorize, can
from crm.core.web.views import ListPageView


class DealListView(ListPageView):
    spec_key = "channels.dealregistration"

    @property
    def extra_actions(self):
        return [
            {
                "url": reverse("channels:deal-list") + "?status=conflict",
                "icon": "exclamation-triangle",
                "label": _("Conflicts"),
            }
        ]


def deal_detail(request, pk):
    """The registration and every registration it competes with, side by side; the
    exclusive territories its region lies in; the decision."""
    authorize(request.user, "channels.view_dealregistration")
    deal = deal_get(actor=request.user, pk=pk)
    others = competing(deal)
    visible = set(
        deal_queryset(actor=request.user)
        .filter(pk__in=[o.pk for o in others])
        .values_list("pk", flat=True)
    )
    territories = exclusive_territories_over(
        partner_id=deal.partner_id,
        region=deal.region,
        today=deal.created_at.date() if deal.created_at else timezone.localdate(),
    )
    return render(
        request,
        "channels/deals/detail.html",
        {
            "title": f"{deal.number} {deal.customer_name}",
            "deal": deal,
            "cards": [{"deal": deal, "visible": True, "main": True}]
            + [{"deal": o, "visible": o.pk in visible, "main": False} for o in others],
            "territories": territories,
            "can_decide": deal.status in OPEN
            and can(request.user, "channels.decide_dealregistration"),
            "history": history_for(deal),
            "list_url": reverse("channels:deal-list"),
        },
    )


@require_POST
def deal_decide(request, pk):
    deal = deal_get(actor=request.user, pk=pk)
    approve = request.POST.get("decision") == "approve"
    services.deal_decide(
        actor=request.user,
        deal=deal,
        approve=approve,
        note=(request.POST.get("note") or "")[:255],
    )
    messages.success(
        request,
        _("Registration approved; the competing ones were rejected.")
        if approve
        else _("Registration rejected."),
    )
    return redirect("channels:deal-detail", pk=pk)


urlpatterns = [
    path("deals/", DealListView.as_view(), name="deal-list"),
    path("deals/<int:pk>/", deal_detail, name="deal-detail"),
    path("deals/<int:pk>/decide/", deal_decide, name="deal-decide"),
]
