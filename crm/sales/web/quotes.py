"""Quote pages (S3): list, record page with lines (htmx), header form, actions, PDF."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.core.errors import DomainError, Invalid
from crm.core.money import rmb_capitals
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.customers.selectors import customer_get
from crm.sales.models import Opportunity, Quote
from crm.sales.pdf import pdf_filename, plain, quote_pdf
from crm.sales.selectors.quotes import (
    quote_get,
    quote_line_get,
    quote_lines,
    quote_revisions,
)
from crm.sales.services import quotes as services
from crm.sales.web.quotes_forms import QuoteDecisionForm, QuoteForm, QuoteLineForm

S = Quote.Status
EDIT_ID = "edit-line-%s"  # the edit form's ids differ from the add form's


class QuoteListView(ListPageView):
    spec_key = "sales.quote"
    create_url_name = "sales:quote-create"
    create_perm = "sales.add_quote"


def _lines_context(request, quote: Quote, *, form=None, editing=None, error=""):
    """What the lines block shows: lines, totals in figures and capitals, the forms."""
    user = request.user
    lines = list(quote_lines(quote=quote))
    for line in lines:
        line.quantity_text = plain(line.quantity)
        line.discount_text = plain(line.discount_percent)
        line.tax_text = plain(line.tax_rate)
    editable = quote.is_editable and can(user, "sales.change_quote")
    threshold = services.approval_threshold()
    add_form = edit_form = None
    if editable:
        adding = form is not None and editing is None
        add_form = form if adding else QuoteLineForm(user=user)
    if editable and editing is not None:
        line = next((x for x in lines if x.pk == editing), None)
        if line is not None:
            edit_form = (
                form
                if form is not None
                else QuoteLineForm(user=user, line=line, auto_id=EDIT_ID)
            )
            edit_form.line_pk = line.pk
    return {
        "object": quote,
        "lines": lines,
        "can_edit_lines": editable,
        "line_form": add_form,
        "edit_form": edit_form,
        "threshold": threshold,
        "threshold_text": plain(threshold),
        "over_threshold": [x for x in lines if x.discount_percent > threshold],
        "capitals": rmb_capitals(quote.total) if quote.currency == "CNY" else "",
        "lines_error": error,
    }


class QuoteDetailView(DetailPageView):
    spec_key = "sales.quote"
    fields = [
        "number",
        "title",
        "customer",
        "contact",
        "opportunity",
        "price_list",
        "quoted_on",
        "valid_until",
        "currency",
        "revision",
        "previous",
        "owner",
        "department",
        "submitted_by",
        "submitted_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "terms",
        "notes",
        "created_at",
        "updated_at",
    ]
    edit_url_name = "sales:quote-edit"
    edit_perm = "sales.change_quote"
    list_url_name = "sales:quote-list"
    template_name = "sales/quotes/quote_detail.html"

    def get_object(self, pk):
        return quote_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj) -> dict:
        user = self.request.user
        editing = self.request.GET.get("edit_line")
        context = _lines_context(
            self.request, obj, editing=int(editing) if str(editing).isdigit() else None
        )
        own = user.pk in (obj.owner_id, obj.submitted_by_id)
        status = obj.status
        change = can(user, "sales.change_quote")
        context.update(
            {
                "revisions": quote_revisions(actor=user, quote=obj),
                "decision_form": QuoteDecisionForm(),
                "can_decide": status == S.PENDING_APPROVAL
                and can(user, "core.approve_discount")
                and (user.is_superuser or not own),
                "can_submit": obj.is_editable and change,
                "can_withdraw": status == S.PENDING_APPROVAL and change,
                "can_send": status == S.APPROVED and change,
                "can_answer": status == S.SENT and change,
                "can_revise": status in services.REVISABLE
                and can(user, "sales.add_quote"),
                "can_cancel": status in services.CANCELLABLE and change,
                "can_delete": status == S.DRAFT
                and not obj.previous_id
                and can(user, "sales.delete_quote"),
            }
        )
        if not obj.is_editable:
            context["edit_url"] = ""
        return context


class QuoteFormView(RecordFormView):
    spec_key = "sales.quote"
    form_class = QuoteForm
    create_service = services.quote_create
    update_service = services.quote_update
    success_url_name = "sales:quote-detail"
    list_url_name = "sales:quote-list"
    template_name = "sales/quotes/quote_form.html"

    def get_object(self, pk):
        return quote_get(actor=self.request.user, pk=pk)

    def get_form(self, obj=None, data=None):
        customer = None
        if obj is None:
            customer = self._preset_customer()
        form = self.form_class(
            data, instance=obj, user=self.request.user, customer=customer
        )
        if obj is None and data is None:
            opportunity = getattr(self, "_opportunity", None)
            if opportunity is not None:
                form.initial.setdefault("title", opportunity.name)
                form.initial["opportunity"] = opportunity.pk
        return form

    def _preset_customer(self):
        """A new quote started from a customer (?customer=) or an opportunity
        (?opportunity=) of the user's scopes."""
        params = self.request.GET
        self._opportunity = None
        if str(params.get("opportunity", "")).isdigit():
            self._opportunity = (
                Opportunity.objects.visible_to(self.request.user)
                .select_related("customer")
                .filter(pk=params["opportunity"])
                .first()
            )
            if self._opportunity is not None:
                return self._opportunity.customer
        if params.get("customer"):
            return customer_get(actor=self.request.user, pk=params["customer"])
        return None

    def get(self, request, pk=None):
        authorize(request.user, "sales.change_quote" if pk else "sales.add_quote")
        if pk:
            quote = self.get_object(pk)
            if not quote.is_editable:
                messages.error(
                    request, _("Only draft or rejected quotes can be changed.")
                )
                return redirect("sales:quote-detail", pk=pk)
        return super().get(request, pk)


