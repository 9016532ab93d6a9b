"""HQ pages of D9: promotions (list, calendar, record, form, publish, cancel) and the
partners' plans (list, record with fund requests and execution reports, decisions).
Thin views over crm.channels.selectors.marketing and crm.channels.services.marketing."""

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import MONTHS_AP
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.channels.models import FundRequest, PartnerPlan, Promotion
from crm.channels.selectors.marketing import (
    fundrequest_get,
    plan_executions,
    plan_fund_requests,
    plan_get,
    plan_queryset,
    plan_totals,
    promotion_calendar,
    promotion_get,
    with_fund_used,
)
from crm.channels.services import marketing as services
from crm.channels.web.marketing_forms import DecisionForm, PromotionForm
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView

# Promotions


class PromotionListView(ListPageView):
    spec_key = "channels.promotion"
    create_url_name = "channels:promotion-create"
    create_perm = "channels.add_promotion"

    @property
    def extra_actions(self):
        return [
            {
                "url": reverse("channels:promotion-calendar"),
                "icon": "calendar3",
                "label": _("Calendar"),
            },
            {
                "url": reverse("channels:plan-list"),
                "icon": "calendar-range",
                "label": _("Partner plans"),
                "perms": ["channels.view_partnerplan"],
            },
        ]


class PromotionDetailView(DetailPageView):
    spec_key = "channels.promotion"
    template_name = "channels/marketing/promotion_detail.html"
    fields = [
        "starts_on",
        "ends_on",
        "fund_budget",
        "tiers",
        "categories",
        "regions",
        "description",
        "owner",
        "published_at",
    ]
    edit_url_name = "channels:promotion-edit"
    edit_perm = "channels.change_promotion"
    list_url_name = "channels:promotion-list"

    def get_object(self, pk):
        promotion = promotion_get(actor=self.request.user, pk=pk)
        return with_fund_used(Promotion.objects.filter(pk=promotion.pk)).get()

    def extra_context(self, obj):
        user = self.request.user
        plans = (
            plan_queryset(actor=user).filter(promotion=obj).order_by("partner__name")
        )
        editable = obj.status != Promotion.Status.CANCELLED
        return {
            "edit_url": self.edit_url_if(obj, editable),
            "budget_left": obj.fund_budget - obj.fund_used,
            "plans": plans,
            "can_publish": can(user, "channels.publish_promotion"),
        }

    def edit_url_if(self, obj, editable):
        if editable and can(self.request.user, self.edit_perm):
            return reverse(self.edit_url_name, args=[obj.pk])
        return ""


class PromotionFormView(RecordFormView):
    spec_key = "channels.promotion"
    form_class = PromotionForm
    create_service = services.promotion_create
    update_service = services.promotion_update
    success_url_name = "channels:promotion-detail"
    list_url_name = "channels:promotion-list"

    def get_object(self, pk):
        return promotion_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "channels.change_promotion" if pk else "channels.add_promotion",
        )
        return super().get(request, pk)


@require_POST
def promotion_publish(request, pk):
    promotion = promotion_get(actor=request.user, pk=pk)
    services.promotion_publish(actor=request.user, promotion=promotion)
    messages.success(request, _("Promotion published."))
    return redirect("channels:promotion-detail", pk=pk)


@require_POST
def promotion_cancel(request, pk):
    promotion = promotion_get(actor=request.user, pk=pk)
    services.promotion_cancel(
        actor=request.user, promotion=promotion, note=request.POST.get("note", "")
    )
    messages.success(request, _("Promotion cancelled."))
    return redirect("channels:promotion-detail", pk=pk)


def calendar_rows(promotions, year: int) -> list[dict]:
    """Each promotion as a bar across the year: offset and width in % of the year."""
    first = datetime.date(year, 1, 1)
    days = (datetime.date(year, 12, 31) - first).days + 1
    rows = []
    for promotion in promotions:
        start = max(promotion.starts_on, first)
        end = min(promotion.ends_on, datetime.date(year, 12, 31))
        left = (start - first).days * 100 / days
        width = ((end - start).days + 1) * 100 / days
        rows.append(
            {
                "promotion": promotion,
                "left": f"{left:.3f}",
                "width": f"{max(width, 0.6):.3f}",
                "budget_left": promotion.fund_budget - promotion.fund_used,
                "continues_before": promotion.starts_on < first,
                "continues_after": promotion.ends_on.year > year,
            }
        )
    return rows


