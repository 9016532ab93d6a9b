from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        # Each app registers its lists (ListSpec) in its selectors module. A web process
        # imports them through its URLs; a Celery worker has no URLs, so without this a
        # background export found no list ("No such list.") and failed. Import specs
        # likewise live in each app's imports module.
        autodiscover_modules("selectors", "imports")
