"""S6 payment pages: receipts (list, record, detail, void), receivables and aging."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.core.errors import DomainError
from crm.core.lists import REGISTRY
from crm.core.money import round_money
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, style_filter_form
from crm.sales.models import Payment
from crm.sales.selectors.payments import (
    AGING_BUCKETS,
    instalment_payments,
    payment_get,
    receivable_aging,
    receivable_get,
)
from crm.sales.services.payments import money_kind, payment_record, payment_void
from crm.sales.web.payments_forms import PaymentForm, VoidForm

RECEIVABLES_ACTION = {
    "url": reverse_lazy("sales:receivables"),
    "label": gettext_lazy("Receivables"),
    "icon": "hourglass-split",
    "perms": ["sales.view_instalment"],
}
AGING_ACTION = {
    "url": reverse_lazy("sales:aging"),
    "label": gettext_lazy("Aging"),
    "icon": "bar-chart-steps",
    "perms": ["sales.view_instalment"],
}
PAYMENTS_ACTION = {
    "url": reverse_lazy("sales:payment-list"),
    "label": gettext_lazy("Payments"),
    "icon": "cash-coin",
    "perms": ["sales.view_payment"],
}


class PaymentListView(ListPageView):
    spec_key = "sales.payment"
    extra_actions = [RECEIVABLES_ACTION, AGING_ACTION]


class PaymentDetailView(DetailPageView):
    """A receipt with its history; the void button for holders of void_payment."""

    spec_key = "sales.payment"
    template_name = "sales/payments/payment_detail.html"
    list_url_name = "sales:payment-list"
    fields = [
        "number",
        "customer",
        "instalment",
        "amount",
        "received_on",
        "method",
        "reference",
        "notes",
        "status",
        "owner",
        "department",
        "recorded_by",
        "created_at",
        "voided_by",
        "voided_at",
        "void_reason",
    ]

    def get_object(self, pk):
        return payment_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        return {
            "can_void": obj.status == Payment.Status.POSTED
            and can(user, "sales.void_payment"),
            "void_form": VoidForm(),
            "money_kind": money_kind(obj.instalment),
            "can_view_instalment": can(user, "sales.view_instalment"),
        }


@require_POST
def payment_void_view(request, pk):
    payment = payment_get(actor=request.user, pk=pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        reason_errors = form.errors.get("reason") or []
        messages.error(
            request,
            reason_errors[0]
            if form.data.get("reason", "").strip() and reason_errors
            else _("Give the reason for voiding this receipt."),
        )
        return redirect("sales:payment-detail", pk=payment.pk)
    payment_void(
        actor=request.user, payment=payment, reason=form.cleaned_data["reason"]
    )
    messages.success(
        request,
        _("Receipt %(number)s voided; its amount is outstanding again.")
        % {"number": payment.number},
    )
    return redirect("sales:payment-detail", pk=payment.pk)


class ReceivableListView(ListPageView):
    spec_key = "sales.receivable"
    extra_actions = [AGING_ACTION, PAYMENTS_ACTION]


@require_http_methods(["GET", "POST"])
def instalment_payment(request, pk):
    """An instalment: what is due, what was received, and the form to record a
    receipt against it ("record a payment")."""
    authorize(request.user, "sales.view_instalment")
    instalment = receivable_get(actor=request.user, pk=pk)
    outstanding = instalment.amount - instalment.received
    can_record = (
        instalment.is_open
        and outstanding > 0
        and can(request.user, "sales.add_payment")
    )
    status = 200
    form = (
        PaymentForm(outstanding=round_money(outstanding, money_kind(instalment)))
        if can_record
        else None
    )
    if request.method == "POST":
        authorize(request.user, "sales.add_payment")
        form = PaymentForm(request.POST)
        if form.is_valid():
            try:
                payment = payment_record(
                    actor=request.user, instalment=instalment, **form.cleaned_data
                )
            except DomainError as exc:
                if exc.status in (403, 404) and not exc.fields:
                    raise
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, exc.message)
                status = exc.status
            else:
                if payment.replayed:
                    messages.info(
                        request,
                        _("Receipt %(number)s was already recorded.")
                        % {"number": payment.number},
                    )
                else:
                    messages.success(
                        request,
                        _("Receipt %(number)s recorded.") % {"number": payment.number},
                    )
                return redirect("sales:payment-detail", pk=payment.pk)
        else:
            status = 400
        # Failed or not: the page shows the instalment as it is now.
        instalment = receivable_get(actor=request.user, pk=pk)
        outstanding = instalment.amount - instalment.received
    context = {
        "title": _("Instalment %(name)s") % {"name": instalment},
        "instalment": instalment,
        "outstanding": outstanding,
        "money_kind": money_kind(instalment),
        "payments": instalment_payments(actor=request.user, instalment=instalment),
        "form": form,
        "can_view_payments": can(request.user, "sales.view_payment"),
        "today": timezone.localdate(),
    }
    return render(request, "sales/payments/instalment.html", context, status=status)


def aging(request):
    """S6 aging report: outstanding per customer and bucket of days overdue."""
    spec = REGISTRY["sales.aging"]
    authorize(request.user, spec.view_perm)
    data = receivable_aging(actor=request.user, params=request.GET)
    page, paginator = spec.paginate(data["rows"], request.GET)
    filterset = data["filterset"]
    if filterset is not None:
        style_filter_form(filterset.form)
    columns = spec.columns_for(request.user)
    rows = [{"cells": [(col, col.value(row)) for col in columns]} for row in page]
    headers = [(col, col.field == "amount") for col in columns]
    totals = data["totals"]
    total_cells = [totals.get(col.name) for col in columns]
    buckets = [
        (key, label)
        for key, label, _first, _last in AGING_BUCKETS
        if any(col.name == key for col in columns)
    ]
    chart = {
        "labels": [str(label) for _key, label in buckets],
        "values": [str(totals[key]) for key, _label in buckets],
    }
    return render(
        request,
        "sales/payments/aging.html",
        {
            "title": spec.title,
            "spec": spec,
            "headers": headers,
            "rows": rows,
            "total_cells": total_cells,
            "page": page,
            "paginator": paginator,
            "chart": chart,
            "filterset": filterset,
            "q": request.GET.get("q", ""),
            "sort": request.GET.get("sort", ""),
            "can_export": can(request.user, "core.export_data"),
            "receivables_url": reverse("sales:receivables"),
        },
    )


urlpatterns = [
    path("payments/", PaymentListView.as_view(), name="payment-list"),
    path("payments/<int:pk>/", PaymentDetailView.as_view(), name="payment-detail"),
    path("payments/<int:pk>/void/", payment_void_view, name="payment-void"),
    path("receivables/", ReceivableListView.as_view(), name="receivables"),
    path("receivables/aging/", aging, name="aging"),
    path("receivables/<int:pk>/", instalment_payment, name="instalment-payment"),
]
