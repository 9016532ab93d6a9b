"""Scheduled jobs of the channels app (X3), run by Celery beat (CELERY_BEAT_SCHEDULE in
config/settings/base.py)."""

import datetime

from celery import shared_task


@shared_task(name="crm.channels.tasks.warn_expiring_agreements")
def warn_expiring_agreements(today: str | None = None) -> dict:
    """D2: expire agreements whose end has passed, and warn channel managers of active
    agreements ending within `agreement_expiry_warning_days` (once per agreement).
    `today` (ISO date) is for reruns."""
    from crm.channels.services.agreements import agreements_expiry_run

    day = datetime.date.fromisoformat(today) if today else None
    return agreements_expiry_run(today=day)


@shared_task(name="crm.channels.tasks.expire_deal_registrations")
def expire_deal_registrations(today: str | None = None) -> int:
    """D10: approved deal registrations whose protection has ended become expired.
    `today` (ISO date) is for reruns."""
    from crm.channels.services.deals import deal_registrations_expire

    day = datetime.date.fromisoformat(today) if today else None
    return deal_registrations_expire(today=day)
