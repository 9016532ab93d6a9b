"""D11 HQ channel dashboard page: ECharts drawings of the numbers of
crm.channels.selectors.dashboard, with the period and province filters."""

from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from crm.channels.selectors.dashboard import (
    DashboardFilterForm,
    channel_dashboard,
    dashboard_filters,
)
from crm.core.errors import Invalid
from crm.core.scopes import authorize
from crm.core.web.views import style_filter_form


def dashboard_page(request):
    authorize(request.user, "channels.view_partner")
    user, status = request.user, 200
    form = DashboardFilterForm(request.GET or None)
    style_filter_form(form)
    try:
        filters = dashboard_filters(actor=user, params=request.GET)
    except Invalid:
        # The form shows what is wrong; the page shows this year meanwhile.
        form.is_valid()
        filters, status = dashboard_filters(actor=user, params={}), 400
    data = channel_dashboard(actor=user, filters=filters)
    return render(
        request,
        "channels/dashboard/dashboard.html",
        {
            "title": _("Channel dashboard"),
            "form": form,
            "filters": filters,
            "dashboard": data,
            "api_url": reverse("channels-dashboard"),
        },
        status=status,
    )


urlpatterns = [
    path("", dashboard_page, name="dashboard"),
]
