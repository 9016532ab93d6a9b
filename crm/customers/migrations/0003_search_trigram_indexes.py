"""C3 search on PostgreSQL: trigram GIN indexes, so `name ILIKE '%华为%'`-style searches
(Django's icontains/istartswith: UPPER(col::text) LIKE UPPER(...)) stay fast on millions
of rows. The indexes are on UPPER(column::text), the expression those lookups compare.

Only on PostgreSQL; SQLite searches the same way, by scanning. Written as SQL because
GinIndex(OpClass(Upper(...))) renders correctly only when django.contrib.postgres is an
installed app (it registers OpClass as an index wrapper), which this project does not need.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("customer_name_trgm", "customers_customer", "name"),
    ("customer_mnemonic_trgm", "customers_customer", "mnemonic"),
    ("customer_number_trgm", "customers_customer", "number"),
    ("customer_initials_trgm", "customers_customer", "name_initials"),
    ("customer_phone_trgm", "customers_customer", "main_phone"),
    ("customer_fin_phone_trgm", "customers_customer", "finance_phone"),
    ("contact_name_trgm", "customers_contact", "name"),
    ("contact_mobile_trgm", "customers_contact", "mobile"),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for index, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(index)} ON {quote(table)} "
            f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
        )


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_load_regions")]

    operations = [
        TrigramExtension(),  # a no-op on other databases
        migrations.RunPython(add_indexes, remove_indexes),
    ]
