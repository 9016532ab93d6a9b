"""S7 commission pages: rules, periods (compute, close), statements with export."""

from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.core.exports import CONTENT_TYPES
from crm.core.lists import REGISTRY, export_value, write_xlsx
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.sales.selectors.commissions import (
    commission_period_get,
    commission_period_summary,
    commission_rule_get,
    commission_statement,
)
from crm.sales.services import commissions as services
from crm.sales.web.commissions_forms import CommissionPeriodForm, CommissionRuleForm

RULES_ACTION = {
    "url": reverse_lazy("sales:commission-rule-list"),
    "label": gettext_lazy("Commission rules"),
    "icon": "sliders",
    "perms": ["sales.view_commissionrule"],
}
PERIODS_ACTION = {
    "url": reverse_lazy("sales:commission-period-list"),
    "label": gettext_lazy("Commission periods"),
    "icon": "calendar-range",
    "perms": ["sales.view_commissionperiod"],
}

# Rules


class CommissionRuleListView(ListPageView):
    spec_key = "sales.commissionrule"
    create_url_name = "sales:commission-rule-create"
    create_perm = "sales.add_commissionrule"
    extra_actions = [PERIODS_ACTION]


class CommissionRuleDetailView(DetailPageView):
    spec_key = "sales.commissionrule"
    fields = ["name", "employee", "role", "category", "rate", "is_active", "created_at"]
    edit_url_name = "sales:commission-rule-edit"
    edit_perm = "sales.change_commissionrule"
    list_url_name = "sales:commission-rule-list"

    def get_object(self, pk):
        return commission_rule_get(actor=self.request.user, pk=pk)


class CommissionRuleFormView(RecordFormView):
    spec_key = "sales.commissionrule"
    form_class = CommissionRuleForm
    create_service = services.commission_rule_create
    update_service = services.commission_rule_update
    success_url_name = "sales:commission-rule-detail"
    list_url_name = "sales:commission-rule-list"

    def get_object(self, pk):
        return commission_rule_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "sales.change_commissionrule" if pk else "sales.add_commissionrule",
        )
        return super().get(request, pk)


# Periods


class CommissionPeriodListView(ListPageView):
    spec_key = "sales.commissionperiod"
    create_url_name = "sales:commission-period-create"
    create_perm = "sales.add_commissionperiod"
    extra_actions = [RULES_ACTION]


class CommissionPeriodDetailView(DetailPageView):
    """A period: per employee in the viewer's scope, collected base and commission."""

    spec_key = "sales.commissionperiod"
    template_name = "sales/commissions/period_detail.html"
    fields = [
        "name",
        "start_on",
        "end_on",
        "status",
        "computed_at",
        "closed_by",
        "closed_at",
    ]
    edit_url_name = "sales:commission-period-edit"
    list_url_name = "sales:commission-period-list"

    def get_object(self, pk):
        return commission_period_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        summary = commission_period_summary(actor=user, period=obj)
        return {
            "summary": summary,
            "summary_totals": {
                "base": sum((r["base"] for r in summary), Decimal(0)),
                "commission": sum((r["commission"] for r in summary), Decimal(0)),
            },
            # A closed period is final: no edit button.
            "edit_url": ""
            if obj.is_closed or not can(user, "sales.change_commissionperiod")
            else reverse("sales:commission-period-edit", args=[obj.pk]),
            "can_compute": not obj.is_closed
            and can(user, "sales.change_commissionperiod"),
            "can_close": not obj.is_closed
            and can(user, "sales.close_commissionperiod"),
        }


class CommissionPeriodFormView(RecordFormView):
    spec_key = "sales.commissionperiod"
    form_class = CommissionPeriodForm
    create_service = services.commission_period_create
    update_service = services.commission_period_update
    success_url_name = "sales:commission-period-detail"
    list_url_name = "sales:commission-period-list"

    def get_object(self, pk):
        return commission_period_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "sales.change_commissionperiod" if pk else "sales.add_commissionperiod",
        )
        return super().get(request, pk)


