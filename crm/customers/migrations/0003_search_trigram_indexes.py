"""C3 search on PostgreSQL: trigram GIN indexes, so `name ILIKE '%华为%'`-style searches
(Django's icontains: UPPER(col::text) LIKE UPPER(...)) stay fast on millions of rows.

Only on PostgreSQL (SQLite searches the same way, by scanning). The indexes are on
UPPER(column), the expression Django's icontains/istartswith compare.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models.functions import Upper

INDEXES = {
    "customer": {
        "name": "customer_name_trgm",
        "mnemonic": "customer_mnemonic_trgm",
        "number": "customer_number_trgm",
        "name_initials": "customer_initials_trgm",
        "main_phone": "customer_phone_trgm",
        "finance_phone": "customer_fin_phone_trgm",
    },
    "contact": {
        "name": "contact_name_trgm",
        "mobile": "contact_mobile_trgm",
    },
}


def _indexes(apps):
    for model_name, columns in INDEXES.items():
        model = apps.get_model("customers", model_name)
        for column, index_name in columns.items():
            index = GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=index_name)
            yield model, index


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.add_index(model, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_load_regions")]

    operations = [
        TrigramExtension(),  # a no-op on other databases
        migrations.RunPython(add_indexes, remove_indexes),
    ]
