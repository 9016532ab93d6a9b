"""S4 contract pages: list (search, filters, export), create from scratch or from a
quote, detail with lines, payment plan, attachments, orders and history, the status
actions, and attachment download through a scope-checked view (never a media URL).
Thin views over crm.sales.selectors.contracts and crm.sales.services.contracts."""

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.core.errors import DomainError, Invalid
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.sales.models import Contract
from crm.sales.selectors.contracts import (
    contract_attachment_get,
    contract_attachments,
    contract_get,
    contract_instalment_get,
    contract_instalments,
    contract_line_get,
    contract_lines,
    contract_orders,
    plan_summary,
)
from crm.sales.selectors.orders import contract_remaining
from crm.sales.services import contracts as services
from crm.sales.web.contracts_forms import (
    AttachmentForm,
    ContractForm,
    FromQuoteForm,
    InstalmentForm,
    LineForm,
    NoteForm,
    SplitForm,
    plain,
)

S = Contract.Status


def link(name: str, *args) -> str:
    """A link to another area's page, or "" while that page does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def report_error(request, exc: DomainError, form=None) -> None:
    """A refused action as messages: each field error with its label."""
    if exc.status in (403, 404) and not exc.fields:
        raise exc
    known = {
        name: errors
        for name, errors in exc.fields.items()
        if form is not None and name in form.fields
    }
    if not known or not any(exc.message in errors for errors in known.values()):
        messages.error(request, exc.message)
    for name, errors in known.items():
        label = form.fields[name].label
        for error in errors:
            messages.error(request, f"{label}: {error}")


def report_form_errors(request, form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def run(request, action, *, success: str, form=None) -> bool:
    """Call a service; report a refusal (400/409) as messages. True when it ran."""
    try:
        action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        report_error(request, exc, form)
        return False
    messages.success(request, success)
    return True


def with_inputs(lines):
    """Lines with the plain values their edit inputs show."""
    for line in lines:
        line.inputs = {
            name: plain(getattr(line, name))
            for name in ("quantity", "unit_price", "discount_percent", "tax_rate")
        }
    return lines


def back_to(pk: int, tab: str = "") -> str:
    url = reverse("sales:contract-detail", args=[pk])
    return f"{url}#tab-{tab}" if tab else url


# List, create, edit


class ContractListView(ListPageView):
    spec_key = "sales.contract"
    create_url_name = "sales:contract-create"
    create_perm = "sales.add_contract"

    @property
    def extra_actions(self):
        return [
            {
                "url": reverse("sales:contract-from-quote"),
                "label": _("From a quote"),
                "icon": "file-earmark-arrow-down",
                "perms": ["sales.add_contract"],
            }
        ]


class ContractFormView(RecordFormView):
    spec_key = "sales.contract"
    form_class = ContractForm
    create_service = services.contract_create
    update_service = services.contract_update
    success_url_name = "sales:contract-detail"
    list_url_name = "sales:contract-list"

    def get_object(self, pk):
        contract = contract_get(actor=self.request.user, pk=pk)
        if not contract.is_editable:
            raise Invalid(_("Only draft contracts can be changed."))
        return contract

    def get(self, request, pk=None):
        authorize(request.user, "sales.change_contract" if pk else "sales.add_contract")
        return super().get(request, pk)


@require_http_methods(["GET", "POST"])
def contract_from_quote(request):
    """Pick an approved, sent or accepted quote (or come with ?quote=<id> from it) and
    make a draft contract of it."""
    authorize(request.user, "sales.add_contract")
    initial = {"quote": request.GET.get("quote")} if request.GET.get("quote") else {}
    form = FromQuoteForm(request.POST or None, user=request.user, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                contract = services.contract_create_from_quote(
                    actor=request.user,
                    quote=form.cleaned_data["quote"],
                    data=form.service_data(),
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
                messages.success(request, _("Contract created from the quote."))
                return redirect("sales:contract-detail", pk=contract.pk)
    return render(
        request,
        "sales/contracts/from_quote.html",
        {
            "form": form,
            "title": _("New contract from a quote"),
            "list_url": reverse("sales:contract-list"),
        },
        status=status,
    )


# Detail


class ContractDetailView(DetailPageView):
    spec_key = "sales.contract"
    template_name = "sales/contracts/detail.html"
    list_url_name = "sales:contract-list"
    fields = [
        "number",
        "title",
        "customer",
        "contact",
        "quote",
        "opportunity",
        "status",
        "signed_on",
        "start_on",
        "end_on",
        "currency",
        "amount",
        "tax_amount",
        "total",
        "owner",
        "department",
        "submitted_by",
        "submitted_at",
        "approved_by",
        "approved_at",
        "decision_note",
        "ended_at",
        "termination_reason",
        "terms",
        "notes",
        "created_at",
        "updated_at",
    ]

    def get_object(self, pk):
        return contract_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        draft = obj.status == S.DRAFT
        can_change = can(user, "sales.change_contract")
        can_approve = can(user, "sales.approve_contract")
        lines = with_inputs(contract_lines(contract=obj))
        instalments = contract_instalments(contract=obj)
        for instalment in instalments:
            instalment.amount_input = plain(instalment.amount)
        remaining = contract_remaining(obj) if obj.status == S.ACTIVE else {}
        for line in lines:
            line.remaining = remaining.get(line.pk)
        attachments = contract_attachments(contract=obj)
        for attachment in attachments:
            attachment.can_delete = services.can_delete_attachment(user, attachment)
        editable = draft and can_change
        return {
            "contract": obj,
            "edit_url": reverse("sales:contract-edit", args=[obj.pk])
            if editable
            else "",
            "lines": lines,
            "line_form": LineForm(user=user) if editable else None,
            "can_edit_lines": editable,
            "show_remaining": obj.status == S.ACTIVE,
            "instalments": instalments,
            "plan": plan_summary(contract=obj, instalments=instalments),
            "instalment_form": InstalmentForm() if editable else None,
            "split_form": SplitForm() if editable else None,
            "attachments": attachments,
            "attachment_form": AttachmentForm()
            if can_change and obj.status != S.COMPLETED
            else None,
            "attachment_max_mb": services.attachment_max_bytes() // (1024 * 1024),
            "orders": list(contract_orders(actor=user, contract=obj)[:50])
            if can(user, "sales.view_salesorder")
            else [],
            "can_order": obj.status == S.ACTIVE and can(user, "sales.add_salesorder"),
            "can_submit": editable,
            "can_delete": draft and can(user, "sales.delete_contract"),
            "can_withdraw": obj.status == S.PENDING_APPROVAL and can_change,
            "can_decide": obj.status == S.PENDING_APPROVAL
            and can_approve
            and (
                user.is_superuser or user.pk not in (obj.owner_id, obj.submitted_by_id)
            ),
            "can_complete": obj.status == S.ACTIVE and can_change,
            "can_terminate": obj.status == S.ACTIVE and can_approve,
            "reject_form": NoteForm(label=_("Why is it rejected?")),
            "terminate_form": NoteForm(label=_("Reason for terminating")),
            "quote_url": link("sales:quote-detail", obj.quote_id)
            if obj.quote_id
            else "",
            "customer_url": link("customers:customer-detail", obj.customer_id),
            "pay_url_name": "sales:instalment-payment"
            if link("sales:instalment-payment", 1) and can(user, "sales.add_payment")
            else "",
        }


# Status actions


def _action(request, pk, call, success: str, tab: str = ""):
    contract = contract_get(actor=request.user, pk=pk)
    run(request, lambda: call(contract), success=success)
    return redirect(back_to(contract.pk, tab))


@require_POST
def contract_submit(request, pk):
    return _action(
        request,
        pk,
        lambda c: services.contract_submit(actor=request.user, contract=c),
        _("Contract submitted for approval."),
    )


@require_POST
def contract_withdraw(request, pk):
    return _action(
        request,
        pk,
        lambda c: services.contract_withdraw(actor=request.user, contract=c),
        _("Contract withdrawn; it is a draft again."),
    )


@require_POST
def contract_approve(request, pk):
    return _action(
        request,
        pk,
        lambda c: services.contract_approve(
            actor=request.user, contract=c, note=request.POST.get("note", "")
        ),
        _("Contract approved; its instalments are receivables now."),
    )


@require_POST
def contract_reject(request, pk):
    return _action(
        request,
        pk,
        lambda c: services.contract_reject(
            actor=request.user, contract=c, note=request.POST.get("text", "")
        ),
        _("Contract rejected; it is a draft again."),
    )


@require_POST
def contract_complete(request, pk):
    return _action(
        request,
        pk,
        lambda c: services.contract_complete(actor=request.user, contract=c),
        _("Contract completed."),
    )


@require_POST
def contract_terminate(request, pk):
    return _action(
        request,
        pk,
        lambda c: services.contract_terminate(
            actor=request.user, contract=c, reason=request.POST.get("text", "")
        ),
        _("Contract terminated."),
    )


@require_POST
def contract_delete(request, pk):
    contract = contract_get(actor=request.user, pk=pk)
    if run(
        request,
        lambda: services.contract_delete(actor=request.user, contract=contract),
        success=_("Draft contract deleted."),
    ):
        return redirect("sales:contract-list")
    return redirect(back_to(contract.pk))


# Lines


@require_POST
def contract_line_add(request, pk):
    contract = contract_get(actor=request.user, pk=pk)
    form = LineForm(request.POST, user=request.user)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.contract_line_add(
                actor=request.user, contract=contract, data=form.service_data()
            ),
            success=_("Line added."),
            form=form,
        )
    return redirect(back_to(contract.pk, "lines"))


@require_POST
def contract_line_edit(request, pk, line_pk):
    contract = contract_get(actor=request.user, pk=pk)
    line = contract_line_get(actor=request.user, contract=contract, pk=line_pk)
    form = LineForm(request.POST, user=request.user)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.contract_line_update(
                actor=request.user, line=line, data=form.service_data()
            ),
            success=_("Line saved."),
            form=form,
        )
    return redirect(back_to(contract.pk, "lines"))


@require_POST
def contract_line_remove(request, pk, line_pk):
    contract = contract_get(actor=request.user, pk=pk)
    line = contract_line_get(actor=request.user, contract=contract, pk=line_pk)
    run(
        request,
        lambda: services.contract_line_remove(actor=request.user, line=line),
        success=_("Line removed."),
    )
    return redirect(back_to(contract.pk, "lines"))


# Payment plan


@require_POST
def contract_instalment_add(request, pk):
    contract = contract_get(actor=request.user, pk=pk)
    form = InstalmentForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.contract_instalment_add(
                actor=request.user, contract=contract, data=form.service_data()
            ),
            success=_("Instalment added."),
            form=form,
        )
    return redirect(back_to(contract.pk, "plan"))


@require_POST
def contract_instalment_edit(request, pk, instalment_pk):
    contract = contract_get(actor=request.user, pk=pk)
    instalment = contract_instalment_get(
        actor=request.user, contract=contract, pk=instalment_pk
    )
    form = InstalmentForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.contract_instalment_update(
                actor=request.user, instalment=instalment, data=form.service_data()
            ),
            success=_("Instalment saved."),
            form=form,
        )
    return redirect(back_to(contract.pk, "plan"))


@require_POST
def contract_instalment_remove(request, pk, instalment_pk):
    contract = contract_get(actor=request.user, pk=pk)
    instalment = contract_instalment_get(
        actor=request.user, contract=contract, pk=instalment_pk
    )
    run(
        request,
        lambda: services.contract_instalment_remove(
            actor=request.user, instalment=instalment
        ),
        success=_("Instalment removed."),
    )
    return redirect(back_to(contract.pk, "plan"))


@require_POST
def contract_plan_split(request, pk):
    contract = contract_get(actor=request.user, pk=pk)
    form = SplitForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.contract_plan_split(
                actor=request.user, contract=contract, **form.cleaned_data
            ),
            success=_("Payment plan split into equal instalments."),
            form=form,
        )
    return redirect(back_to(contract.pk, "plan"))


# Attachments


@require_POST
def contract_attachment_add(request, pk):
    contract = contract_get(actor=request.user, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.contract_attachment_add(
                actor=request.user, contract=contract, upload=form.cleaned_data["file"]
            ),
            success=_("File attached."),
            form=form,
        )
    return redirect(back_to(contract.pk, "attachments"))


def contract_attachment_download(request, pk, attachment_pk):
    """The file, to users who may see the contract (404 for anybody else), always as
    a download with the type checked at upload."""
    contract = contract_get(actor=request.user, pk=pk)
    attachment = contract_attachment_get(
        actor=request.user, pk=attachment_pk, contract=contract
    )
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def contract_attachment_delete(request, pk, attachment_pk):
    contract = contract_get(actor=request.user, pk=pk)
    attachment = contract_attachment_get(
        actor=request.user, pk=attachment_pk, contract=contract
    )
    run(
        request,
        lambda: services.contract_attachment_delete(
            actor=request.user, attachment=attachment
        ),
        success=_("Attachment removed."),
    )
    return redirect(back_to(contract.pk, "attachments"))


urlpatterns = [
    path("contracts/", ContractListView.as_view(), name="contract-list"),
    path("contracts/new/", ContractFormView.as_view(), name="contract-create"),
    path("contracts/from-quote/", contract_from_quote, name="contract-from-quote"),
    path("contracts/<int:pk>/", ContractDetailView.as_view(), name="contract-detail"),
    path("contracts/<int:pk>/edit/", ContractFormView.as_view(), name="contract-edit"),
    path("contracts/<int:pk>/delete/", contract_delete, name="contract-delete"),
    path("contracts/<int:pk>/submit/", contract_submit, name="contract-submit"),
    path("contracts/<int:pk>/withdraw/", contract_withdraw, name="contract-withdraw"),
    path("contracts/<int:pk>/approve/", contract_approve, name="contract-approve"),
    path("contracts/<int:pk>/reject/", contract_reject, name="contract-reject"),
    path("contracts/<int:pk>/complete/", contract_complete, name="contract-complete"),
    path(
        "contracts/<int:pk>/terminate/", contract_terminate, name="contract-terminate"
    ),
    path("contracts/<int:pk>/lines/", contract_line_add, name="contract-line-add"),
    path(
        "contracts/<int:pk>/lines/<int:line_pk>/",
        contract_line_edit,
        name="contract-line-edit",
    ),
    path(
        "contracts/<int:pk>/lines/<int:line_pk>/delete/",
        contract_line_remove,
        name="contract-line-remove",
    ),
    path(
        "contracts/<int:pk>/instalments/",
        contract_instalment_add,
        name="contract-instalment-add",
    ),
    path(
        "contracts/<int:pk>/instalments/split/",
        contract_plan_split,
        name="contract-plan-split",
    ),
    path(
        "contracts/<int:pk>/instalments/<int:instalment_pk>/",
        contract_instalment_edit,
        name="contract-instalment-edit",
    ),
    path(
        "contracts/<int:pk>/instalments/<int:instalment_pk>/delete/",
        contract_instalment_remove,
        name="contract-instalment-remove",
    ),
    path(
        "contracts/<int:pk>/attachments/",
        contract_attachment_add,
        name="contract-attachment-add",
    ),
    path(
        "contracts/<int:pk>/attachments/<int:attachment_pk>/",
        contract_attachment_download,
        name="contract-attachment-download",
    ),
    path(
        "contracts/<int:pk>/attachments/<int:attachment_pk>/delete/",
        contract_attachment_delete,
        name="contract-attachment-delete",
    ),
]
