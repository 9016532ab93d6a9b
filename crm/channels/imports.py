"""The channel import specs (D5 sell-through, D6 stock counts): importing this module
registers them with core's import machinery (core autodiscovers `imports` modules, in
the web process and the Celery worker alike)."""

from crm.channels.services import inventory_import, sellthrough_import  # noqa: F401
