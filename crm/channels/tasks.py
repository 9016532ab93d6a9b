"""Scheduled jobs of the channels app (X3), run by Celery beat (CELERY_BEAT_SCHEDULE in
config/settings/base.py)."""
