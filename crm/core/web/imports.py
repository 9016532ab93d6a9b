"""C4 import pages for every registered ImportSpec: upload, column mapping, dry run with
each row's fate, commit, progress of background jobs, error report."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.core import imports
from crm.core.errors import Invalid
from crm.core.models import ImportJob

RESULTS_PER_PAGE = 100
RUNNING = (ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING)
STATUS_TONES = {
    ImportJob.Status.UPLOADED: "secondary",
    ImportJob.Status.CHECKING: "info",
    ImportJob.Status.CHECKED: "primary",
    ImportJob.Status.IMPORTING: "info",
    ImportJob.Status.DONE: "success",
    ImportJob.Status.FAILED: "danger",
}
FATE_TONES = {
    "new": "success",
    "update": "info",
    "unchanged": "secondary",
    "duplicate": "warning",
    "error": "danger",
}


def import_action(key: str) -> dict:
    """An "Import" button for a list page's `extra_actions`, shown to who may add or change."""
    spec = imports.IMPORT_REGISTRY[key]
    return {
        "url": reverse_lazy("core:import", args=[key]),
        "label": gettext_lazy("Import"),
        "icon": "upload",
        "perms": [p for p in (spec.add_perm, spec.change_perm) if p],
    }


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args) if name else ""
    except NoReverseMatch:
        return ""


def _base_context(spec, title: str) -> dict:
    return {
        "steps": [
            (1, _("Upload")),
            (2, _("Map columns")),
            (3, _("Dry run")),
            (4, _("Import")),
        ],
        "spec": spec,
        "title": title,
        "list_url": _url(spec.list_url_name),
        "list_title": spec.title,
    }


@require_http_methods(["GET", "POST"])
def import_upload(request, key):
    """Step 1: choose a file; its headers are read and a mapping is suggested."""
    spec = imports.import_spec(key)
    spec.authorize(request.user)
    error, status = "", 200
    if request.method == "POST":
        try:
            job = imports.import_upload(
                actor=request.user, key=key, upload=request.FILES.get("file")
            )
        except Invalid as exc:
            error, status = exc.message, 400
        else:
            return redirect("core:import-map", key=key, pk=job.pk)
    targets = spec.targets(request.user)
    jobs = list(ImportJob.objects.filter(user=request.user, spec_key=key)[:10])
    for job in jobs:
        job.tone = STATUS_TONES.get(job.status, "primary")
    context = {
        **_base_context(spec, _("Import %(what)s") % {"what": spec.title}),
        "error": error,
        "fields": [t for t in targets.values() if not t.child],
        "children": [
            {"spec": c, "fields": [t for t in targets.values() if t.child == c.name]}
            for c in spec.children
        ],
        "match_key_labels": [
            str(m.label) for m in spec.available_match_keys(request.user)
        ],
        "jobs": jobs,
    }
    return render(request, "core/import_upload.html", context, status=status)


def import_template_download(request, key):
    spec = imports.import_spec(key)
    spec.authorize(request.user)
    response = HttpResponse(
        imports.import_template(spec, request.user), content_type=imports.XLSX_TYPE
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{key.replace(".", "-")}-template.xlsx"'
    )
    return response


