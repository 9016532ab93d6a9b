"""S1 lead pages: list (search, filters, export, import), detail with follow-ups and
history, create/edit, assignment, conversion, the assignment rules, and the public web
form. Thin views over crm.sales.selectors.leads and crm.sales.services.leads."""

import ipaddress
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.core.errors import Conflict, DomainError, Invalid, NotFound
from crm.core.scopes import authorize, can
from crm.core.web.imports import import_action
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.customers.selectors import customer_by_number
from crm.sales.models import Lead
from crm.sales.selectors.leads import (
    assignment_rule_get,
    customer_contact_choices,
    lead_customer_candidates,
    lead_customer_get,
    lead_follow_ups,
    lead_get,
    rule_candidates,
)
from crm.sales.services import leads as services
from crm.sales.web.leads_forms import (
    AssignForm,
    AssignmentRuleForm,
    ConvertForm,
    FollowUpForm,
    LeadEditForm,
    LeadForm,
    WebLeadForm,
    issue_token,
    min_fill_seconds,
    read_token,
)

# Leads


class LeadListView(ListPageView):
    spec_key = "sales.lead"
    create_url_name = "sales:lead-create"
    create_perm = "sales.add_lead"

    @property
    def extra_actions(self):
        return [
            import_action("sales.lead"),
            {
                "url": reverse("sales:assignment-rule-list"),
                "label": _("Assignment rules"),
                "icon": "shuffle",
                "perms": ["sales.view_assignmentrule"],
            },
        ]


def _url(name: str, *args) -> str:
    """A link to another area's page, or "" while that page does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


class LeadDetailView(DetailPageView):
    """A lead: its details, follow-ups (recorded here), history; assignment and
    conversion; once converted, links to what it became and nothing to edit."""

    spec_key = "sales.lead"
    template_name = "sales/leads/detail.html"
    fields = [
        "number",
        "name",
        "company",
        "job_title",
        "mobile",
        "phone",
        "email",
        "region",
        "address",
        "industry",
        "source",
        "source_detail",
        "status",
        "disqualify_reason",
        "requirement",
        "next_follow_up_on",
        "owner",
        "department",
        "assigned_at",
        "submitted_ip",
        "created_at",
        "updated_at",
    ]
    list_url_name = "sales:lead-list"
    follow_up_form = None

    def get_object(self, pk):
        return lead_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        is_open = obj.status != Lead.Status.CONVERTED
        can_follow_up = is_open and can(user, "sales.add_leadfollowup")
        can_assign = is_open and can(user, "sales.assign_lead")
        return {
            "lead": obj,
            "edit_url": reverse("sales:lead-edit", args=[obj.pk])
            if is_open and can(user, "sales.change_lead")
            else "",
            "follow_ups": lead_follow_ups(actor=user, lead=obj),
            "follow_up_form": (self.follow_up_form or FollowUpForm())
            if can_follow_up
            else None,
            "can_assign": can_assign,
            "assign_form": AssignForm(user=user) if can_assign else None,
            "can_convert": obj.status
            not in (Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED)
            and can(user, "sales.change_lead"),
            "customer_url": _url("customers:customer-detail", obj.customer_id)
            if obj.customer_id
            else "",
            "contact_url": _url("customers:contact-detail", obj.contact_id)
            if obj.contact_id
            else "",
            "opportunity_url": _url("sales:opportunity-detail", obj.opportunity_id)
            if obj.opportunity_id
            else "",
        }


class LeadFollowUpView(LeadDetailView):
    """Record a follow-up from the lead's page; bad input shows the page again with the
    form's errors."""

    http_method_names = ["post"]

    def post(self, request, pk):
        lead = lead_get(actor=request.user, pk=pk)
        form = FollowUpForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.lead_follow_up_create(
                    actor=request.user, lead=lead, data=form.cleaned_data
                )
            except DomainError as exc:
                if exc.status in (403, 404, 409):
                    raise
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Follow-up recorded."))
                return redirect(
                    reverse("sales:lead-detail", args=[pk]) + "#tab-follow-ups"
                )
        self.follow_up_form = form
        response = self.get(request, pk)
        response.status_code = status
        return response


