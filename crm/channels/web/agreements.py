"""HQ pages: cooperation agreements (D2). List (search, filters, sort, export), detail
with scope, rules (rebate tiers and penalties), renewal links and history, the draft
form, rule editing, and the status actions. Thin views over the selectors and services."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.channels.models import Agreement
from crm.channels.selectors.agreements import (
    agreement_get,
    agreement_renewal,
    agreement_rule_get,
    agreement_rules,
)
from crm.channels.services import agreements as services
from crm.channels.web.agreements_forms import AgreementForm, ReasonForm, RuleForm
from crm.core.errors import DomainError, Invalid
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView

S = Agreement.Status


def link(name: str, *args) -> str:
    """A link to another area's page, or "" while that page does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def back_to(pk: int, tab: str = "") -> str:
    url = reverse("channels:agreement-detail", args=[pk])
    return f"{url}#tab-{tab}" if tab else url


def run(request, action, *, success: str, form=None) -> bool:
    """Call a service; report a refusal (400/409) as messages. True when it ran."""
    try:
        action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        labels = form.fields if form is not None else {}
        shown = False
        for name, errors in exc.fields.items():
            for error in errors:
                label = labels[name].label if name in labels else ""
                messages.error(request, f"{label}: {error}" if label else error)
                shown = True
        if not shown:
            messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def report_form_errors(request, form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


class AgreementListView(ListPageView):
    spec_key = "channels.agreement"
    create_url_name = "channels:agreement-create"
    create_perm = "channels.add_agreement"


class AgreementFormView(RecordFormView):
    spec_key = "channels.agreement"
    form_class = AgreementForm
    create_service = services.agreement_create
    update_service = services.agreement_update
    success_url_name = "channels:agreement-detail"
    list_url_name = "channels:agreement-list"

    def get_object(self, pk):
        agreement = agreement_get(actor=self.request.user, pk=pk)
        if agreement.status != S.DRAFT:
            raise Invalid(_("Only draft agreements can be changed."))
        return agreement

    def get_form(self, obj=None, data=None):
        form = super().get_form(obj, data)
        partner = self.request.GET.get("partner")
        if obj is None and data is None and partner:
            form.initial["partner"] = partner
        return form

    def get(self, request, pk=None):
        authorize(
            request.user,
            "channels.change_agreement" if pk else "channels.add_agreement",
        )
        return super().get(request, pk)


class AgreementDetailView(DetailPageView):
    spec_key = "channels.agreement"
    template_name = "channels/agreements/detail.html"
    list_url_name = "channels:agreement-list"
    base_fields = [
        "number",
        "title",
        "partner",
        "status",
        "starts_on",
        "ends_on",
        "signed_on",
        "price_list",
        "discount_percent",
        "annual_target",
        "territory",
        "categories",
        "terms",
        "expiry_notified_on",
        "termination_reason",
        "created_at",
        "updated_at",
    ]

    def get_object(self, pk):
        obj = agreement_get(actor=self.request.user, pk=pk)
        # Only what has happened: no empty "reason for termination" on a live one.
        self.fields = [
            name
            for name in self.base_fields
            if name not in ("expiry_notified_on", "termination_reason")
            or getattr(obj, name)
        ]
        return obj

    def extra_context(self, obj):
        user = self.request.user
        draft = obj.status == S.DRAFT
        can_change = can(user, "channels.change_agreement")
        renewal = agreement_renewal(obj)
        rules = agreement_rules(obj)
        return {
            "agreement": obj,
            "edit_url": reverse("channels:agreement-edit", args=[obj.pk])
            if draft and can_change
            else "",
            **rules,
            "rule_count": len(rules["rebates"]) + len(rules["penalties"]),
            "rule_tables": [
                ("rebate", rules["rebates"], _("Rebate tiers")),
                ("penalty", rules["penalties"], _("Penalties")),
            ],
            "territory": list(obj.territory.order_by("path")),
            "categories": list(obj.categories.order_by("path")),
            "renewal": renewal,
            "can_edit_rules": draft and can_change,
            "rule_form": RuleForm() if draft and can_change else None,
            "can_activate": draft and can_change,
            "can_terminate": obj.status == S.ACTIVE and can_change,
            "can_renew": obj.status in (S.ACTIVE, S.EXPIRED)
            and renewal is None
            and can(user, "channels.add_agreement"),
            "terminate_form": ReasonForm(),
            "partner_url": link("channels:partner-detail", obj.partner_id),
        }


def _action(request, pk, call, success: str, tab: str = ""):
    agreement = agreement_get(actor=request.user, pk=pk)
    run(request, lambda: call(agreement), success=success)
    return redirect(back_to(agreement.pk, tab))


@require_POST
def agreement_activate(request, pk):
    return _action(
        request,
        pk,
        lambda a: services.agreement_activate(actor=request.user, agreement=a),
        _("Agreement activated; it is in force."),
    )


@require_POST
def agreement_terminate(request, pk):
    return _action(
        request,
        pk,
        lambda a: services.agreement_terminate(
            actor=request.user, agreement=a, reason=request.POST.get("text", "")
        ),
        _("Agreement terminated."),
    )


@require_POST
def agreement_renew(request, pk):
    agreement = agreement_get(actor=request.user, pk=pk)
    made = []
    if run(
        request,
        lambda: made.append(
            services.agreement_renew(actor=request.user, agreement=agreement)
        ),
        success=_("Renewal drafted: check it and activate it."),
    ):
        return redirect(back_to(made[0].pk))
    return redirect(back_to(agreement.pk))


@require_POST
def agreement_rule_add(request, pk):
    agreement = agreement_get(actor=request.user, pk=pk)
    form = RuleForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.agreement_rule_add(
                actor=request.user, agreement=agreement, data=form.service_data()
            ),
            success=_("Rule added."),
            form=form,
        )
    return redirect(back_to(agreement.pk, "rules"))