@require_http_methods(["GET", "POST"])
def import_map(request, key, pk):
    """Step 2: which column goes into which field, and how rows find existing records.
    Submitting runs the dry run."""
    spec = imports.import_spec(key)
    spec.authorize(request.user)
    job = imports.import_job_get(actor=request.user, key=key, pk=pk)
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED):
        return redirect("core:import-job", key=key, pk=job.pk)
    mapping, match_key = job.mapping, job.match_key
    errors: dict = {}
    status = 200
    if request.method == "POST":
        mapping = [request.POST.get(f"column_{i}", "") for i in range(len(job.headers))]
        match_key = request.POST.get("match_key", "")
        try:
            job = imports.import_configure(
                actor=request.user, job=job, mapping=mapping, match_key=match_key
            )
            job, background = imports.import_check(actor=request.user, job=job)
        except Invalid as exc:
            errors, status = exc.fields or {"mapping": [exc.message]}, 400
        else:
            if background:
                messages.info(
                    request, _("The file is large; the dry run runs in the background.")
                )
            return redirect("core:import-job", key=key, pk=job.pk)
    targets = spec.targets(request.user)
    columns = [
        {
            "index": i,
            "letter": _column_letter(i),
            "header": header,
            "samples": [row[i] for row in job.samples if i < len(row) and row[i]],
            "target": mapping[i] if i < len(mapping) else "",
            "errors": errors.get(f"column_{i}", []),
        }
        for i, header in enumerate(job.headers)
    ]
    mapped = {c["target"] for c in columns if c["target"]}
    context = {
        **_base_context(spec, _("Import %(what)s") % {"what": spec.title}),
        "job": job,
        "columns": columns,
        "targets": list(targets.values()),
        "missing": [
            t
            for t in targets.values()
            if t.field.required and not t.child and t.name not in mapped
        ],
        "match_keys": spec.available_match_keys(request.user),
        "match_key": match_key,
        "errors": errors,
        "general_errors": errors.get("mapping", []) + errors.get("match_key", []),
    }
    return render(request, "core/import_map.html", context, status=status)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def import_job(request, key, pk):
    """Step 3 and 4: the dry run's result for every row (or its progress), then the
    commit's result."""
    spec = imports.import_spec(key)
    job = imports.import_job_get(actor=request.user, key=key, pk=pk)
    if request.htmx and not request.htmx.boosted:
        if job.status in RUNNING:
            return render(
                request,
                "core/_import_job.html",
                {"job": job, "spec": spec, "done": imports.job_progress(job)},
            )
        response = HttpResponse("")
        response["HX-Refresh"] = "true"  # finished: show the whole result page
        return response
    if job.status == ImportJob.Status.UPLOADED:
        return redirect("core:import-map", key=key, pk=job.pk)
    fate = request.GET.get("fate", "")
    results = [] if job.status in RUNNING else imports.job_results(job)
    shown = (
        [r for r in results if r["fate"] == fate] if fate in imports.FATES else results
    )
    page = Paginator(shown, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    detail = spec.detail_url_name
    for row in page:
        record = row.get("record")
        row["record_url"] = (
            _url(detail, record["pk"])
            if record and (row["fate"] != "new" or job.status == ImportJob.Status.DONE)
            else ""
        )
        row["fate_label"] = imports.FATE_LABELS[row["fate"]]
        row["tone"] = FATE_TONES[row["fate"]]
    summary = job.summary or {}
    context = {
        **_base_context(spec, _("Import %(what)s") % {"what": spec.title}),
        "job": job,
        "done": imports.job_progress(job),
        "running": job.status in RUNNING,
        "summary": summary,
        "tabs": [
            {
                "fate": f,
                "label": imports.FATE_LABELS[f],
                "count": summary.get(f, 0),
                "tone": FATE_TONES[f],
            }
            for f in imports.FATES
        ],
        "fate": fate if fate in imports.FATES else "",
        "page": page,
        "status_tone": STATUS_TONES.get(job.status, "primary"),
        "has_problems": any(summary.get(f) for f in imports.PROBLEMS),
        "can_commit": job.status == ImportJob.Status.CHECKED
        and not summary.get("problems")
        and (summary.get("new", 0) + summary.get("update", 0)) > 0,
        "can_remap": job.status
        in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED),
    }
    return render(request, "core/import_job.html", context)


@require_POST
def import_commit(request, key, pk):
    """Step 4: import for real, all or nothing."""
    job = imports.import_job_get(actor=request.user, key=key, pk=pk)
    try:
        job, background = imports.import_commit(actor=request.user, job=job)
    except Invalid as exc:
        messages.error(request, exc.message)
        return redirect("core:import-job", key=key, pk=job.pk)
    if background:
        messages.info(request, _("The import runs in the background."))
    return redirect("core:import-job", key=key, pk=job.pk)


def import_errors(request, key, pk):
    """The bad rows as an xlsx: row number, field, reason and the row's cells."""
    job = imports.import_job_get(actor=request.user, key=key, pk=pk)
    response = HttpResponse(
        imports.import_error_report(job), content_type=imports.XLSX_TYPE
    )
    stamp = timezone.localtime(job.updated_at).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = (
        f'attachment; filename="import-{job.pk}-errors-{stamp}.xlsx"'
    )
    return response
