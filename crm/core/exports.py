"""Exports: small ones answer at once, large ones (> CRM_EXPORT_SYNC_LIMIT rows) run as a job."""

import os
import socket

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core.errors import Invalid, NotFound
from crm.core.lists import REGISTRY, ListSpec, write_csv, write_xlsx
from crm.core.models import ExportJob
from crm.core.scopes import authorize

FORMATS = {"xlsx", "csv"}
# Stored with a job: the requester's language, so a worker writes the headers in it.
LANGUAGE_PARAM = "_language"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _spec(key: str) -> ListSpec:
    try:
        return REGISTRY[key]
    except KeyError:
        raise NotFound(_("No such list.")) from None


def _params(raw: dict) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, values in raw.items():
        q.setlist(key, values if isinstance(values, list) else [values])
    return q


def render_export(spec: ListSpec, user, params, fmt: str, progress=None) -> bytes:
    qs, _filterset = spec.queryset(user, params)
    rows = spec.export_rows(user, qs)
    return (
        write_xlsx(rows, spec.title or spec.key, progress)
        if fmt == "xlsx"
        else write_csv(rows)
    )


def export_filename(spec: ListSpec, fmt: str) -> str:
    return f"{spec.key.replace('.', '-')}-{timezone.localtime():%Y%m%d-%H%M%S}.{fmt}"


def export_start(
    *, actor, key: str, params: dict, fmt: str
) -> tuple[bytes | None, ExportJob | None]:
    """Export a list as the user sees it. Returns (file, None) when small, (None, job) when large."""
    authorize(actor, "core.export_data")
    if fmt not in FORMATS:
        raise Invalid(
            _("Unknown export format."), fields={"format": [_("Choose xlsx or csv.")]}
        )
    spec = _spec(key)
    authorize(actor, spec.view_perm)
    query = _params(params)
    qs, _filterset = spec.queryset(actor, query)
    limit = settings.CRM_EXPORT_SYNC_LIMIT
    if qs[: limit + 1].count() <= limit:
        return render_export(spec, actor, query, fmt), None
    with transaction.atomic():
        job = ExportJob.objects.create(
            user=actor,
            list_key=key,
            params={**params, LANGUAGE_PARAM: translation.get_language()},
            file_format=fmt,
        )
        transaction.on_commit(lambda: _dispatch(job.pk))
    return None, job


def _dispatch(job_id: int) -> None:
    from crm.core.tasks import run_export

    run_export.delay(job_id)


def export_run(job_id: int) -> ExportJob:
    """Write a job's file, updating its progress; called by the Celery task.

    Whatever goes wrong marks the job failed with the error, so its page never waits for
    ever on a job nobody is running any more.
    """
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    params = dict(job.params)
    language = params.pop(LANGUAGE_PARAM, None) or settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            spec = _spec(job.list_key)
            query = _params(params)
            qs, _filterset = spec.queryset(job.user, query)
            job.status, job.total = ExportJob.Status.RUNNING, qs.count()
            job.worker = worker
            job.save(update_fields=["status", "total", "worker", "updated_at"])

            def progress(done: int) -> None:
                ExportJob.objects.filter(pk=job.pk).update(
                    done=done, updated_at=timezone.now()
                )

            data = render_export(spec, job.user, query, job.file_format, progress)
            job.file.save(
                export_filename(spec, job.file_format), ContentFile(data), save=False
            )
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error=str(exc)[:2000],
            worker=worker,
            updated_at=timezone.now(),
        )
        raise
    job.status, job.done = ExportJob.Status.DONE, job.total
    job.save(update_fields=["file", "status", "done", "updated_at"])
    return job