def promotion_calendar_view(request):
    """The year's promotions as a Gantt: one bar per promotion over twelve months."""
    authorize(request.user, "channels.view_promotion")
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    year = min(max(year, 2000), 2100)
    promotions = promotion_calendar(actor=request.user, year=year)
    first = datetime.date(year, 1, 1)
    days = (datetime.date(year, 12, 31) - first).days + 1
    months = []
    for month in range(1, 13):
        start = datetime.date(year, month, 1)
        end = (
            datetime.date(year, month + 1, 1)
            if month < 12
            else datetime.date(year + 1, 1, 1)
        )
        months.append(
            {
                "label": MONTHS_AP[month],
                "left": f"{(start - first).days * 100 / days:.3f}",
                "width": f"{(end - start).days * 100 / days:.3f}",
            }
        )
    today_left = (
        f"{(today - first).days * 100 / days:.3f}" if today.year == year else None
    )
    return render(
        request,
        "channels/marketing/calendar.html",
        {
            "title": _("Promotion calendar"),
            "year": year,
            "rows": calendar_rows(promotions, year),
            "months": months,
            "today_left": today_left,
            "list_url": reverse("channels:promotion-list"),
        },
    )


# Partner plans


class PlanListView(ListPageView):
    spec_key = "channels.partnerplan"


def plan_detail(request, pk):
    """A plan with its promotion's range, fund requests, execution reports and totals."""
    authorize(request.user, "channels.view_partnerplan")
    plan = plan_get(actor=request.user, pk=pk)
    user = request.user
    return render(
        request,
        "channels/marketing/plan_detail.html",
        {
            "title": str(plan),
            "object": plan,
            "plan": plan,
            "promotion": plan.promotion,
            "fund_requests": plan_fund_requests(plan),
            "executions": plan_executions(plan),
            "totals": plan_totals(plan),
            "can_decide": plan.status == PartnerPlan.Status.SUBMITTED
            and can(user, "channels.change_partnerplan"),
            "can_fund": can(user, "channels.approve_fundrequest"),
            "pending": FundRequest.Status.PENDING,
            "list_url": reverse("channels:plan-list"),
        },
    )


def _plan_action(service, done):
    @require_POST
    def view(request, pk):
        plan = plan_get(actor=request.user, pk=pk)
        form = DecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        service(actor=request.user, plan=plan, note=note or "")
        messages.success(request, str(done))
        return redirect("channels:plan-detail", pk=pk)

    view.__name__ = service.__name__
    return view


@require_POST
def fundrequest_decide(request, pk, decision):
    fund = fundrequest_get(actor=request.user, pk=pk)
    form = DecisionForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    if decision == "approve":
        services.fundrequest_approve(
            actor=request.user,
            request=fund,
            amount=data.get("amount"),
            note=data.get("note") or "",
        )
        messages.success(request, _("Fund request approved."))
    else:
        services.fundrequest_reject(
            actor=request.user, request=fund, note=data.get("note") or ""
        )
        messages.success(request, _("Fund request rejected."))
    return redirect("channels:plan-detail", pk=fund.plan_id)


urlpatterns = [
    path("promotions/", PromotionListView.as_view(), name="promotion-list"),
    path("promotions/calendar/", promotion_calendar_view, name="promotion-calendar"),
    path("promotions/new/", PromotionFormView.as_view(), name="promotion-create"),
    path(
        "promotions/<int:pk>/", PromotionDetailView.as_view(), name="promotion-detail"
    ),
    path(
        "promotions/<int:pk>/edit/", PromotionFormView.as_view(), name="promotion-edit"
    ),
    path("promotions/<int:pk>/publish/", promotion_publish, name="promotion-publish"),
    path("promotions/<int:pk>/cancel/", promotion_cancel, name="promotion-cancel"),
    path("plans/", PlanListView.as_view(), name="plan-list"),
    path("plans/<int:pk>/", plan_detail, name="plan-detail"),
    path(
        "plans/<int:pk>/approve/",
        _plan_action(services.plan_approve, gettext_lazy("Plan approved.")),
        name="plan-approve",
    ),
    path(
        "plans/<int:pk>/reject/",
        _plan_action(services.plan_reject, gettext_lazy("Plan rejected.")),
        name="plan-reject",
    ),
    path(
        "fund-requests/<int:pk>/approve/",
        fundrequest_decide,
        {"decision": "approve"},
        name="fundrequest-approve",
    ),
    path(
        "fund-requests/<int:pk>/reject/",
        fundrequest_decide,
        {"decision": "reject"},
        name="fundrequest-reject",
    ),
]
