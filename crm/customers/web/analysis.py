"""C7 customer analysis page: charts (ECharts) of the numbers in crm/customers/analysis.py."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from crm.core.scopes import authorize
from crm.customers.analysis import customer_analysis


def analysis_page(request):
    authorize(request.user, "customers.view_customer")
    data = customer_analysis(actor=request.user)
    charts = [
        {"key": key, "label": label, "type": kind, "wide": wide, "rows": data[key]}
        for key, label, kind, wide in (
            ("by_level", _("By level"), "pie", False),
            ("by_status", _("By status (lifecycle)"), "bar", False),
            ("by_type", _("By type"), "pie", False),
            ("by_industry", _("By industry"), "hbar", False),
            ("by_province", _("By province"), "hbar", False),
            ("new_per_month", _("New customers per month"), "line", False),
        )
    ]
    return render(
        request,
        "customers/analysis.html",
        {"title": _("Customer analysis"), "data": data, "charts": charts},
    )