# Lines (htmx: the lines block is swapped in place; without JavaScript, back to the page)


def _lines_response(request, quote, *, status_message="", **kwargs):
    if request.htmx:
        quote = quote_get(actor=request.user, pk=quote.pk)
        context = _lines_context(request, quote, **kwargs)
        context["lines_message"] = status_message
        return render(request, "sales/quotes/_lines.html", context)
    if kwargs.get("error"):
        messages.error(request, kwargs["error"])
    elif kwargs.get("form") is not None and kwargs["form"].errors:
        for name, errors in kwargs["form"].errors.items():
            label = (
                kwargs["form"].fields[name].label
                if name in kwargs["form"].fields
                else ""
            )
            messages.error(request, f"{label}: {errors[0]}" if label else errors[0])
    elif status_message:
        messages.success(request, status_message)
    return redirect(f"{quote_detail_url(quote)}#quote-lines")


def quote_detail_url(quote) -> str:
    return reverse("sales:quote-detail", args=[quote.pk])


def _form_errors_from(exc: DomainError, form) -> str:
    """Field errors of a refused line go next to the fields; the rest is one message."""
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    return "" if exc.fields else exc.message


@require_POST
def quote_line_add(request, pk):
    quote = quote_get(actor=request.user, pk=pk)
    authorize(request.user, "sales.change_quote")
    form = QuoteLineForm(request.POST, user=request.user)
    if not form.is_valid():
        return _lines_response(request, quote, form=form)
    try:
        services.quote_line_add(
            actor=request.user, quote=quote, data=form.service_data()
        )
    except Invalid as exc:
        error = _form_errors_from(exc, form)
        return _lines_response(request, quote, form=form, error=error)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _lines_response(request, quote, error=exc.message)
    return _lines_response(request, quote, status_message=_("Line added."))


@require_http_methods(["GET", "POST"])
def quote_line_edit(request, pk, line_pk):
    quote = quote_get(actor=request.user, pk=pk)
    line = quote_line_get(actor=request.user, quote=quote, pk=line_pk)
    authorize(request.user, "sales.change_quote")
    if request.method == "GET":
        if not request.htmx:
            return redirect(
                f"{quote_detail_url(quote)}?edit_line={line.pk}#quote-lines"
            )
        return _lines_response(request, quote, editing=line.pk)
    form = QuoteLineForm(request.POST, user=request.user, line=line, auto_id=EDIT_ID)
    if not form.is_valid():
        return _lines_response(request, quote, form=form, editing=line.pk)
    try:
        services.quote_line_update(
            actor=request.user, line=line, data=form.service_data()
        )
    except Invalid as exc:
        error = _form_errors_from(exc, form)
        return _lines_response(request, quote, form=form, editing=line.pk, error=error)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _lines_response(request, quote, error=exc.message)
    return _lines_response(request, quote, status_message=_("Line saved."))


