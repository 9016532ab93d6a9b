"""Partner portal pages: sell-through (销售上报), the partner's end customers and API keys.

Reports: list, a new report by form (line rows), detail, and upload of an xlsx/csv file.
The upload runs through core's import machinery (crm.core.imports: upload, dry run,
commit, error report); core's own import pages live under the HQ path /import/, which
partner users never reach, so these are thin portal pages calling the same core
functions. API keys (partner admins): create (shown once), list, revoke. Every read is
by `request.partner`: another partner's id is 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.channels.models import SellThroughReport
from crm.channels.models.sellthrough import SellThroughUpload
from crm.channels.portal.access import portal_view
from crm.channels.selectors.sellthrough import (  # also registers the list specs
    portal_api_key_get,
    portal_api_keys,
    portal_end_customer_rows,
    portal_report_get,
    report_lines,
)
from crm.channels.services import sellthrough as services
from crm.channels.services.sellthrough_import import KEY as IMPORT_KEY
from crm.channels.services.sellthrough_import import SellThroughImport
from crm.channels.web.sellthrough_forms import (
    ApiKeyForm,
    LineFormSet,
    ReportHeaderForm,
    UploadForm,
)
from crm.core import imports
from crm.core.errors import Conflict, DomainError, Invalid, NotFound
from crm.core.lists import REGISTRY
from crm.core.models import ImportJob
from crm.core.web.views import style_filter_form

BASE = "channels/portal/base.html"
NEW_ROWS = 3
RUNNING = (ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING)


@portal_view
def sellthrough_list(request):
    spec = REGISTRY["channels.portal_sellthroughreport"]
    try:
        qs, filterset = spec.queryset(request.user, request.GET)
    except Invalid as exc:
        messages.error(request, exc.message)
        qs, filterset = spec.base_queryset(request.user).none(), None
    page, paginator = spec.paginate(qs, request.GET)
    if filterset is not None:
        style_filter_form(filterset.form)
    return render(
        request,
        "channels/portal/sellthrough/list.html",
        {
            "title": _("Sales reports"),
            "page": page,
            "paginator": paginator,
            "filterset": filterset,
            "q": request.GET.get("q", ""),
        },
    )


def _line_errors(formset, filled, exc: DomainError) -> bool:
    """Put the service's `lines.<i>.<field>` errors on the rows they name."""
    placed = False
    for key, errors in exc.fields.items():
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "lines" or not parts[1].isdigit():
            continue
        position = int(parts[1])
        if position >= len(filled):
            continue
        form = formset.forms[filled[position][0]]
        for error in errors:
            form.add_error(parts[2] if parts[2] in form.fields else None, error)
        placed = True
    return placed