@require_POST
def agreement_rule_edit(request, pk, rule_pk):
    agreement = agreement_get(actor=request.user, pk=pk)
    rule = agreement_rule_get(agreement=agreement, pk=rule_pk)
    form = RuleForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
    else:
        run(
            request,
            lambda: services.agreement_rule_update(
                actor=request.user, rule=rule, data=form.service_data()
            ),
            success=_("Rule saved."),
            form=form,
        )
    return redirect(back_to(agreement.pk, "rules"))


@require_POST
def agreement_rule_remove(request, pk, rule_pk):
    agreement = agreement_get(actor=request.user, pk=pk)
    rule = agreement_rule_get(agreement=agreement, pk=rule_pk)
    run(
        request,
        lambda: services.agreement_rule_remove(actor=request.user, rule=rule),
        success=_("Rule removed."),
    )
    return redirect(back_to(agreement.pk, "rules"))


urlpatterns = [
    path("agreements/", AgreementListView.as_view(), name="agreement-list"),
    path("agreements/new/", AgreementFormView.as_view(), name="agreement-create"),
    path(
        "agreements/<int:pk>/", AgreementDetailView.as_view(), name="agreement-detail"
    ),
    path(
        "agreements/<int:pk>/edit/", AgreementFormView.as_view(), name="agreement-edit"
    ),
    path(
        "agreements/<int:pk>/activate/",
        agreement_activate,
        name="agreement-activate",
    ),
    path(
        "agreements/<int:pk>/terminate/",
        agreement_terminate,
        name="agreement-terminate",
    ),
    path("agreements/<int:pk>/renew/", agreement_renew, name="agreement-renew"),
    path("agreements/<int:pk>/rules/", agreement_rule_add, name="agreement-rule-add"),
    path(
        "agreements/<int:pk>/rules/<int:rule_pk>/",
        agreement_rule_edit,
        name="agreement-rule-edit",
    ),
    path(
        "agreements/<int:pk>/rules/<int:rule_pk>/delete/",
        agreement_rule_remove,
        name="agreement-rule-remove",
    ),
]