@require_POST
def quote_line_remove(request, pk, line_pk):
    quote = quote_get(actor=request.user, pk=pk)
    line = quote_line_get(actor=request.user, quote=quote, pk=line_pk)
    try:
        services.quote_line_remove(actor=request.user, line=line)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _lines_response(request, quote, error=exc.message)
    return _lines_response(request, quote, status_message=_("Line removed."))


# Status changes


def _action(service, done, *, note: bool = False):
    """A POST that calls one quote service and goes back to the (new) quote's page."""

    @require_POST
    def view(request, pk):
        quote = quote_get(actor=request.user, pk=pk)
        kwargs = {"note": request.POST.get("note", "")} if note else {}
        result = service(actor=request.user, quote=quote, **kwargs)
        messages.success(request, str(done))
        return redirect("sales:quote-detail", pk=result.pk)

    view.__name__ = service.__name__
    return view


@require_POST
def quote_delete(request, pk):
    quote = quote_get(actor=request.user, pk=pk)
    services.quote_delete(actor=request.user, quote=quote)
    messages.success(request, _("Quote deleted."))
    return redirect("sales:quote-list")


def quote_pdf_view(request, pk):
    """The printable quote, shown in the browser (inline) and saved as <number>.pdf."""
    authorize(request.user, "sales.view_quote")
    quote = quote_get(actor=request.user, pk=pk)
    data = quote_pdf(quote, list(quote_lines(quote=quote)))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(quote.number)}"'
    return response


urlpatterns = [
    path("quotes/", QuoteListView.as_view(), name="quote-list"),
    path("quotes/new/", QuoteFormView.as_view(), name="quote-create"),
    path("quotes/<int:pk>/", QuoteDetailView.as_view(), name="quote-detail"),
    path("quotes/<int:pk>/edit/", QuoteFormView.as_view(), name="quote-edit"),
    path("quotes/<int:pk>/pdf/", quote_pdf_view, name="quote-pdf"),
    path("quotes/<int:pk>/delete/", quote_delete, name="quote-delete"),
    path("quotes/<int:pk>/lines/", quote_line_add, name="quote-line-add"),
    path(
        "quotes/<int:pk>/lines/<int:line_pk>/",
        quote_line_edit,
        name="quote-line-edit",
    ),
    path(
        "quotes/<int:pk>/lines/<int:line_pk>/delete/",
        quote_line_remove,
        name="quote-line-remove",
    ),
    path(
        "quotes/<int:pk>/submit/",
        _action(services.quote_submit, gettext_lazy("Quote submitted.")),
        name="quote-submit",
    ),
    path(
        "quotes/<int:pk>/withdraw/",
        _action(
            services.quote_withdraw,
            gettext_lazy("Quote withdrawn; it is a draft again."),
        ),
        name="quote-withdraw",
    ),
    path(
        "quotes/<int:pk>/approve/",
        _action(services.quote_approve, gettext_lazy("Quote approved."), note=True),
        name="quote-approve",
    ),
    path(
        "quotes/<int:pk>/reject/",
        _action(services.quote_reject, gettext_lazy("Quote rejected."), note=True),
        name="quote-reject",
    ),
    path(
        "quotes/<int:pk>/send/",
        _action(services.quote_send, gettext_lazy("Quote marked as sent.")),
        name="quote-send",
    ),
    path(
        "quotes/<int:pk>/accept/",
        _action(services.quote_accept, gettext_lazy("Quote accepted by the customer.")),
        name="quote-accept",
    ),
    path(
        "quotes/<int:pk>/decline/",
        _action(
            services.quote_decline,
            gettext_lazy("Quote declined by the customer."),
            note=True,
        ),
        name="quote-decline",
    ),
    path(
        "quotes/<int:pk>/cancel/",
        _action(services.quote_cancel, gettext_lazy("Quote cancelled."), note=True),
        name="quote-cancel",
    ),
    path(
        "quotes/<int:pk>/revise/",
        _action(services.quote_revise, gettext_lazy("New revision created.")),
        name="quote-revise",
    ),
]
