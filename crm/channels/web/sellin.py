"""D4 HQ sell-in pages: the purchase order list (search, filters, export, in the
viewer's channel scope), the detail with lines, receipts, credit position and
history, approval / rejection with a note (credit check, override with a reason) and
goods received. Thin views over crm.channels.selectors.sellin and services.sellin."""

from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.channels.models import PurchaseOrder
from crm.channels.selectors.sellin import (
    order_lines,
    order_receipts,
    purchase_order_get,
)
from crm.channels.services import sellin as services
from crm.channels.web.sellin_forms import DecisionForm, ReceiveForm
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView
from crm.sales.web.contracts import report_form_errors, run

S = PurchaseOrder.Status


def back_to(pk: int, tab: str = "") -> str:
    url = reverse("channels:purchaseorder-detail", args=[pk])
    return f"{url}#tab-{tab}" if tab else url


class PurchaseOrderListView(ListPageView):
    spec_key = "channels.purchaseorder"


class PurchaseOrderDetailView(DetailPageView):
    spec_key = "channels.purchaseorder"
    template_name = "channels/sellin/detail.html"
    list_url_name = "channels:purchaseorder-list"
    fields = [
        "number",
        "partner",
        "status",
        "ordered_on",
        "wanted_on",
        "shipping_address",
        "total",
        "owner",
        "department",
        "submitted_by",
        "decided_by",
        "decided_at",
        "decision_note",
        "notes",
        "created_at",
        "updated_at",
    ]

    def get_object(self, pk):
        return purchase_order_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        lines = order_lines(order=obj)
        can_decide = obj.status == S.SUBMITTED and can(
            user, "channels.approve_purchaseorder"
        )
        return {
            "order": obj,
            "lines": lines,
            "receipts": order_receipts(order=obj),
            "credit": services.credit_position(obj)
            if obj.status == S.SUBMITTED
            else None,
            "can_decide": can_decide,
            "can_override": can(user, "channels.override_credit_purchaseorder"),
            "decision_form": DecisionForm(),
            "can_receive": obj.status == S.APPROVED
            and can(user, "channels.change_purchaseorder"),
            "receive_form": ReceiveForm(lines=lines),
        }


@require_POST
def purchase_order_approve(request, pk):
    authorize(request.user, "channels.approve_purchaseorder")
    order = purchase_order_get(actor=request.user, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    run(
        request,
        lambda: services.purchase_order_approve(
            actor=request.user,
            order=order,
            note=form.cleaned_data.get("note", ""),
            override_reason=form.cleaned_data.get("override_reason", ""),
        ),
        success=_("Purchase order approved."),
        form=form,
    )
    return redirect(back_to(order.pk))


@require_POST
def purchase_order_reject(request, pk):
    authorize(request.user, "channels.approve_purchaseorder")
    order = purchase_order_get(actor=request.user, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    run(
        request,
        lambda: services.purchase_order_reject(
            actor=request.user, order=order, note=form.cleaned_data.get("note", "")
        ),
        success=_("Purchase order rejected."),
        form=form,
    )
    return redirect(back_to(order.pk))


@require_POST
def purchase_order_receive(request, pk):
    authorize(request.user, "channels.change_purchaseorder")
    order = purchase_order_get(actor=request.user, pk=pk)
    form = ReceiveForm(request.POST, lines=order_lines(order=order))
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.purchase_order_receive(
                actor=request.user,
                order=order,
                quantities=form.quantities(),
                received_on=form.cleaned_data.get("received_on"),
            ),
            success=_("Goods receipt recorded."),
            form=form,
        )
    return redirect(back_to(order.pk, "receipts"))


urlpatterns = [
    path(
        "purchase-orders/", PurchaseOrderListView.as_view(), name="purchaseorder-list"
    ),
    path(
        "purchase-orders/<int:pk>/",
        PurchaseOrderDetailView.as_view(),
        name="purchaseorder-detail",
    ),
    path(
        "purchase-orders/<int:pk>/approve/",
        purchase_order_approve,
        name="purchaseorder-approve",
    ),
    path(
        "purchase-orders/<int:pk>/reject/",
        purchase_order_reject,
        name="purchaseorder-reject",
    ),
    path(
        "purchase-orders/<int:pk>/receive/",
        purchase_order_receive,
        name="purchaseorder-receive",
    ),
]
