"""Partner portal pages of D9: the promotions published to the partner, its plans under
them, fund requests and execution reports. Every read filters by request.partner, so
another partner's ids (and promotions not addressed to it) are not found."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.channels.models import PartnerPlan
from crm.channels.portal.access import portal_view
from crm.channels.selectors.marketing import (
    plan_executions,
    plan_fund_requests,
    plan_totals,
    portal_plan_get,
    portal_plans,
    portal_promotion_get,
    promotions_for_partner,
)
from crm.channels.services import marketing as services
from crm.channels.web.marketing_forms import ExecutionForm, FundRequestForm, PlanForm
from crm.core.errors import DomainError

PORTAL_BASE = "channels/portal/base.html"


@portal_view
def promotion_list(request):
    partner = request.partner
    return render(
        request,
        "channels/portal/marketing/promotion_list.html",
        {
            "title": _("Promotions & plans"),
            "promotions": promotions_for_partner(partner).order_by("-starts_on", "pk"),
            "plans": portal_plans(partner).order_by("-starts_on", "-pk")[:100],
        },
    )


@portal_view
def promotion_detail(request, pk):
    promotion = portal_promotion_get(partner=request.partner, pk=pk)
    return render(
        request,
        "channels/portal/marketing/promotion_detail.html",
        {
            "title": promotion.name,
            "promotion": promotion,
            "plans": portal_plans(request.partner).filter(promotion=promotion),
        },
    )


def _plan_form_page(request, form, *, promotion, plan=None, status=200):
    cancel = (
        reverse("portal:plan-detail", args=[plan.pk])
        if plan
        else reverse("portal:promotion-detail", args=[promotion.pk])
    )
    return render(
        request,
        "core/form.html",
        {
            "base_template": PORTAL_BASE,
            "form": form,
            "object": plan,
            "title": (_("Edit %(name)s") % {"name": plan})
            if plan
            else _("New plan under %(promotion)s") % {"promotion": promotion},
            "list_url": reverse("portal:promotion-list"),
            "cancel_url": cancel,
        },
        status=status,
    )


def _save_plan(request, *, promotion, plan=None):
    form = PlanForm(
        request.POST or None, instance=plan, user=request.user, promotion=promotion
    )
    if request.method != "POST":
        return _plan_form_page(request, form, promotion=promotion, plan=plan)
    if not form.is_valid():
        return _plan_form_page(
            request, form, promotion=promotion, plan=plan, status=400
        )
    try:
        if plan is None:
            saved = services.plan_create(actor=request.user, data=form.service_data())
        else:
            saved = services.plan_update(
                actor=request.user,
                obj=plan,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
    except DomainError as exc:
        if exc.status in (403, 404) and not exc.fields:
            raise
        for name, errors in exc.fields.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        if not exc.fields:
            form.add_error(None, exc.message)
        return _plan_form_page(
            request, form, promotion=promotion, plan=plan, status=exc.status
        )
    messages.success(request, _("Saved."))
    return redirect("portal:plan-detail", pk=saved.pk)


@portal_view
def plan_create(request, pk):
    promotion = portal_promotion_get(partner=request.partner, pk=pk)
    return _save_plan(request, promotion=promotion)


@portal_view
def plan_edit(request, pk):
    plan = portal_plan_get(partner=request.partner, pk=pk)
    return _save_plan(request, promotion=plan.promotion, plan=plan)


@portal_view
def plan_detail(request, pk):
    plan = portal_plan_get(partner=request.partner, pk=pk)
    editable = plan.status in (PartnerPlan.Status.DRAFT, PartnerPlan.Status.REJECTED)
    return render(
        request,
        "channels/portal/marketing/plan_detail.html",
        {
            "title": plan.title,
            "plan": plan,
            "promotion": plan.promotion,
            "fund_requests": plan_fund_requests(plan),
            "executions": plan_executions(plan),
            "totals": plan_totals(plan),
            "editable": editable,
            "can_submit": plan.status == PartnerPlan.Status.DRAFT,
            "can_request": plan.status in services.FUNDABLE,
            "can_report": plan.status
            in (PartnerPlan.Status.APPROVED, PartnerPlan.Status.DONE),
            "fund_form": FundRequestForm(),
            "execution_form": ExecutionForm(),
        },
    )


@require_POST
@portal_view
def plan_submit(request, pk):
    plan = portal_plan_get(partner=request.partner, pk=pk)
    services.plan_submit(actor=request.user, plan=plan)
    messages.success(request, _("Plan submitted to HQ."))
    return redirect("portal:plan-detail", pk=pk)


@require_POST
@portal_view
def fundrequest_create(request, pk):
    plan = portal_plan_get(partner=request.partner, pk=pk)
    form = FundRequestForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("portal:plan-detail", pk=pk)
    services.fundrequest_create(
        actor=request.user,
        plan=plan,
        amount=form.cleaned_data["amount"],
        purpose=form.cleaned_data["purpose"],
    )
    messages.success(request, _("Fund request sent to HQ."))
    return redirect("portal:plan-detail", pk=pk)


@require_POST
@portal_view
def execution_create(request, pk):
    plan = portal_plan_get(partner=request.partner, pk=pk)
    form = ExecutionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("portal:plan-detail", pk=pk)
    services.execution_create(actor=request.user, plan=plan, data=form.cleaned_data)
    messages.success(request, _("Execution report saved."))
    return redirect("portal:plan-detail", pk=pk)


urlpatterns = [
    path("promotions/", promotion_list, name="promotion-list"),
    path("promotions/<int:pk>/", promotion_detail, name="promotion-detail"),
    path("promotions/<int:pk>/plans/new/", plan_create, name="plan-create"),
    path("plans/<int:pk>/", plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", plan_edit, name="plan-edit"),
    path("plans/<int:pk>/submit/", plan_submit, name="plan-submit"),
    path("plans/<int:pk>/funds/", fundrequest_create, name="fundrequest-create"),
    path("plans/<int:pk>/results/", execution_create, name="execution-create"),
]