class LeadFormView(RecordFormView):
    spec_key = "sales.lead"
    form_class = LeadForm
    create_service = services.lead_create
    update_service = services.lead_update
    success_url_name = "sales:lead-detail"
    list_url_name = "sales:lead-list"

    def get_object(self, pk):
        lead = lead_get(actor=self.request.user, pk=pk)
        if lead.status == Lead.Status.CONVERTED:
            raise Conflict(_("This lead was converted; it is read-only."))
        return lead

    def get_form(self, obj=None, data=None):
        form_class = LeadEditForm if obj is not None else LeadForm
        return form_class(data, instance=obj, user=self.request.user)

    def get(self, request, pk=None):
        authorize(request.user, "sales.change_lead" if pk else "sales.add_lead")
        return super().get(request, pk)


@require_POST
def lead_assign(request, pk):
    lead = lead_get(actor=request.user, pk=pk)
    authorize(request.user, "sales.assign_lead")
    form = AssignForm(request.POST, user=request.user)
    if not form.is_valid():
        raise Invalid(
            _("Choose an active employee."),
            fields={"owner": [_("Choose an active employee.")]},
        )
    lead = services.lead_assign(
        actor=request.user, lead=lead, owner=form.cleaned_data["owner"]
    )
    messages.success(request, _("Lead assigned to %(name)s.") % {"name": lead.owner})
    return redirect("sales:lead-detail", pk=pk)


@require_POST
def lead_assign_by_rule(request, pk):
    lead = lead_get(actor=request.user, pk=pk)
    lead = services.lead_assign_by_rule(actor=request.user, lead=lead)
    messages.success(
        request, _("Lead assigned by rule to %(name)s.") % {"name": lead.owner}
    )
    return redirect("sales:lead-detail", pk=pk)


def lead_convert(request, pk):
    """Convert a lead: the page first suggests customers it may already be (link to one
    instead of creating a duplicate), then what to create."""
    user = request.user
    authorize(user, "sales.change_lead")
    lead = lead_get(actor=user, pk=pk)
    if lead.status == Lead.Status.CONVERTED:
        raise Conflict(_("This lead was converted already."))
    chosen = request.POST.get("customer") or request.GET.get("customer")
    customer = lead_customer_get(actor=user, pk=chosen) if chosen else None
    number = (request.GET.get("customer_number") or "").strip()
    number_error = ""
    if number and customer is None:
        try:
            customer = customer_by_number(actor=user, number=number[:32])
        except NotFound as exc:
            number_error = exc.message
    contacts = customer_contact_choices(actor=user, customer=customer)
    initial = {
        "customer_name": lead.company or lead.name,
        "opportunity_name": lead.company or lead.name,
    }
    form = ConvertForm(
        request.POST if request.method == "POST" else None,
        contacts=contacts,
        customer=customer,
        initial=initial,
    )
    candidates, hidden_count = lead_customer_candidates(actor=user, lead=lead)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            linking = data["customer_mode"] == "existing"
            if not linking and not form.duplicates_confirmed():
                candidates, hidden_count = lead_customer_candidates(
                    actor=user,
                    lead=lead,
                    name=data["customer_name"],
                    credit_code=data.get("customer_credit_code") or "",
                )
                if candidates or hidden_count:
                    form.confirm_on_next_save()
                    return _render_convert(
                        request, lead, form, customer, candidates, hidden_count
                    )
            try:
                lead = services.lead_convert(
                    actor=user,
                    lead=lead,
                    customer=customer if linking else None,
                    new_customer={
                        "name": data.get("customer_name"),
                        "credit_code": data.get("customer_credit_code"),
                    },
                    contact=data["contact"]
                    if data["contact_mode"] == "existing"
                    else None,
                    create_contact=True,
                    opportunity={
                        "name": data.get("opportunity_name"),
                        "amount": data.get("opportunity_amount"),
                        "expected_close_on": data.get("opportunity_expected_close_on"),
                    }
                    if data.get("create_opportunity")
                    else None,
                )
            except DomainError as exc:
                if exc.status in (403, 404, 409):
                    raise
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.fields or not set(exc.fields) & set(form.fields):
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Lead converted."))
                return redirect("sales:lead-detail", pk=lead.pk)
    return _render_convert(
        request,
        lead,
        form,
        customer,
        candidates,
        hidden_count,
        status,
        number=number,
        number_error=number_error,
    )


