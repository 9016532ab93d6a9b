"""S9 sales analysis page: ECharts drawings of the numbers of
crm.sales.selectors.analysis, with the period, department and owner filters."""

from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from crm.core.errors import Invalid
from crm.core.scopes import authorize
from crm.core.web.views import style_filter_form
from crm.sales.selectors.analysis import (
    AnalysisFilterForm,
    analysis_filters,
    sales_analysis,
)


def analysis_page(request):
    authorize(request.user, "sales.view_opportunity")
    user, status = request.user, 200
    form = AnalysisFilterForm(request.GET or None, user=user)
    style_filter_form(form)
    try:
        filters = analysis_filters(actor=user, params=request.GET)
    except Invalid:
        # The form shows what is wrong; the page shows this year meanwhile.
        form.is_valid()
        filters, status = analysis_filters(actor=user, params={}), 400
    data = sales_analysis(actor=user, filters=filters)
    return render(
        request,
        "sales/analysis/analysis.html",
        {
            "title": _("Sales analysis"),
            "form": form,
            "filters": filters,
            "analysis": data,
            "api_url": reverse("sales-analysis"),
        },
        status=status,
    )


urlpatterns = [
    path("analysis/", analysis_page, name="analysis"),
]
