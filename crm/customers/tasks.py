"""Scheduled jobs of the customers app (X3), run daily by Celery beat
(CELERY_BEAT_SCHEDULE in config/settings/base.py)."""

from celery import shared_task


@shared_task(name="crm.customers.tasks.send_birthday_reminders")
def send_birthday_reminders() -> int:
    """C6: tell each contact's responsible employee of birthdays N days ahead."""
    from crm.customers.care import birthday_reminders_send

    return birthday_reminders_send()


@shared_task(name="crm.customers.tasks.recycle_idle_customers")
def recycle_idle_customers() -> int:
    """C8: customers without a follow-up for too long return to the public pool."""
    from crm.customers.pool import pool_recycle

    return pool_recycle()
