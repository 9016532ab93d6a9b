from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from crm.core.exports import export_run
from crm.core.models import ExportJob


@shared_task(name="crm.core.tasks.run_export")
def run_export(job_id: int) -> int:
    return export_run(job_id).pk


@shared_task(name="crm.core.tasks.purge_old_exports")
def purge_old_exports(days: int = 7) -> int:
    """Export files are kept a week, then deleted with their job."""
    old = ExportJob.objects.filter(created_at__lt=timezone.now() - timedelta(days=days))
    count = 0
    for job in old.iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count


@shared_task(name="crm.core.tasks.run_import")
def run_import(job_id: int, mode: str) -> int:
    """C4: a large import's dry run ("check") or commit, in one transaction."""
    from crm.core.imports import import_run

    return import_run(job_id, mode).pk


@shared_task(name="crm.core.tasks.purge_old_imports")
def purge_old_imports(days: int = 7) -> int:
    """Uploaded files and row results are kept a week, then deleted with their job."""
    from crm.core.models import ImportJob

    old = ImportJob.objects.filter(created_at__lt=timezone.now() - timedelta(days=days))
    count = 0
    for job in old.iterator():
        for stored in (job.file, job.report):
            if stored:
                stored.delete(save=False)
        job.delete()
        count += 1
    return count


# X4 notifications: the e-mail of a notification, sent after its transaction committed.


@shared_task(name="crm.core.tasks.send_notification_email")
def send_notification_email(notification_id: int) -> bool:
    from crm.core.notifications import notification_email_send

    return notification_email_send(notification_id)
