"""HQ pages: channel inventory (D6) — the reconciliation HQ works from, stock by
partner, product and region with days of inventory and alerts, stock counts, and the
bounds the alerts use. All through the ListSpecs of crm.channels.selectors.inventory,
so pages, API and exports agree."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.channels.models import StockBound
from crm.channels.selectors import inventory as sel
from crm.channels.selectors.partners_scope import partners_visible
from crm.channels.services import inventory as services
from crm.core.errors import Invalid
from crm.core.scopes import authorize, can
from crm.core.web.forms import RecordForm
from crm.core.web.views import ListPageView, RecordFormView, style_filter_form
from crm.products.models import Product

CHART_ROWS = 15


def _report(request, spec, *, group: str = ""):
    """Rows of a report spec for the page: (page, paginator, filterset, columns, rows,
    status). Invalid query values show an empty list with the errors, answered 400."""
    user, status = request.user, 200
    try:
        qs, filterset = spec.queryset(user, request.GET)
    except Invalid as exc:
        messages.error(request, exc.message)
        qs, filterset, status = spec.base_queryset(user).none(), None, 400
    if filterset is not None:
        if not filterset.is_valid():
            status = 400
        style_filter_form(filterset.form)
    page, paginator = spec.paginate(qs, request.GET)
    columns = spec.columns_for(user, group) if group else spec.columns_for(user)
    rows = [{"row": row, "cells": [(c, c.value(row)) for c in columns]} for row in page]
    return page, paginator, filterset, columns, rows, status


def reconciliation(request):
    """D6: expected vs reported stock per partner × product; mismatches flagged."""
    spec = sel.RECONCILIATION
    authorize(request.user, spec.view_perm)
    page, paginator, filterset, columns, rows, status = _report(request, spec)
    for item in rows:
        item["flagged"] = bool(item["row"].get("flagged"))
        item["percent"] = sel.percent_of(
            item["row"]["difference"], item["row"]["expected"]
        )
    chart_rows = [r["row"] for r in rows if r["row"].get("flagged")][:CHART_ROWS]
    chart = {
        "labels": [f"{r['partner__name']} · {r['product__code']}" for r in chart_rows],
        "values": [str(r["difference"]) for r in chart_rows],
    }
    return render(
        request,
        "channels/inventory/reconciliation.html",
        {
            "title": spec.title,
            "spec": spec,
            "columns": columns,
            "rows": rows,
            "page": page,
            "paginator": paginator,
            "filterset": filterset,
            "chart": chart,
            "chart_height": 40 + 26 * len(chart_rows),
            "q": request.GET.get("q", ""),
            "sort": request.GET.get("sort", ""),
            "can_export": can(request.user, "core.export_data"),
            "inventory_url": reverse("channels:inventory"),
        },
        status=status,
    )


def inventory(request):
    """D6: latest stock by partner × product (or per partner, product, region), days
    of inventory over a 30/60/90-day window, low/over-stock alerts."""
    spec = sel.INVENTORY
    authorize(request.user, spec.view_perm)
    group = spec._group_of(request.GET)
    page, paginator, filterset, columns, rows, status = _report(
        request, spec, group=group
    )
    opts = spec.options(filterset)
    days_column = sel.DaysColumn("days", "")
    for item in rows:
        item["alert"] = item["row"].get("alert", "")
        item["days"] = days_column.value(item["row"])
    chart = _inventory_chart(request, group or "partner")
    return render(
        request,
        "channels/inventory/inventory.html",
        {
            "title": spec.title,
            "spec": spec,
            "columns": columns,
            "rows": rows,
            "page": page,
            "paginator": paginator,
            "filterset": filterset,
            "group": group,
            "window": opts["window"],
            "as_of": opts["as_of"],
            "chart": chart,
            "q": request.GET.get("q", ""),
            "sort": request.GET.get("sort", ""),
            "can_export": can(request.user, "core.export_data"),
            "can_bounds": can(request.user, "channels.view_stockbound"),
            "reconciliation_url": reverse("channels:reconciliation"),
        },
        status=status,
    )


def _inventory_chart(request, group: str) -> dict:
    """Stock and days of inventory of the largest groups, for the chart."""
    params = request.GET.copy()
    params["group"] = group
    params["sort"] = "-stock"
    try:
        qs, _filterset = sel.INVENTORY.queryset(request.user, params)
        rows = list(qs[:CHART_ROWS])
    except Invalid:
        rows = []
    label = {
        "partner": "partner__name",
        "product": "product__name",
        "region": "partner__region__name",
    }[group]
    return {
        "labels": [str(r[label] or "—") for r in rows],
        "stock": [str(r["stock"]) for r in rows],
        "days": [
            None if r["days"] is None else float(sel.days_of(r["days"])) for r in rows
        ],
        "low": [r["low"] for r in rows],
        "over": [r["over"] for r in rows],
        "labels_text": {
            "stock": _("stock"),
            "days": _("days of inventory"),
        },
    }


# Stock counts (HQ list)


class StockCountListView(ListPageView):
    spec_key = "channels.stockcount"


# Bounds


class StockBoundListView(ListPageView):
    spec_key = "channels.stockbound"
    create_url_name = "channels:stockbound-create"
    create_perm = "channels.add_stockbound"


class StockBoundForm(RecordForm):
    class Meta:
        model = StockBound
        fields = ["partner", "product", "low_days", "high_days"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["partner"].queryset = partners_visible(user).order_by("number")
        self.fields["partner"].empty_label = _("(all partners)")
        self.fields["partner"].help_text = _("Empty: every partner.")
        self.fields["product"].queryset = Product.objects.exclude(
            status=Product.Status.DRAFT
        ).order_by("code")
        self.fields["product"].empty_label = _("(all products)")
        self.fields["product"].help_text = _(
            "Empty: every product. The most specific bound applies: partner and "
            "product, then product, then partner, then the one for all."
        )


class StockBoundFormView(RecordFormView):
    spec_key = "channels.stockbound"
    template_name = "channels/inventory/bound_form.html"
    form_class = StockBoundForm
    create_service = services.stock_bound_create
    update_service = services.stock_bound_update
    list_url_name = "channels:stockbound-list"

    def get_object(self, pk):
        return sel.stock_bound_get(actor=self.request.user, pk=pk)

    def success_url(self, obj):
        return reverse("channels:stockbound-list")

    def get(self, request, pk=None):
        authorize(
            request.user,
            "channels.change_stockbound" if pk else "channels.add_stockbound",
        )
        return super().get(request, pk)


@require_POST
def stockbound_delete(request, pk):
    bound = sel.stock_bound_get(actor=request.user, pk=pk)
    services.stock_bound_delete(actor=request.user, obj=bound)
    messages.success(request, _("Stock bound deleted."))
    return redirect("channels:stockbound-list")


urlpatterns = [
    path("inventory/", inventory, name="inventory"),
    path("inventory/reconciliation/", reconciliation, name="reconciliation"),
    path("inventory/counts/", StockCountListView.as_view(), name="stockcount-list"),
    path("inventory/bounds/", StockBoundListView.as_view(), name="stockbound-list"),
    path(
        "inventory/bounds/new/",
        StockBoundFormView.as_view(),
        name="stockbound-create",
    ),
    path(
        "inventory/bounds/<int:pk>/",
        StockBoundFormView.as_view(),
        name="stockbound-edit",
    ),
    path(
        "inventory/bounds/<int:pk>/delete/",
        stockbound_delete,
        name="stockbound-delete",
    ),
]
