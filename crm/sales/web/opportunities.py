"""Opportunity pages (S2): list, record page (products, competitors, stage history,
moves, closing, reopening), forms; the pipeline board with drag and drop (htmx); the
pipeline stage settings; competitors."""

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.core.errors import DomainError, Invalid, NotFound
from crm.core.fieldrights import field_rights
from crm.core.scopes import authorize, can
from crm.core.web.views import (
    DetailPageView,
    ListPageView,
    RecordFormView,
    display_value,
    style_filter_form,
)
from crm.customers.selectors import customer_get
from crm.sales.models import Lead, Opportunity, Stage
from crm.sales.selectors.opportunities import (
    competitor_get,
    competitor_opportunities,
    opportunity_get,
    opportunity_products,
    opportunity_stage_changes,
    pipeline_board,
    stage_get,
    stage_list,
    stage_usage,
)
from crm.sales.selectors.quotes import quote_queryset
from crm.sales.services import opportunities as services
from crm.sales.web.opportunities_forms import (
    CompetitorForm,
    MoveForm,
    OpportunityForm,
    ProductLineForm,
    ReopenForm,
    StageForm,
)

DETAIL_FIELDS = [
    "number",
    "name",
    "customer",
    "contact",
    "stage",
    "amount",
    "expected_close_on",
    "source",
    "next_step",
    "owner",
    "department",
    "stage_changed_at",
    "closed_at",
    "close_reason",
    "lost_to",
    "competitors",
    "description",
    "created_at",
    "updated_at",
]
SOURCES = dict(Lead.Source.choices)


def _messages_of(exc: DomainError) -> str:
    """The error and its field messages in one sentence for a page message."""
    details = [m for msgs in exc.fields.values() for m in msgs if m != exc.message]
    return " ".join([exc.message, *details])


# Opportunities


class OpportunityListView(ListPageView):
    spec_key = "sales.opportunity"
    create_url_name = "sales:opportunity-create"
    create_perm = "sales.add_opportunity"

    @property
    def extra_actions(self):
        return [
            {
                "url": reverse("sales:pipeline"),
                "label": _("Pipeline board"),
                "icon": "kanban",
            },
            {
                "url": reverse("sales:stage-settings"),
                "label": _("Pipeline stages"),
                "icon": "sliders",
                "perms": ["sales.change_stage"],
            },
        ]


class OpportunityDetailView(DetailPageView):
    spec_key = "sales.opportunity"
    fields = DETAIL_FIELDS
    edit_url_name = "sales:opportunity-edit"
    edit_perm = "sales.change_opportunity"
    list_url_name = "sales:opportunity-list"
    template_name = "sales/opportunities/detail.html"

    def get_object(self, pk):
        return opportunity_get(actor=self.request.user, pk=pk)

    def _fields(self, obj) -> list:
        hidden = field_rights(self.request.user, Opportunity).hidden
        rows = []
        for name in self.fields:
            if name in hidden:
                continue
            try:
                label = obj._meta.get_field(name).verbose_name
            except FieldDoesNotExist:  # pragma: no cover - the list is ours
                continue
            if name == "source":
                value = SOURCES.get(obj.source, obj.source)
            elif name == "stage":
                value = f"{obj.stage.name} · {obj.stage.probability}%"
            elif name in ("closed_at", "close_reason", "lost_to") and obj.is_open:
                continue
            else:
                value = display_value(obj, name)
            rows.append((label, value))
        return rows

    def extra_context(self, obj) -> dict:
        user = self.request.user
        change = can(user, "sales.change_opportunity")
        editable = obj.is_open and change
        products = list(opportunity_products(opportunity=obj))
        quotes = (
            quote_queryset(actor=user)
            .filter(opportunity=obj)
            .order_by("-pk")
            .only("pk", "number", "title", "status", "total", "quoted_on")[:50]
            if can(user, "sales.view_quote")
            else []
        )
        stages = list(stage_list(active_only=True))
        context = {
            "fields": self._fields(obj),
            "products": products,
            "products_total": services.products_total(obj) if products else None,
            "product_form": ProductLineForm(user=user, initial={"version": obj.version})
            if editable
            else None,
            "can_change": editable,
            "can_reopen": not obj.is_open and change,
            "open_stages": [s for s in stages if s.kind == Stage.Kind.OPEN],
            "won_stages": [s for s in stages if s.kind == Stage.Kind.WON],
            "lost_stages": [s for s in stages if s.kind == Stage.Kind.LOST],
            "competitor_choices": MoveForm().fields["lost_to"].queryset,
            "reopen_form": ReopenForm(initial={"version": obj.version}),
            "stage_changes": opportunity_stage_changes(opportunity=obj),
            "quotes": quotes,
            "can_quote": obj.is_open and can(user, "sales.add_quote"),
        }
        if not obj.is_open:
            context["edit_url"] = ""
        return context


