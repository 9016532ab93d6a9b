"""Names shared by the generator and the benchmark."""

import os

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench"
)
SETTINGS = "config.settings.bench"
# The benchmark's login: a sales manager whose roles see their department tree.
USERNAME = "bench_manager"
PASSWORD = "Bench@2026"


def setup_django(database_url: str = DATABASE_URL) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django

    django.setup()
