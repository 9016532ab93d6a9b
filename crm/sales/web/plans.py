"""S8 sales plan pages: target list, record page, form, delete, department roll-up and
the yearly grid editor (employee rows × 12 months). Thin views over
crm.sales.selectors.plans and crm.sales.services.plans."""

from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.dates import MONTHS_AP
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.core.errors import DomainError
from crm.core.money import round_money
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.sales.models import SalesTarget
from crm.sales.selectors.plans import (
    achievement_rate,
    department_achievement,
    period_bounds,
    period_label,
    sales_employees,
    target_get,
)
from crm.sales.services import plans as services
from crm.sales.web.plans_forms import TargetForm, TargetGridForm, TargetPeriodForm

MONTHS = range(1, 13)


class TargetListView(ListPageView):
    spec_key = "sales.salestarget"
    create_url_name = "sales:target-create"
    create_perm = "sales.add_salestarget"

    @property
    def extra_actions(self):
        return [
            {
                "url": reverse("sales:target-departments"),
                "icon": "diagram-3",
                "label": _("By department"),
            },
            {
                "url": reverse("sales:target-grid"),
                "icon": "grid-3x3",
                "label": _("Yearly grid"),
                "perms": ["sales.add_salestarget", "sales.change_salestarget"],
            },
        ]


class TargetDetailView(DetailPageView):
    spec_key = "sales.salestarget"
    template_name = "sales/plans/target_detail.html"
    # Year and period are in the title and the achievement heading (2026 Q1).
    fields = [
        "period_type",
        "owner",
        "department",
        "order_target",
        "collection_target",
        "notes",
        "created_at",
        "updated_at",
    ]
    edit_url_name = "sales:target-edit"
    edit_perm = "sales.change_salestarget"
    list_url_name = "sales:target-list"

    def get_object(self, pk):
        return target_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        start, end = period_bounds(obj.period_type, obj.year, obj.period)
        return {
            "period": period_label(obj.period_type, obj.year, obj.period),
            "period_start": start,
            "period_end": end,
            "achievement": achievement_rows(obj),
            "can_delete": can(self.request.user, "sales.delete_salestarget"),
        }


def achievement_rows(obj) -> list[dict]:
    return [
        {
            "key": kind,
            "label": label,
            "target": getattr(obj, f"{kind}_target"),
            "actual": getattr(obj, f"{kind}_actual"),
            "rate": achievement_rate(
                getattr(obj, f"{kind}_actual"), getattr(obj, f"{kind}_target")
            ),
        }
        for kind, label in (("order", _("Orders")), ("collection", _("Collections")))
    ]


class TargetFormView(RecordFormView):
    spec_key = "sales.salestarget"
    form_class = TargetForm
    create_service = services.target_create
    update_service = services.target_update
    success_url_name = "sales:target-detail"
    list_url_name = "sales:target-list"

    def get_object(self, pk):
        return target_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "sales.change_salestarget" if pk else "sales.add_salestarget",
        )
        return super().get(request, pk)


@require_POST
def target_delete(request, pk):
    target = target_get(actor=request.user, pk=pk)
    services.target_delete(actor=request.user, obj=target)
    messages.success(request, _("Sales target deleted."))
    return redirect("sales:target-list")


def target_departments(request):
    """Department roll-up of one period: own target, employees' targets, actuals."""
    authorize(request.user, "sales.view_salestarget")
    form = TargetPeriodForm(request.GET)
    period_type, year, period = form.chosen_period()
    rows = department_achievement(
        actor=request.user, period_type=period_type, year=year, period=period
    )
    top = min((row["depth"] for row in rows), default=0)
    for row in rows:
        row["indent"] = row["depth"] - top
    start, end = period_bounds(period_type, year, period)
    return render(
        request,
        "sales/plans/departments.html",
        {
            "title": _("Sales plan by department"),
            "form": form,
            "rows": rows,
            "period": period_label(period_type, year, period),
            "period_start": start,
            "period_end": end,
            "list_url": reverse("sales:target-list"),
        },
    )


def _grid_cells(post, employee_ids) -> dict:
    """(employee id, month) -> the text typed in, for the grid's inputs."""
    cells = {}
    for pk in employee_ids:
        for month in MONTHS:
            name = f"cell-{pk}-{month}"
            if name in post:
                cells[(pk, month)] = post.get(name, "").strip()
    return cells


def target_grid(request):
    """Employees in scope × 12 months of one year, for order or collection targets."""
    user = request.user
    if not (
        can(user, "sales.add_salestarget") or can(user, "sales.change_salestarget")
    ):
        authorize(user, "sales.change_salestarget")
    form = TargetGridForm(request.GET, user=user)
    year, measure, department = form.initial["year"], "order", None
    if form.is_bound and form.is_valid():
        year = form.cleaned_data["year"] or year
        measure = form.cleaned_data["measure"] or measure
        department = form.cleaned_data["department"]
    employees = sales_employees(actor=user)
    if department is not None:
        employees = employees.filter(department__path__startswith=department.path)
    employees = list(employees)
    field = f"{measure}_target"
    saved = {
        (owner_id, period): value
        for owner_id, period, value in SalesTarget.objects.visible_to(user)
        .filter(
            owner__in=[e.pk for e in employees],
            period_type=SalesTarget.PeriodType.MONTH,
            year=year,
        )
        .values_list("owner_id", "period", field)
    }
    typed, errors, status = {}, {}, 200
    if request.method == "POST":
        typed = _grid_cells(request.POST, [e.pk for e in employees])
        try:
            written = services.target_grid_save(
                actor=user, year=year, measure=measure, cells=typed
            )
        except DomainError as exc:
            if exc.status in (403, 404) and not exc.fields:
                raise
            errors = exc.fields or {"": [exc.message]}
            status = exc.status
        else:
            messages.success(
                request,
                ngettext("%(n)s target saved.", "%(n)s targets saved.", written)
                % {"n": written}
                if written
                else _("Saved."),
            )
            return redirect(request.get_full_path())
    rows = []
    for employee in employees:
        cells, total = [], Decimal("0")
        for month in MONTHS:
            name = f"cell-{employee.pk}-{month}"
            value = saved.get((employee.pk, month))
            total += value or 0
            cells.append(
                {
                    "name": name,
                    "month": month,
                    "value": typed.get(
                        (employee.pk, month),
                        None if value is None else round_money(value, "order"),
                    ),
                    "errors": errors.get(name, []),
                }
            )
        rows.append({"employee": employee, "cells": cells, "total": total})
    return render(
        request,
        "sales/plans/grid.html",
        {
            "title": _("Yearly targets"),
            "form": form,
            "year": year,
            "measure": measure,
            "rows": rows,
            "months": [(m, MONTHS_AP[m]) for m in MONTHS],
            "errors": errors,
            "list_url": reverse("sales:target-list"),
        },
        status=status,
    )


urlpatterns = [
    path("targets/", TargetListView.as_view(), name="target-list"),
    path("targets/new/", TargetFormView.as_view(), name="target-create"),
    path("targets/departments/", target_departments, name="target-departments"),
    path("targets/grid/", target_grid, name="target-grid"),
    path("targets/<int:pk>/", TargetDetailView.as_view(), name="target-detail"),
    path("targets/<int:pk>/edit/", TargetFormView.as_view(), name="target-edit"),
    path("targets/<int:pk>/delete/", target_delete, name="target-delete"),
]
