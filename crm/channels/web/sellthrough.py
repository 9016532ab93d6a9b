"""D5 HQ sell-through pages: reports (list with filters and export, detail with its
lines) and lines (filters, totals, export), inside the viewer's channel scope."""

from django.urls import path, reverse_lazy
from django.utils.translation import gettext_lazy

from crm.channels.selectors.sellthrough import (
    line_totals,
    report_get,
    report_lines,
)
from crm.core.web.views import DetailPageView, ListPageView

LINES_ACTION = {
    "url": reverse_lazy("channels:sellthrough-lines"),
    "label": gettext_lazy("Lines"),
    "icon": "list-ul",
    "perms": ["channels.view_sellthroughreport"],
}
REPORTS_ACTION = {
    "url": reverse_lazy("channels:sellthrough-list"),
    "label": gettext_lazy("Reports"),
    "icon": "receipt",
    "perms": ["channels.view_sellthroughreport"],
}


class SellThroughListView(ListPageView):
    spec_key = "channels.sellthroughreport"
    extra_actions = [LINES_ACTION]


class SellThroughLinesView(ListPageView):
    """Every sale line with the totals of what the filters select."""

    spec_key = "channels.sellthroughline"
    template_name = "channels/sellthrough/lines.html"
    partial_template = "channels/sellthrough/_lines_results.html"
    extra_actions = [REPORTS_ACTION]

    def get(self, request):
        qs, _filterset = self.spec.queryset(request.user, request.GET)
        # Read by the templates through the request (ListPageView builds the context).
        request.sellthrough_totals = line_totals(qs)
        return super().get(request)


class SellThroughDetailView(DetailPageView):
    spec_key = "channels.sellthroughreport"
    template_name = "channels/sellthrough/detail.html"
    list_url_name = "channels:sellthrough-list"
    fields = [
        "partner",
        "reference",
        "source",
        "period_start",
        "period_end",
        "line_count",
        "total_quantity",
        "total_amount",
        "submitted_by",
        "api_key",
        "created_at",
    ]

    def get_object(self, pk):
        return report_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        return {"lines": report_lines(obj)}


urlpatterns = [
    path("sell-through/", SellThroughListView.as_view(), name="sellthrough-list"),
    path(
        "sell-through/lines/", SellThroughLinesView.as_view(), name="sellthrough-lines"
    ),
    path(
        "sell-through/<int:pk>/",
        SellThroughDetailView.as_view(),
        name="sellthrough-detail",
    ),
]