@portal_view
@require_http_methods(["GET", "POST"])
def sellthrough_create(request):
    """A report typed in: the report id (proposed) and one row per sale."""
    partner, status = request.partner, 200
    if request.method == "POST":
        header = ReportHeaderForm(request.POST)
        formset = LineFormSet(request.POST, prefix="lines")
        if header.is_valid() and formset.is_valid():
            filled = formset.filled()
            try:
                report = services.sell_through_report_submit(
                    actor=request.user,
                    partner=partner,
                    reference=header.cleaned_data["reference"],
                    lines=[line for _index, line in filled],
                    source=SellThroughReport.Source.PORTAL,
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                status = exc.status
                if isinstance(exc, Conflict) or "reference" in exc.fields:
                    header.add_error("reference", exc.message)
                elif not _line_errors(formset, filled, exc):
                    header.add_error(None, exc.message)
            else:
                if report.replayed:
                    messages.info(
                        request,
                        _(
                            "This report was submitted before with the same lines; "
                            "nothing was counted twice."
                        ),
                    )
                else:
                    messages.success(request, _("Report submitted."))
                return redirect("portal:sellthrough-detail", pk=report.pk)
        else:
            status = 400
    else:
        header = ReportHeaderForm(
            initial={"reference": services.propose_reference(partner)}
        )
        today = {"sold_on": timezone.localdate()}
        formset = LineFormSet(prefix="lines", initial=[today] * NEW_ROWS)
    return render(
        request,
        "channels/portal/sellthrough/form.html",
        {"title": _("New sales report"), "header": header, "formset": formset},
        status=status,
    )


@portal_view
def sellthrough_detail(request, pk):
    report = portal_report_get(partner=request.partner, pk=pk)
    return render(
        request,
        "channels/portal/sellthrough/detail.html",
        {"title": report.reference, "report": report, "lines": report_lines(report)},
    )


# Upload


def _spec() -> SellThroughImport:
    return imports.import_spec(IMPORT_KEY)


def _upload_get(request, pk) -> SellThroughUpload:
    """The user's own upload of their partner (another's: 404)."""
    job = imports.import_job_get(actor=request.user, key=IMPORT_KEY, pk=pk)
    upload = (
        SellThroughUpload.objects.select_related("report")
        .filter(job=job, partner=request.partner)
        .first()
    )
    if upload is None:
        raise NotFound(_("Not found."))
    upload.job = job
    return upload


@portal_view
@require_http_methods(["GET", "POST"])
def sellthrough_upload(request):
    """Step 1: a file (and the report id when the file has none): stored, its columns
    recognised, and the dry run started."""
    spec, status = _spec(), 200
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                job = imports.import_upload(
                    actor=request.user, key=IMPORT_KEY, upload=form.cleaned_data["file"]
                )
                SellThroughUpload.objects.create(
                    job=job,
                    partner=request.partner,
                    reference=form.cleaned_data["reference"].strip(),
                )
                job = imports.import_configure(
                    actor=request.user, job=job, mapping=job.mapping, match_key=""
                )
                job, _background = imports.import_check(actor=request.user, job=job)
            except Invalid as exc:
                form.add_error(
                    "file" if not exc.fields or "file" in exc.fields else None,
                    exc.message,
                )
                status = 400
            else:
                return redirect("portal:sellthrough-upload-job", pk=job.pk)
        else:
            status = 400
    uploads = list(
        SellThroughUpload.objects.filter(
            partner=request.partner, job__user=request.user
        )
        .select_related("job", "report")
        .order_by("-pk")[:10]
    )
    targets = spec.targets(request.user)
    return render(
        request,
        "channels/portal/sellthrough/upload.html",
        {
            "title": _("Upload a sales report"),
            "form": form,
            "fields": list(targets.values()),
            "uploads": uploads,
        },
        status=status,
    )


@portal_view
def sellthrough_upload_job(request, pk):
    """Step 2 and 3: the dry run's problems per row (or progress), then the result."""
    upload = _upload_get(request, pk)
    job = upload.job
    running = job.status in RUNNING
    results = [] if running else imports.job_results(job)
    problems = [r for r in results if r["fate"] in imports.PROBLEMS]
    summary = job.summary or {}
    return render(
        request,
        "channels/portal/sellthrough/upload_job.html",
        {
            "title": _("Upload a sales report"),
            "upload": upload,
            "job": job,
            "running": running,
            "done": imports.job_progress(job),
            "summary": summary,
            "problems": Paginator(problems, 100).get_page(request.GET.get("page")),
            "can_commit": job.status == ImportJob.Status.CHECKED
            and not summary.get("problems")
            and summary.get("new", 0) > 0,
        },
    )


@portal_view
@require_POST
def sellthrough_upload_commit(request, pk):
    """Step 4: store the report, all or nothing."""
    upload = _upload_get(request, pk)
    try:
        job, background = imports.import_commit(actor=request.user, job=upload.job)
    except Invalid as exc:
        messages.error(request, exc.message)
        return redirect("portal:sellthrough-upload-job", pk=upload.job.pk)
    if background:
        messages.info(request, _("The import runs in the background."))
        return redirect("portal:sellthrough-upload-job", pk=job.pk)
    upload.refresh_from_db()
    if job.status == ImportJob.Status.DONE and upload.report_id:
        if upload.replayed:
            messages.info(
                request,
                _(
                    "This report was submitted before with the same lines; nothing was "
                    "counted twice."
                ),
            )
        else:
            messages.success(request, _("Report submitted."))
        return redirect("portal:sellthrough-detail", pk=upload.report_id)
    return redirect("portal:sellthrough-upload-job", pk=job.pk)


@portal_view
def sellthrough_upload_template(request):
    response = HttpResponse(
        imports.import_template(_spec(), request.user), content_type=imports.XLSX_TYPE
    )
    response["Content-Disposition"] = (
        'attachment; filename="sell-through-template.xlsx"'
    )
    return response


@portal_view
def sellthrough_upload_errors(request, pk):
    upload = _upload_get(request, pk)
    response = HttpResponse(
        imports.import_error_report(upload.job), content_type=imports.XLSX_TYPE
    )
    response["Content-Disposition"] = (
        f'attachment; filename="sell-through-{upload.job.pk}-errors.xlsx"'
    )
    return response


# End customers


@portal_view
def customer_list(request):
    """The partner's end customers (from its reports) with what it sold to each."""
    q = (request.GET.get("q") or "").strip().replace("\x00", "")
    rows = portal_end_customer_rows(request.partner, q)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/portal/sellthrough/customers.html",
        {"title": _("End customers"), "page": page, "q": q},
    )