@require_POST
def commission_period_compute(request, pk):
    period = commission_period_get(actor=request.user, pk=pk)
    period = services.commission_period_compute(actor=request.user, period=period)
    messages.success(
        request,
        _("Commissions computed: %(n)s lines.") % {"n": period.line_count},
    )
    return redirect("sales:commission-period-detail", pk=pk)


@require_POST
def commission_period_close(request, pk):
    period = commission_period_get(actor=request.user, pk=pk)
    services.commission_period_close(actor=request.user, period=period)
    messages.success(request, _("Period closed; its commissions are final."))
    return redirect("sales:commission-period-detail", pk=pk)


# Statements


def commission_statement_view(request, pk, employee):
    """One employee's statement: every line with receipt, customer, category, base,
    rate and commission, and the totals."""
    period = commission_period_get(actor=request.user, pk=pk)
    statement = commission_statement(
        actor=request.user, period=period, employee_id=employee
    )
    return render(
        request,
        "sales/commissions/statement.html",
        {
            "title": _("Commission statement"),
            "period": period,
            "can_export": can(request.user, "core.export_data"),
            **statement,
        },
    )


def commission_statement_export(request, pk, employee):
    """The statement as an xlsx file: the statement's columns and a total row."""
    authorize(request.user, "core.export_data")
    period = commission_period_get(actor=request.user, pk=pk)
    statement = commission_statement(
        actor=request.user, period=period, employee_id=employee
    )
    spec = REGISTRY["sales.commissionline"]
    rows = list(spec.export_rows(request.user, statement["lines"]))
    header = rows[0]
    total = [""] * len(header)
    total[0] = _("Total")
    labels = {str(c.label): c.name for c in spec.columns_for(request.user)}
    for index, label in enumerate(header):
        if labels.get(label) == "base_amount":
            total[index] = export_value(statement["totals"]["base"])
        elif labels.get(label) == "amount":
            total[index] = export_value(statement["totals"]["commission"])
    rows.append(total)
    data = write_xlsx(rows, _("Commission statement"))
    name = (
        f"commission-{period.start_on:%Y%m%d}-{statement['employee'].username}-"
        f"{timezone.localtime():%Y%m%d%H%M%S}.xlsx"
    )
    response = HttpResponse(data, content_type=CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path(
        "commissions/rules/",
        CommissionRuleListView.as_view(),
        name="commission-rule-list",
    ),
    path(
        "commissions/rules/new/",
        CommissionRuleFormView.as_view(),
        name="commission-rule-create",
    ),
    path(
        "commissions/rules/<int:pk>/",
        CommissionRuleDetailView.as_view(),
        name="commission-rule-detail",
    ),
    path(
        "commissions/rules/<int:pk>/edit/",
        CommissionRuleFormView.as_view(),
        name="commission-rule-edit",
    ),
    path(
        "commissions/",
        CommissionPeriodListView.as_view(),
        name="commission-period-list",
    ),
    path(
        "commissions/new/",
        CommissionPeriodFormView.as_view(),
        name="commission-period-create",
    ),
    path(
        "commissions/<int:pk>/",
        CommissionPeriodDetailView.as_view(),
        name="commission-period-detail",
    ),
    path(
        "commissions/<int:pk>/edit/",
        CommissionPeriodFormView.as_view(),
        name="commission-period-edit",
    ),
    path(
        "commissions/<int:pk>/compute/",
        commission_period_compute,
        name="commission-period-compute",
    ),
    path(
        "commissions/<int:pk>/close/",
        commission_period_close,
        name="commission-period-close",
    ),
    path(
        "commissions/<int:pk>/statements/<int:employee>/",
        commission_statement_view,
        name="commission-statement",
    ),
    path(
        "commissions/<int:pk>/statements/<int:employee>/export/",
        commission_statement_export,
        name="commission-statement-export",
    ),
]
