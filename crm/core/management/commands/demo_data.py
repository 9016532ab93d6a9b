"""Load realistic demo data: every installed app's `demo.load()` runs, in INSTALLED_APPS order.

Idempotent: each loader looks records up by their natural keys, so running it twice adds nothing.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Load the demo data set (Chinese names, regions, products). Safe to run again."
    )

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if not config.name.startswith("crm.") or find_spec(module_name) is None:
                continue
            with transaction.atomic():
                summary = import_module(module_name).load()
            self.stdout.write(f"  {config.label}: {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