def _render_convert(
    request,
    lead,
    form,
    customer,
    candidates,
    hidden_count,
    status=200,
    *,
    number="",
    number_error="",
):
    return render(
        request,
        "sales/leads/convert.html",
        {
            "title": _("Convert lead %(number)s") % {"number": lead.number},
            "lead": lead,
            "form": form,
            "customer": customer,
            "candidates": candidates,
            "hidden_count": hidden_count,
            "can_add_customer": can(request.user, "customers.add_customer"),
            "customer_number": number,
            "number_error": number_error,
        },
        status=status,
    )


# Assignment rules


class AssignmentRuleListView(ListPageView):
    spec_key = "sales.assignmentrule"
    create_url_name = "sales:assignment-rule-create"
    create_perm = "sales.add_assignmentrule"

    @property
    def extra_actions(self):
        return [
            {
                "url": reverse("sales:lead-web-form"),
                "label": _("Public web form"),
                "icon": "window",
            }
        ]


class AssignmentRuleDetailView(DetailPageView):
    spec_key = "sales.assignmentrule"
    template_name = "sales/leads/rule_detail.html"
    fields = [
        "name",
        "source",
        "department",
        "include_subdepartments",
        "is_active",
        "last_assigned",
        "created_at",
        "updated_at",
    ]
    edit_url_name = "sales:assignment-rule-edit"
    edit_perm = "sales.change_assignmentrule"
    list_url_name = "sales:assignment-rule-list"

    def get_object(self, pk):
        return assignment_rule_get(pk=pk)

    def extra_context(self, obj):
        return {"candidates": rule_candidates(obj).select_related("department")}


class AssignmentRuleFormView(RecordFormView):
    spec_key = "sales.assignmentrule"
    form_class = AssignmentRuleForm
    create_service = services.assignment_rule_create
    update_service = services.assignment_rule_update
    success_url_name = "sales:assignment-rule-detail"
    list_url_name = "sales:assignment-rule-list"

    def get_object(self, pk):
        return assignment_rule_get(pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "sales.change_assignmentrule" if pk else "sales.add_assignmentrule",
        )
        return super().get(request, pk)


# The public web form


def client_ip(request) -> str | None:
    """The sender's address: REMOTE_ADDR, or the header a trusted reverse proxy sets
    (CRM_CLIENT_IP_HEADER, e.g. HTTP_X_REAL_IP; only set it behind such a proxy, or
    anyone can pick their own address and escape the rate limit)."""
    header = getattr(settings, "CRM_CLIENT_IP_HEADER", "")
    raw = (request.META.get(header) if header else None) or request.META.get(
        "REMOTE_ADDR", ""
    )
    raw = str(raw).split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def rate_limited(ip: str | None) -> bool:
    """At most CRM_LEAD_FORM_RATE submissions per CRM_LEAD_FORM_WINDOW seconds from one
    address (5 per 10 minutes). The counter lives in the shared cache (Redis in
    production), so every app server counts together; add() starts a window, incr()
    counts atomically."""
    limit = int(getattr(settings, "CRM_LEAD_FORM_RATE", 5))
    window = int(getattr(settings, "CRM_LEAD_FORM_WINDOW", 600))
    key = f"crm:sales:lead-web-form:{ip or 'unknown'}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, timeout=window)
        count = 1
    return count > limit


WEB_FORM_TEMPLATE = "sales/leads/web_form.html"
TOO_MANY = gettext_lazy(
    "Too many submissions from your network. Please wait a few minutes and try again."
)


