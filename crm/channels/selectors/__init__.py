"""Reads of the channels app, one module per area; all apply the viewer's scope first.
Importing them registers their lists (X1), in the web process and the Celery worker."""

from crm.channels.selectors import (  # noqa: F401
    agreements,
    dashboard,
    deals,
    inventory,
    marketing,
    partners,
    scores,
    sellin,
    sellthrough,
)
