"""D7/D8 HQ pages: partner targets with achievement, the KPI settings, score periods
(create, compute, close) with the ranking and each partner's explained breakdown.
Thin views over crm.channels.selectors.scores and crm.channels.services.scores."""

from decimal import Decimal

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.channels.models import PartnerScore
from crm.channels.selectors.scores import (
    breakdown_rows,
    kpi_list,
    percent_of,
    period_get,
    period_name,
    period_scores,
    score_get,
    target_get,
    target_is_locked,
    target_line_progress,
)
from crm.channels.services import scores as services
from crm.channels.web.scores_forms import KpiForm, ScorePeriodForm, TargetForm
from crm.core.errors import DomainError
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView

PERIODS_ACTION = {
    "url": reverse_lazy("channels:scoreperiod-list"),
    "label": gettext_lazy("Score periods"),
    "icon": "trophy",
    "perms": ["channels.view_scoreperiod"],
}
KPIS_ACTION = {
    "url": reverse_lazy("channels:kpi-settings"),
    "label": gettext_lazy("KPI settings"),
    "icon": "sliders",
    "perms": ["channels.view_kpi"],
}
TARGETS_ACTION = {
    "url": reverse_lazy("channels:target-list"),
    "label": gettext_lazy("Partner targets"),
    "icon": "bullseye",
    "perms": ["channels.view_partnertarget"],
}


# Targets


class TargetListView(ListPageView):
    spec_key = "channels.partnertarget"
    create_url_name = "channels:target-create"
    create_perm = "channels.add_partnertarget"
    extra_actions = [PERIODS_ACTION, KPIS_ACTION]


class TargetDetailView(DetailPageView):
    spec_key = "channels.partnertarget"
    template_name = "channels/scores/target_detail.html"
    fields = [
        "partner",
        "period_kind",
        "starts_on",
        "ends_on",
        "sales_amount",
        "new_customers",
        "service_level",
        "service_level_actual",
        "updated_at",
    ]
    edit_url_name = "channels:target-edit"
    edit_perm = "channels.change_partnertarget"
    list_url_name = "channels:target-list"

    def get_object(self, pk):
        return target_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        locked = target_is_locked(obj)
        context = {
            "title": f"{obj.partner} · {period_name(obj.period_kind, obj.starts_on)}",
            "locked": locked,
            "achievement": [
                {
                    "label": _("Sell-through amount"),
                    "target": obj.sales_amount,
                    "actual": obj.sell_through_actual,
                    "rate": percent_of(obj.sell_through_actual, obj.sales_amount),
                    "money": True,
                },
                {
                    "label": _("New end customers"),
                    "target": obj.new_customers,
                    "actual": obj.new_customers_actual,
                    "rate": percent_of(obj.new_customers_actual, obj.new_customers),
                },
                {
                    "label": _("Service level %"),
                    "target": obj.service_level,
                    "actual": obj.service_level_actual,
                    "rate": percent_of(obj.service_level_actual, obj.service_level)
                    if obj.service_level_actual is not None
                    else None,
                },
            ],
            "lines": target_line_progress(obj),
            "can_delete": not locked
            and can(self.request.user, "channels.delete_partnertarget"),
        }
        if locked:
            context["edit_url"] = ""
        return context


class TargetFormView(RecordFormView):
    spec_key = "channels.partnertarget"
    form_class = TargetForm
    create_service = services.target_create
    update_service = services.target_update
    success_url_name = "channels:target-detail"
    list_url_name = "channels:target-list"

    def get_object(self, pk):
        return target_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "channels.change_partnertarget" if pk else "channels.add_partnertarget",
        )
        return super().get(request, pk)


@require_POST
def target_delete(request, pk):
    target = target_get(actor=request.user, pk=pk)
    services.target_delete(actor=request.user, obj=target)
    messages.success(request, _("Target deleted."))
    return redirect("channels:target-list")


# KPI settings


class _Rollback(Exception):
    """Undo the KPI rows already saved when another row is refused."""


def _kpi_save(user, form) -> bool:
    try:
        services.kpi_update(actor=user, obj=form.instance, data=form.service_data())
    except DomainError as exc:
        if exc.status in (403, 404) and not exc.fields:
            raise
        for name, errors in (exc.fields or {None: [exc.message]}).items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        return False
    return True