# API keys (partner admins)


@portal_view(admin=True)
@require_http_methods(["GET", "POST"])
def apikey_list(request):
    """The partner's keys; creating one shows it once, on this answer only."""
    form, created, raw, status = ApiKeyForm(request.POST or None), None, "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created, raw = services.api_key_create(
                    actor=request.user,
                    partner=request.partner,
                    name=form.cleaned_data["name"],
                )
            except Invalid as exc:
                form.add_error("name", exc.message)
                status = 400
            else:
                form = ApiKeyForm()
        else:
            status = 400
    response = render(
        request,
        "channels/portal/sellthrough/apikeys.html",
        {
            "title": _("API keys"),
            "form": form,
            "keys": portal_api_keys(request.partner),
            "created": created,
            "raw_key": raw,
            "api_url": request.build_absolute_uri(reverse("portal-sellthrough-list")),
        },
        status=status,
    )
    if raw:
        response["Cache-Control"] = "no-store"
    return response


@portal_view(admin=True)
@require_POST
def apikey_revoke(request, pk):
    key = portal_api_key_get(partner=request.partner, pk=pk)
    services.api_key_revoke(actor=request.user, key=key)
    messages.success(request, _("Key %(name)s revoked.") % {"name": key.name})
    return redirect("portal:apikey-list")


urlpatterns = [
    path("sell-through/", sellthrough_list, name="sellthrough-list"),
    path("sell-through/new/", sellthrough_create, name="sellthrough-create"),
    path("sell-through/<int:pk>/", sellthrough_detail, name="sellthrough-detail"),
    path("sell-through/upload/", sellthrough_upload, name="sellthrough-upload"),
    path(
        "sell-through/upload/template/",
        sellthrough_upload_template,
        name="sellthrough-upload-template",
    ),
    path(
        "sell-through/upload/<int:pk>/",
        sellthrough_upload_job,
        name="sellthrough-upload-job",
    ),
    path(
        "sell-through/upload/<int:pk>/commit/",
        sellthrough_upload_commit,
        name="sellthrough-upload-commit",
    ),
    path(
        "sell-through/upload/<int:pk>/errors/",
        sellthrough_upload_errors,
        name="sellthrough-upload-errors",
    ),
    path("customers/", customer_list, name="customer-list"),
    path("api-keys/", apikey_list, name="apikey-list"),
    path("api-keys/<int:pk>/revoke/", apikey_revoke, name="apikey-revoke"),
]