def _web_form_page(request, form, *, status=200, error="", done=False, page=None):
    """The form (with a fresh token: the clock starts anew), or the thanks. `page` is
    the page the form is embedded in, kept from the first showing's Referer."""
    if not done:
        if page is None:
            page = request.META.get("HTTP_REFERER", "")
        token = issue_token(referer=page)
        if form.is_bound:
            form.data = form.data.copy()
            form.data["token"] = token
        else:
            form.initial["token"] = token
    return render(
        request,
        WEB_FORM_TEMPLATE,
        {"form": form, "error": error, "done": done, "title": _("Contact us")},
        status=status,
    )


# Public: no login (an anonymous visitor fills it), and no CSRF check. The form is meant
# to be embedded in the company's other sites (an iframe), where our CSRF cookie is not
# sent (third-party context); and there is no session whose authority a forged request
# could borrow: a submission only creates a lead. Forgery and spam are kept out instead by
# the signed timestamp token (it proves the form was served by us, and when: posting
# faster than a person can type is refused), the honeypot field, and the per-address rate
# limit. Framing is allowed for the same reason: the page carries no logged-in action.
@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(xframe_options_exempt, name="dispatch")
class LeadWebFormView(View):
    http_method_names = ["get", "post"]

    def get(self, request):
        return _web_form_page(request, WebLeadForm())

    def post(self, request):
        ip = client_ip(request)
        form = WebLeadForm(request.POST)
        payload = read_token(request.POST.get("token", ""))
        page = payload.get("r", "") if payload else ""
        if rate_limited(ip):
            return _web_form_page(request, form, status=429, error=TOO_MANY, page=page)
        if (request.POST.get("website") or "").strip():
            # A bot filled the hidden field: thank it and store nothing.
            return _web_form_page(request, form, done=True)
        if payload is None:
            return _web_form_page(
                request,
                form,
                status=400,
                error=_("This form has expired. Please check it and send it again."),
                page="",
            )
        if time.time() - payload["t"] < min_fill_seconds():
            return _web_form_page(
                request,
                form,
                status=400,
                page=page,
                error=_(
                    "That was very quick. Please check the form and send it again."
                ),
            )
        if not form.is_valid():
            return _web_form_page(request, form, status=400, page=page)
        try:
            services.lead_submit_web_form(
                data=form.lead_data(), ip=ip, source_detail=page
            )
        except Invalid as exc:
            for name, errors in exc.fields.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
            return _web_form_page(request, form, status=400, page=page)
        return _web_form_page(request, form, done=True)


urlpatterns = [
    path("leads/", LeadListView.as_view(), name="lead-list"),
    path("leads/new/", LeadFormView.as_view(), name="lead-create"),
    path("leads/web-form/", LeadWebFormView.as_view(), name="lead-web-form"),
    path("leads/<int:pk>/", LeadDetailView.as_view(), name="lead-detail"),
    path("leads/<int:pk>/edit/", LeadFormView.as_view(), name="lead-edit"),
    path(
        "leads/<int:pk>/follow-ups/",
        LeadFollowUpView.as_view(),
        name="lead-follow-up",
    ),
    path("leads/<int:pk>/assign/", lead_assign, name="lead-assign"),
    path(
        "leads/<int:pk>/assign-by-rule/",
        lead_assign_by_rule,
        name="lead-assign-by-rule",
    ),
    path("leads/<int:pk>/convert/", lead_convert, name="lead-convert"),
    path(
        "leads/rules/",
        AssignmentRuleListView.as_view(),
        name="assignment-rule-list",
    ),
    path(
        "leads/rules/new/",
        AssignmentRuleFormView.as_view(),
        name="assignment-rule-create",
    ),
    path(
        "leads/rules/<int:pk>/",
        AssignmentRuleDetailView.as_view(),
        name="assignment-rule-detail",
    ),
    path(
        "leads/rules/<int:pk>/edit/",
        AssignmentRuleFormView.as_view(),
        name="assignment-rule-edit",
    ),
]