def kpi_settings(request):
    """Every KPI in one form: weight, active, parameters. Saved all or none."""
    user = request.user
    authorize(user, "channels.view_kpi")
    kpis = list(kpi_list())
    editable = can(user, "channels.change_kpi")
    data = request.POST if request.method == "POST" else None
    forms = [KpiForm(data, instance=kpi, prefix=f"kpi-{kpi.pk}") for kpi in kpis]
    status = 200
    if data is not None:
        authorize(user, "channels.change_kpi")
        if all(form.is_valid() for form in forms):
            try:
                with transaction.atomic():
                    failed = False
                    for form in forms:
                        failed |= not _kpi_save(user, form)
                    if failed:
                        raise _Rollback
            except _Rollback:
                status = 400
            else:
                messages.success(request, _("KPI settings saved."))
                return redirect("channels:kpi-settings")
        else:
            status = 400
    active_weight = sum((k.weight for k in kpis if k.active), Decimal(0))
    rows = [
        {
            "kpi": kpi,
            "form": form,
            "share": percent_of(kpi.weight, active_weight) if kpi.active else None,
            "defaults": services.kpi_parameters(kpi),
        }
        for kpi, form in zip(kpis, forms, strict=True)
    ]
    return render(
        request,
        "channels/scores/kpi_settings.html",
        {
            "title": _("KPI settings"),
            "rows": rows,
            "editable": editable,
            "active_weight": active_weight,
            "list_url": reverse("channels:scoreperiod-list"),
        },
        status=status,
    )


# Score periods


class ScorePeriodListView(ListPageView):
    spec_key = "channels.scoreperiod"
    create_url_name = "channels:scoreperiod-create"
    create_perm = "channels.add_scoreperiod"
    extra_actions = [TARGETS_ACTION, KPIS_ACTION]


class ScorePeriodFormView(RecordFormView):
    spec_key = "channels.scoreperiod"
    form_class = ScorePeriodForm
    create_service = services.period_create
    success_url_name = "channels:scoreperiod-detail"
    list_url_name = "channels:scoreperiod-list"
    perm = "channels.add_scoreperiod"


def score_chart(scores) -> list[dict]:
    return [
        {"name": s.partner.short_name or s.partner.name, "total": str(s.total)}
        for s in scores
    ]


class ScorePeriodDetailView(DetailPageView):
    """The ranking of the partners in the viewer's scope (ranks are global), each with
    the breakdown that explains its score, and a bar chart."""

    spec_key = "channels.scoreperiod"
    template_name = "channels/scores/period_detail.html"
    fields = [
        "kind",
        "starts_on",
        "ends_on",
        "status",
        "computed_at",
        "closed_at",
        "closed_by",
    ]
    list_url_name = "channels:scoreperiod-list"

    def get_object(self, pk):
        return period_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        scores = list(period_scores(actor=user, period=obj))
        is_open = obj.status == obj.Status.OPEN
        return {
            "scores": [{"score": s, "rows": breakdown_rows(s)} for s in scores],
            "chart": score_chart(scores),
            "chart_height": min(2000, max(200, 24 * len(scores) + 40)),
            "can_compute": is_open and can(user, "channels.change_scoreperiod"),
            "can_close": is_open
            and obj.computed_at is not None
            and can(user, "channels.close_scoreperiod"),
            "can_export": can(user, "core.export_data"),
            "export_key": "channels.partnerscore",
        }


@require_POST
def scoreperiod_compute(request, pk):
    period = period_get(actor=request.user, pk=pk)
    period = services.score_period_compute(actor=request.user, period=period)
    messages.success(
        request, _("Scores computed for %(n)s partners.") % {"n": period.score_count}
    )
    return redirect("channels:scoreperiod-detail", pk=pk)


@require_POST
def scoreperiod_close(request, pk):
    period = period_get(actor=request.user, pk=pk)
    services.period_close(actor=request.user, period=period)
    messages.success(request, _("Period closed; its scores are final."))
    return redirect("channels:scoreperiod-detail", pk=pk)


def score_detail(request, pk):
    """One partner's score: every KPI's inputs, formula, points and weight."""
    authorize(request.user, "channels.view_partnerscore")
    score: PartnerScore = score_get(actor=request.user, pk=pk)
    return render(
        request,
        "channels/scores/score_detail.html",
        {
            "title": f"{score.partner} · {score.period}",
            "score": score,
            "rows": breakdown_rows(score),
            "list_url": reverse("channels:scoreperiod-detail", args=[score.period_id]),
        },
    )


urlpatterns = [
    path("targets/", TargetListView.as_view(), name="target-list"),
    path("targets/new/", TargetFormView.as_view(), name="target-create"),
    path("targets/<int:pk>/", TargetDetailView.as_view(), name="target-detail"),
    path("targets/<int:pk>/edit/", TargetFormView.as_view(), name="target-edit"),
    path("targets/<int:pk>/delete/", target_delete, name="target-delete"),
    path("scores/kpis/", kpi_settings, name="kpi-settings"),
    path("scores/", ScorePeriodListView.as_view(), name="scoreperiod-list"),
    path("scores/new/", ScorePeriodFormView.as_view(), name="scoreperiod-create"),
    path(
        "scores/<int:pk>/", ScorePeriodDetailView.as_view(), name="scoreperiod-detail"
    ),
    path("scores/<int:pk>/compute/", scoreperiod_compute, name="scoreperiod-compute"),
    path("scores/<int:pk>/close/", scoreperiod_close, name="scoreperiod-close"),
    path("scores/partner/<int:pk>/", score_detail, name="score-detail"),
]
