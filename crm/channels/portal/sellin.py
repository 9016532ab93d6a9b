"""Partner portal pages: sell-in (进货). The partner's own purchase orders: list,
create / edit a draft (line rows: product picked with Tom Select, quantity; prices
from the agreement in force), submit to HQ, cancel, and record goods received on an
approved order. Every read is by `request.partner`: another partner's id is 404."""

from functools import reduce
from operator import or_

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.channels.models import PurchaseOrder
from crm.channels.portal.access import portal_view
from crm.channels.selectors.agreements import agreement_in_force
from crm.channels.selectors.sellin import (
    order_lines,
    order_receipts,
    portal_order_get,
)
from crm.channels.services import sellin as services
from crm.channels.web.sellin_forms import (
    LineFormSet,
    OrderHeaderForm,
    ReceiveForm,
    orderable_products,
)
from crm.core.errors import DomainError, Invalid
from crm.core.lists import REGISTRY
from crm.core.web.views import style_filter_form
from crm.sales.web.contracts import report_form_errors, run

S = PurchaseOrder.Status
BASE = "channels/portal/base.html"


def _detail_url(pk: int, tab: str = "") -> str:
    url = reverse("portal:purchaseorder-detail", args=[pk])
    return f"{url}#{tab}" if tab else url


@portal_view
def purchase_order_list(request):
    spec = REGISTRY["channels.portal_purchaseorder"]
    try:
        qs, filterset = spec.queryset(request.user, request.GET)
    except Invalid as exc:
        messages.error(request, exc.message)
        qs, filterset = spec.base_queryset(request.user).none(), None
    page, paginator = spec.paginate(qs, request.GET)
    if filterset is not None:
        style_filter_form(filterset.form)
    return render(
        request,
        "channels/portal/sellin/list.html",
        {
            "title": _("Purchase orders"),
            "page": page,
            "paginator": paginator,
            "filterset": filterset,
            "q": request.GET.get("q", ""),
        },
    )


def _products(partner, order=None):
    """The products the partner may order: active ones, inside the product scope of
    the agreement in force (if it has one); those already on the order stay."""
    current = list(order.lines.values_list("product_id", flat=True)) if order else []
    products = orderable_products(current)
    agreement = agreement_in_force(partner, timezone.localdate())
    if agreement is not None:
        paths = [c.path for c in agreement.categories.all()]
        if paths:
            scope = reduce(or_, (Q(category__path__startswith=p) for p in paths))
            products = products.filter(scope | Q(pk__in=current))
    return products


def _form_errors(form, formset, exc: DomainError) -> None:
    """Put a service's refusal next to the fields: header fields, lines.N.field."""
    for name, errors in exc.fields.items():
        for error in errors:
            parts = name.split(".")
            if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
                index = int(parts[1])
                kept = [
                    f
                    for f in formset.forms
                    if f.cleaned_data
                    and not f.cleaned_data.get("DELETE")
                    and f.cleaned_data.get("product")
                ]
                if index < len(kept) and parts[2] in kept[index].fields:
                    kept[index].add_error(parts[2], error)
                    continue
            if name in form.fields:
                form.add_error(name, error)
            else:
                form.add_error(None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


@portal_view
@require_http_methods(["GET", "POST"])
def purchase_order_form(request, pk=None):
    partner = request.partner
    order = portal_order_get(partner=partner, pk=pk) if pk else None
    if order is not None and order.status != S.DRAFT:
        messages.error(request, _("Only draft purchase orders can be changed."))
        return redirect(_detail_url(order.pk))
    products = _products(partner, order)
    status = 200
    if request.method == "POST":
        form = OrderHeaderForm(request.POST, order=order)
        formset = LineFormSet(request.POST, prefix="lines", products=products)
        status = 400
        if form.is_valid() and formset.is_valid():
            try:
                if order is None:
                    saved = services.purchase_order_create(
                        actor=request.user,
                        partner=partner,
                        data=form.service_data(),
                        lines=formset.rows(),
                    )
                else:
                    saved = services.purchase_order_update(
                        actor=request.user,
                        order=order,
                        data=form.service_data(),
                        lines=formset.rows(),
                        version=form.cleaned_data.get("version"),
                    )
            except DomainError as exc:
                if exc.status in (403, 404) and not exc.fields:
                    raise
                status = exc.status
                _form_errors(form, formset, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(_detail_url(saved.pk))
    else:
        form = OrderHeaderForm(order=order)
        initial = (
            [
                {
                    "product": line.product_id,
                    "quantity": f"{line.quantity.normalize():f}",
                }
                for line in order.lines.order_by("pk")
            ]
            if order is not None
            else None
        )
        formset = LineFormSet(prefix="lines", products=products, initial=initial)
    agreement = agreement_in_force(partner, timezone.localdate())
    return render(
        request,
        "channels/portal/sellin/form.html",
        {
            "title": _("Edit %(name)s") % {"name": order}
            if order
            else _("New purchase order"),
            "order": order,
            "form": form,
            "formset": formset,
            "agreement": agreement,
            "cancel_url": _detail_url(order.pk)
            if order
            else reverse("portal:purchaseorder-list"),
        },
        status=status,
    )


@portal_view
def purchase_order_detail(request, pk):
    order = portal_order_get(partner=request.partner, pk=pk)
    lines = order_lines(order=order)
    return render(
        request,
        "channels/portal/sellin/detail.html",
        {
            "title": order.number,
            "order": order,
            "lines": lines,
            "receipts": order_receipts(order=order),
            "can_edit": order.status == S.DRAFT,
            "can_submit": order.status == S.DRAFT,
            "can_cancel": order.status in (S.DRAFT, S.SUBMITTED),
            "can_receive": order.status == S.APPROVED,
            "receive_form": ReceiveForm(lines=lines),
            "receive_url": reverse("portal:purchaseorder-receive", args=[order.pk]),
        },
    )


@portal_view
@require_POST
def purchase_order_submit(request, pk):
    order = portal_order_get(partner=request.partner, pk=pk)
    run(
        request,
        lambda: services.purchase_order_submit(actor=request.user, order=order),
        success=_("Purchase order submitted to HQ for approval."),
    )
    return redirect(_detail_url(order.pk))


@portal_view
@require_POST
def purchase_order_cancel(request, pk):
    order = portal_order_get(partner=request.partner, pk=pk)
    run(
        request,
        lambda: services.purchase_order_cancel(actor=request.user, order=order),
        success=_("Purchase order cancelled."),
    )
    return redirect(_detail_url(order.pk))


@portal_view
@require_POST
def purchase_order_receive(request, pk):
    order = portal_order_get(partner=request.partner, pk=pk)
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
    return redirect(_detail_url(order.pk, "receipts"))


urlpatterns = [
    path("purchase-orders/", purchase_order_list, name="purchaseorder-list"),
    path("purchase-orders/new/", purchase_order_form, name="purchaseorder-create"),
    path(
        "purchase-orders/<int:pk>/",
        purchase_order_detail,
        name="purchaseorder-detail",
    ),
    path(
        "purchase-orders/<int:pk>/edit/",
        purchase_order_form,
        name="purchaseorder-edit",
    ),
    path(
        "purchase-orders/<int:pk>/submit/",
        purchase_order_submit,
        name="purchaseorder-submit",
    ),
    path(
        "purchase-orders/<int:pk>/cancel/",
        purchase_order_cancel,
        name="purchaseorder-cancel",
    ),
    path(
        "purchase-orders/<int:pk>/receive/",
        purchase_order_receive,
        name="purchaseorder-receive",
    ),
]
