"""Scheduled jobs of the sales app (X3), run by Celery beat (CELERY_BEAT_SCHEDULE in
config/settings/base.py)."""

import datetime

from celery import shared_task


@shared_task(name="crm.sales.tasks.send_receivable_reminders")
def send_receivable_reminders(today: str | None = None) -> int:
    """S6: tell owners of instalments falling due within the reminder days, and of
    overdue ones (first overdue day, then weekly). `today` (ISO date) is for reruns."""
    from crm.sales.services.payments import receivable_reminders_send

    day = datetime.date.fromisoformat(today) if today else None
    return receivable_reminders_send(today=day)
