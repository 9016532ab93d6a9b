"""S5 sales order pages: list (search, filters, export), direct orders and orders
called off a contract, detail with lines, receivable, deliveries and history,
confirmation with the credit check, cancellation. Thin views over
crm.sales.selectors.orders and crm.sales.services.orders."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.core.errors import DomainError, Invalid
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.sales.models import SalesOrder
from crm.sales.selectors.contracts import contract_get
from crm.sales.selectors.orders import (
    contract_remaining,
    order_get,
    order_instalments,
    order_line_get,
    order_lines,
)
from crm.sales.services import orders as services
from crm.sales.web.contracts import link, report_form_errors, run, with_inputs
from crm.sales.web.contracts_forms import LineForm, NoteForm
from crm.sales.web.orders_forms import (
    ConfirmForm,
    DeliverForm,
    FromContractForm,
    OrderForm,
)

S = SalesOrder.Status
CALL_OFF_FIELDS = ("quantity", "description")


def back_to(pk: int, tab: str = "") -> str:
    url = reverse("sales:order-detail", args=[pk])
    return f"{url}#tab-{tab}" if tab else url


class OrderListView(ListPageView):
    spec_key = "sales.order"
    create_url_name = "sales:order-create"
    create_perm = "sales.add_salesorder"


class OrderFormView(RecordFormView):
    spec_key = "sales.order"
    form_class = OrderForm
    create_service = services.order_create
    update_service = services.order_update
    success_url_name = "sales:order-detail"
    list_url_name = "sales:order-list"

    def get_object(self, pk):
        order = order_get(actor=self.request.user, pk=pk)
        if not order.is_editable:
            raise Invalid(_("Only draft orders can be changed."))
        return order

    def get(self, request, pk=None):
        authorize(
            request.user, "sales.change_salesorder" if pk else "sales.add_salesorder"
        )
        return super().get(request, pk)


@require_http_methods(["GET", "POST"])
def order_from_contract(request, contract_pk):
    """Call an order off an active contract: per line, how much (what is left by
    default)."""
    authorize(request.user, "sales.add_salesorder")
    contract = contract_get(actor=request.user, pk=contract_pk)
    lines = list(contract.lines.select_related("product"))
    form = FromContractForm(
        request.POST or None, lines=lines, remaining=contract_remaining(contract)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order = services.order_create_from_contract(
                    actor=request.user,
                    contract=contract,
                    quantities=form.quantities(),
                    data=form.header(),
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                status = exc.status
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Order created from the contract."))
                return redirect("sales:order-detail", pk=order.pk)
    return render(
        request,
        "sales/orders/from_contract.html",
        {
            "form": form,
            "contract": contract,
            "title": _("New order from contract %(number)s")
            % {"number": contract.number},
            "list_url": reverse("sales:order-list"),
        },
        status=status,
    )


class OrderDetailView(DetailPageView):
    spec_key = "sales.order"
    template_name = "sales/orders/detail.html"
    list_url_name = "sales:order-list"
    fields = [
        "number",
        "customer",
        "contact",
        "contract",
        "status",
        "delivery_status",
        "ordered_on",
        "delivery_due_on",
        "delivered_on",
        "payment_due_on",
        "shipping_address",
        "currency",
        "amount",
        "tax_amount",
        "total",
        "owner",
        "department",
        "confirmed_at",
        "credit_override_by",
        "credit_override_at",
        "credit_override_reason",
        "cancel_reason",
        "notes",
        "created_at",
        "updated_at",
    ]

    def get_object(self, pk):
        return order_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        draft = obj.status == S.DRAFT
        can_change = can(user, "sales.change_salesorder")
        editable = draft and can_change
        lines = with_inputs(order_lines(order=obj))
        instalments = order_instalments(order=obj)
        credit = None
        if draft:
            receivables, added, exposure = services.credit_exposure(obj)
            limit = obj.customer.credit_limit
            credit = {
                "receivables": receivables,
                "added": added,
                "exposure": exposure,
                "limit": limit,
                "over": bool(limit) and exposure > limit,
            }
        nothing_done = not any(line.delivered_quantity for line in lines) and not any(
            i.received for i in instalments
        )
        return {
            "order": obj,
            "edit_url": reverse("sales:order-edit", args=[obj.pk]) if editable else "",
            "lines": lines,
            "can_edit_lines": editable,
            "call_off": bool(obj.contract_id),
            "line_form": LineForm(user=user)
            if editable and not obj.contract_id
            else None,
            "instalments": instalments,
            "credit": credit,
            "can_confirm": editable,
            "payment_due": services.payment_due(obj),
            "can_override": can(user, "sales.override_credit"),
            "confirm_form": ConfirmForm(),
            "can_deliver": obj.status == S.CONFIRMED and can_change,
            "deliver_form": DeliverForm(lines=lines),
            "can_cancel": obj.status in (S.DRAFT, S.CONFIRMED)
            and can_change
            and nothing_done,
            "cancel_form": NoteForm(label=_("Reason for cancelling")),
            "can_delete": draft and can(user, "sales.delete_salesorder"),
            "contract_url": reverse("sales:contract-detail", args=[obj.contract_id])
            if obj.contract_id and can(user, "sales.view_contract")
            else "",
            "customer_url": link("customers:customer-detail", obj.customer_id),
            "pay_url_name": "sales:instalment-payment"
            if link("sales:instalment-payment", 1) and can(user, "sales.add_payment")
            else "",
        }


@require_POST
def order_confirm(request, pk):
    order = order_get(actor=request.user, pk=pk)
    form = ConfirmForm(request.POST)
    form.is_valid()
    run(
        request,
        lambda: services.order_confirm(
            actor=request.user,
            order=order,
            override_reason=form.cleaned_data.get("override_reason", ""),
        ),
        success=_("Order confirmed."),
        form=form,
    )
    return redirect(back_to(order.pk))


@require_POST
def order_deliver(request, pk):
    order = order_get(actor=request.user, pk=pk)
    form = DeliverForm(request.POST, lines=order_lines(order=order))
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.order_deliver(
                actor=request.user,
                order=order,
                quantities=form.quantities(),
                delivered_on=form.cleaned_data.get("delivered_on"),
            ),
            success=_("Delivery recorded."),
            form=form,
        )
    return redirect(back_to(order.pk, "delivery"))


@require_POST
def order_cancel(request, pk):
    order = order_get(actor=request.user, pk=pk)
    run(
        request,
        lambda: services.order_cancel(
            actor=request.user, order=order, reason=request.POST.get("text", "")
        ),
        success=_("Order cancelled."),
    )
    return redirect(back_to(order.pk))


@require_POST
def order_delete(request, pk):
    order = order_get(actor=request.user, pk=pk)
    if run(
        request,
        lambda: services.order_delete(actor=request.user, order=order),
        success=_("Draft order deleted."),
    ):
        return redirect("sales:order-list")
    return redirect(back_to(order.pk))


# Lines


@require_POST
def order_line_add(request, pk):
    order = order_get(actor=request.user, pk=pk)
    form = LineForm(request.POST, user=request.user)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.order_line_add(
                actor=request.user, order=order, data=form.service_data()
            ),
            success=_("Line added."),
            form=form,
        )
    return redirect(back_to(order.pk, "lines"))


@require_POST
def order_line_edit(request, pk, line_pk):
    order = order_get(actor=request.user, pk=pk)
    line = order_line_get(actor=request.user, order=order, pk=line_pk)
    fields = CALL_OFF_FIELDS if line.contract_line_id else None
    form = LineForm(request.POST, user=request.user, fields=fields)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.order_line_update(
                actor=request.user, line=line, data=form.service_data()
            ),
            success=_("Line saved."),
            form=form,
        )
    return redirect(back_to(order.pk, "lines"))


@require_POST
def order_line_remove(request, pk, line_pk):
    order = order_get(actor=request.user, pk=pk)
    line = order_line_get(actor=request.user, order=order, pk=line_pk)
    run(
        request,
        lambda: services.order_line_remove(actor=request.user, line=line),
        success=_("Line removed."),
    )
    return redirect(back_to(order.pk, "lines"))


urlpatterns = [
    path("orders/", OrderListView.as_view(), name="order-list"),
    path("orders/new/", OrderFormView.as_view(), name="order-create"),
    path(
        "orders/from-contract/<int:contract_pk>/",
        order_from_contract,
        name="order-from-contract",
    ),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order-detail"),
    path("orders/<int:pk>/edit/", OrderFormView.as_view(), name="order-edit"),
    path("orders/<int:pk>/delete/", order_delete, name="order-delete"),
    path("orders/<int:pk>/confirm/", order_confirm, name="order-confirm"),
    path("orders/<int:pk>/deliver/", order_deliver, name="order-deliver"),
    path("orders/<int:pk>/cancel/", order_cancel, name="order-cancel"),
    path("orders/<int:pk>/lines/", order_line_add, name="order-line-add"),
    path(
        "orders/<int:pk>/lines/<int:line_pk>/",
        order_line_edit,
        name="order-line-edit",
    ),
    path(
        "orders/<int:pk>/lines/<int:line_pk>/delete/",
        order_line_remove,
        name="order-line-remove",
    ),
]
