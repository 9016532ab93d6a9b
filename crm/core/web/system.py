"""Core pages: home, exports and export jobs, system parameters (Y2)."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language

from crm.core.errors import Invalid
from crm.core.exports import CONTENT_TYPES, export_filename, export_start
from crm.core.home import home_panels, shortcuts_for
from crm.core.lists import REGISTRY
from crm.core.models import AuditEvent, ExportJob, SystemParameter
from crm.core.numbering import sequence_rows, sequence_update
from crm.core.params import REGISTRY as PARAMS
from crm.core.params import all_params, params_update
from crm.core.scopes import authorize

set_language_view = login_not_required(set_language)


def home(request):
    """My work (S10): the panels modules register (follow-ups, instalments due,
    approvals, opportunities, company news), shortcuts and the dashboard counts."""
    shortcuts = shortcuts_for(request.user)
    return render(
        request,
        "core/home.html",
        {
            "title": _("Home"),
            "panels": home_panels(request.user),
            "shortcuts": shortcuts,
            "search_targets": [s for s in shortcuts if s["searchable"]],
        },
    )


def export_view(request, key):
    """Export a list with the filters in the query string; large exports become a job."""
    params = {
        k: v for k, v in request.GET.lists() if k not in {"format", "page", "size"}
    }
    fmt = request.GET.get("format", "xlsx")
    data, job = export_start(actor=request.user, key=key, params=params, fmt=fmt)
    if job is not None:
        messages.info(request, _("The export is large and runs in the background."))
        return redirect("core:export-job", pk=job.pk)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(REGISTRY[key], fmt)}"'
    )
    return response


def export_job(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, user=request.user)
    template = "core/_export_job.html" if request.htmx else "core/export_job.html"
    return render(request, template, {"job": job, "title": _("Export")})


def export_jobs(request):
    jobs = ExportJob.objects.filter(user=request.user)[:50]
    return render(
        request, "core/export_jobs.html", {"jobs": jobs, "title": _("My exports")}
    )


def export_download(request, pk):
    job = get_object_or_404(
        ExportJob, pk=pk, user=request.user, status=ExportJob.Status.DONE
    )
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.file.name.rsplit("/", 1)[-1],
        content_type=CONTENT_TYPES[job.file_format],
    )


@require_http_methods(["GET", "POST"])
def parameters(request):
    """Y2: edit the system parameters (manage-system permission)."""
    authorize(request.user, "core.manage_system")
    values, errors, status = all_params(), {}, 200
    if request.method == "POST":
        submitted = {}
        for key, param in PARAMS.items():
            submitted[key] = (
                key in request.POST if param.kind is bool else request.POST.get(key, "")
            )
        try:
            params_update(actor=request.user, values=submitted)
        except Invalid as exc:
            errors, status = exc.fields, 400
            values = {**values, **submitted}
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Parameters saved."))
            return redirect("core:parameters")
    params = [
        {"param": p, "value": values.get(k), "errors": errors.get(k, [])}
        for k, p in PARAMS.items()
    ]
    groups = [
        (group, list(items))
        for group, items in groupby(params, key=lambda i: str(i["param"].group))
    ]
    history = AuditEvent.objects.filter(
        content_type__model="systemparameter"
    ).select_related("actor")[:20]
    keys = dict(SystemParameter.objects.values_list("pk", "key"))
    for event in history:
        event.param_key = keys.get(int(event.object_id), event.object_repr)
    return render(
        request,
        "core/parameters.html",
        {"groups": groups, "title": _("System parameters"), "history": history},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def sequences(request):
    """Number sequences: prefix and digits of each business number (manage-system permission)."""
    authorize(request.user, "core.manage_system")
    errors, status = {}, 200
    if request.method == "POST":
        key = request.POST.get("key", "")
        try:
            padding = int(request.POST.get("padding", ""))
        except ValueError:
            padding = -1
        try:
            sequence_update(
                actor=request.user,
                key=key,
                prefix=request.POST.get("prefix", ""),
                padding=padding,
            )
        except Invalid as exc:
            errors, status = {key: exc.fields}, 400
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Number sequence saved."))
            return redirect("core:sequences")
    rows = sequence_rows()
    for row in rows:
        row["errors"] = errors.get(row["key"], {})
    return render(
        request,
        "core/sequences.html",
        {"rows": rows, "title": _("Number sequences")},
        status=status,
    )