class OpportunityFormView(RecordFormView):
    spec_key = "sales.opportunity"
    form_class = OpportunityForm
    create_service = services.opportunity_create
    update_service = services.opportunity_update
    success_url_name = "sales:opportunity-detail"
    list_url_name = "sales:opportunity-list"
    template_name = "sales/opportunities/form.html"

    def get_object(self, pk):
        return opportunity_get(actor=self.request.user, pk=pk)

    def get_form(self, obj=None, data=None):
        customer = None
        if obj is None and self.request.GET.get("customer"):
            customer = customer_get(
                actor=self.request.user, pk=self.request.GET["customer"]
            )
        return self.form_class(
            data, instance=obj, user=self.request.user, customer=customer
        )

    def get(self, request, pk=None):
        authorize(
            request.user,
            "sales.change_opportunity" if pk else "sales.add_opportunity",
        )
        if pk:
            opportunity = self.get_object(pk)
            if not opportunity.is_open:
                messages.error(request, _("Reopen the opportunity to change it."))
                return redirect("sales:opportunity-detail", pk=pk)
        return super().get(request, pk)


def _detail(opportunity, anchor: str = ""):
    url = reverse("sales:opportunity-detail", args=[opportunity.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_POST
def opportunity_product_add(request, pk):
    opportunity = opportunity_get(actor=request.user, pk=pk)
    form = ProductLineForm(request.POST, user=request.user)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {errors[0]}" if label else errors[0])
        return _detail(opportunity, "opportunity-products")
    try:
        services.opportunity_product_add(
            actor=request.user,
            opportunity=opportunity,
            data=form.service_data(),
            version=form.cleaned_data["version"],
        )
    except Invalid as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, _("Product added."))
    return _detail(opportunity, "opportunity-products")


@require_POST
def opportunity_product_remove(request, pk, line_pk):
    opportunity = opportunity_get(actor=request.user, pk=pk)
    services.opportunity_product_remove(
        actor=request.user,
        opportunity=opportunity,
        line_id=line_pk,
        version=request.POST.get("version"),
    )
    messages.success(request, _("Product removed."))
    return _detail(opportunity, "opportunity-products")


@require_POST
def opportunity_move_view(request, pk):
    """The record page's move (and close) form: back to the page with a message."""
    opportunity = opportunity_get(actor=request.user, pk=pk)
    form = MoveForm({**request.POST.dict(), "opportunity": opportunity.pk})
    if not form.is_valid():
        raise Invalid(
            _("Choose a stage."),
            fields={k: [str(e) for e in v] for k, v in form.errors.items()},
        )
    try:
        moved = services.opportunity_move(
            actor=request.user,
            opportunity=opportunity,
            stage=form.cleaned_data["stage"],
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            lost_to=form.cleaned_data["lost_to"],
        )
    except Invalid as exc:
        messages.error(request, _messages_of(exc))
        return _detail(opportunity)
    messages.success(request, _moved_message(moved))
    return _detail(moved)


@require_POST
def opportunity_reopen_view(request, pk):
    opportunity = opportunity_get(actor=request.user, pk=pk)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        raise Invalid(_("Reload the page and try again."))
    reopened = services.opportunity_reopen(
        actor=request.user,
        opportunity=opportunity,
        version=form.cleaned_data["version"],
        stage=form.cleaned_data["stage"],
    )
    messages.success(
        request,
        _("Reopened in stage %(stage)s.") % {"stage": reopened.stage.name},
    )
    return _detail(reopened)


def _moved_message(opportunity) -> str:
    if opportunity.status == Opportunity.Status.WON:
        return _("%(name)s closed as won.") % {"name": opportunity.name}
    if opportunity.status == Opportunity.Status.LOST:
        return _("%(name)s closed as lost.") % {"name": opportunity.name}
    return _("%(name)s moved to %(stage)s.") % {
        "name": opportunity.name,
        "stage": opportunity.stage.name,
    }


# Pipeline board


def _board_context(request, params, **extra) -> dict:
    board = pipeline_board(actor=request.user, params=params)
    style_filter_form(board["filterset"].form)
    board["can_move"] = can(request.user, "sales.change_opportunity")
    board["today"] = timezone.localdate()
    board["competitors"] = MoveForm().fields["lost_to"].queryset
    board.update(extra)
    return board


@require_GET
def pipeline(request):
    """The board; with htmx (a filter changed) only the board is sent."""
    authorize(request.user, "sales.view_opportunity")
    context = _board_context(request, request.GET)
    if request.htmx and not request.htmx.boosted:
        return render(request, "sales/opportunities/_board.html", context)
    context.update(
        {
            "title": _("Pipeline"),
            "can_configure": can(request.user, "sales.change_stage"),
            "can_add": can(request.user, "sales.add_opportunity"),
        }
    )
    return render(request, "sales/opportunities/pipeline.html", context)


FILTER_PARAMS = ("owner", "department", "close_from", "close_to")


@require_POST
def pipeline_move(request):
    """A card dropped on another column (or a won/lost zone, with the reason): moves the
    opportunity and answers the board with updated cards and totals — 409 with a clear
    message when the card was stale, 400 when the move is refused, 404 outside the
    scope; the board is always the current one, so the card lands where it really is."""
    authorize(request.user, "sales.view_opportunity")
    params = {k: request.POST.get(k, "") for k in FILTER_PARAMS}
    form = MoveForm(request.POST)
    status, message, tone = 200, "", "success"
    if not form.is_valid():
        status, tone = 400, "danger"
        message = " ".join(
            f"{form.fields[name].label}: {errors[0]}"
            for name, errors in form.errors.items()
        )
    else:
        try:
            opportunity = opportunity_get(
                actor=request.user, pk=form.cleaned_data["opportunity"]
            )
            moved = services.opportunity_move(
                actor=request.user,
                opportunity=opportunity,
                stage=form.cleaned_data["stage"],
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                lost_to=form.cleaned_data["lost_to"],
            )
            message = _moved_message(moved)
        except DomainError as exc:
            status, tone = exc.status, "danger"
            message = _messages_of(exc)
            if exc.status == 409:
                tone = "warning"
    context = _board_context(request, params, board_message=message, board_tone=tone)
    return render(request, "sales/opportunities/_board.html", context, status=status)


# Pipeline stages (settings)


def _stages_page(request, *, form=None, status=200, editing=None, edit_form=None):
    usage = stage_usage()
    stages = list(stage_list())
    for stage in stages:
        stage.usage = usage.get(stage.pk, {"total": 0, "open": 0})
    return render(
        request,
        "sales/opportunities/stages.html",
        {
            "title": _("Pipeline stages"),
            "stages": stages,
            "form": form or StageForm(initial={"probability": 10}),
            "editing": editing,
            "edit_form": edit_form,
        },
        status=status,
    )


def _apply_errors(form, exc: DomainError) -> None:
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def stage_settings(request):
    """Add, edit, reorder, deactivate stages (sales.change_stage)."""
    authorize(request.user, "sales.change_stage")
    if request.method != "POST":
        editing = request.GET.get("edit")
        if editing:
            stage = stage_get(pk=editing)
            return _stages_page(
                request,
                editing=stage.pk,
                edit_form=StageForm(instance=stage, prefix="edit"),
            )
        return _stages_page(request)
    form = StageForm(request.POST)
    if not form.is_valid():
        return _stages_page(request, form=form, status=400)
    try:
        stage = services.stage_create(actor=request.user, data=form.cleaned_data)
    except DomainError as exc:
        _apply_errors(form, exc)
        return _stages_page(request, form=form, status=exc.status)
    messages.success(request, _("Stage %(name)s added.") % {"name": stage.name})
    return redirect("sales:stage-settings")


@require_POST
def stage_edit(request, pk):
    authorize(request.user, "sales.change_stage")
    stage = stage_get(pk=pk)
    form = StageForm(request.POST, instance=stage, prefix="edit")
    if not form.is_valid():
        return _stages_page(request, editing=stage.pk, edit_form=form, status=400)
    try:
        services.stage_update(actor=request.user, stage=stage, data=form.cleaned_data)
    except DomainError as exc:
        stage.refresh_from_db()
        _apply_errors(form, exc)
        return _stages_page(
            request, editing=stage.pk, edit_form=form, status=exc.status
        )
    messages.success(request, _("Stage saved."))
    return redirect("sales:stage-settings")


@require_POST
def stage_action(request, pk, action):
    """Up, down, deactivate, activate: a refusal is a message on the settings page."""
    authorize(request.user, "sales.change_stage")
    stage = stage_get(pk=pk)
    try:
        if action in ("up", "down"):
            services.stage_shift(
                actor=request.user, stage=stage, step=-1 if action == "up" else 1
            )
        elif action == "deactivate":
            services.stage_deactivate(actor=request.user, stage=stage)
            messages.success(
                request, _("Stage %(name)s deactivated.") % {"name": stage.name}
            )
        elif action == "activate":
            services.stage_activate(actor=request.user, stage=stage)
            messages.success(
                request, _("Stage %(name)s activated.") % {"name": stage.name}
            )
        else:
            raise NotFound(_("No such action."))
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, _messages_of(exc))
    return redirect("sales:stage-settings")


# Competitors


class CompetitorListView(ListPageView):
    spec_key = "sales.competitor"
    create_url_name = "sales:competitor-create"
    create_perm = "sales.add_competitor"


class CompetitorDetailView(DetailPageView):
    spec_key = "sales.competitor"
    fields = ["name", "website", "strengths", "weaknesses", "notes", "is_active"]
    edit_url_name = "sales:competitor-edit"
    edit_perm = "sales.change_competitor"
    list_url_name = "sales:competitor-list"
    template_name = "sales/opportunities/competitor_detail.html"

    def get_object(self, pk):
        return competitor_get(pk=pk)

    def extra_context(self, obj) -> dict:
        user = self.request.user
        if not can(user, "sales.view_opportunity"):
            return {"deals": None}
        return {"deals": competitor_opportunities(actor=user, competitor=obj)}


class CompetitorFormView(RecordFormView):
    spec_key = "sales.competitor"
    form_class = CompetitorForm
    create_service = services.competitor_create
    update_service = services.competitor_update
    success_url_name = "sales:competitor-detail"
    list_url_name = "sales:competitor-list"

    def get_object(self, pk):
        return competitor_get(pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user, "sales.change_competitor" if pk else "sales.add_competitor"
        )
        return super().get(request, pk)


urlpatterns = [
    path("opportunities/", OpportunityListView.as_view(), name="opportunity-list"),
    path(
        "opportunities/new/",
        OpportunityFormView.as_view(),
        name="opportunity-create",
    ),
    path(
        "opportunities/<int:pk>/",
        OpportunityDetailView.as_view(),
        name="opportunity-detail",
    ),
    path(
        "opportunities/<int:pk>/edit/",
        OpportunityFormView.as_view(),
        name="opportunity-edit",
    ),
    path(
        "opportunities/<int:pk>/products/",
        opportunity_product_add,
        name="opportunity-product-add",
    ),
    path(
        "opportunities/<int:pk>/products/<int:line_pk>/delete/",
        opportunity_product_remove,
        name="opportunity-product-remove",
    ),
    path(
        "opportunities/<int:pk>/move/",
        opportunity_move_view,
        name="opportunity-move",
    ),
    path(
        "opportunities/<int:pk>/reopen/",
        opportunity_reopen_view,
        name="opportunity-reopen",
    ),
    path("pipeline/", pipeline, name="pipeline"),
    path("pipeline/move/", pipeline_move, name="pipeline-move"),
    path("stages/", stage_settings, name="stage-settings"),
    path("stages/<int:pk>/", stage_edit, name="stage-edit"),
    path(
        "stages/<int:pk>/<str:action>/",
        stage_action,
        name="stage-action",
    ),
    path("competitors/", CompetitorListView.as_view(), name="competitor-list"),
    path(
        "competitors/new/",
        CompetitorFormView.as_view(),
        name="competitor-create",
    ),
    path(
        "competitors/<int:pk>/",
        CompetitorDetailView.as_view(),
        name="competitor-detail",
    ),
    path(
        "competitors/<int:pk>/edit/",
        CompetitorFormView.as_view(),
        name="competitor-edit",
    ),
]
