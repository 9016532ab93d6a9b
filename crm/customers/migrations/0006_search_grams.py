"""C3 search: gram indexes for 1- and 2-character fragments (see crm.core.search), on
PostgreSQL only. They replace the per-column trigram indexes of 0003, which a search by
one or two Chinese characters cannot use."""

from django.db import migrations

from crm.core import search

# The columns as crm.customers.selectors searches them (CUSTOMER_GRAMS, CONTACT_GRAMS).
INDEXES = [
    (
        "customer_search_grams",
        "customers_customer",
        ("name", "mnemonic", "number", "name_initials", "main_phone", "finance_phone"),
    ),
    ("contact_search_grams", "customers_contact", ("name", "mobile")),
]
TRIGRAM_INDEXES = [
    "customer_name_trgm",
    "customer_mnemonic_trgm",
    "customer_number_trgm",
    "customer_initials_trgm",
    "customer_phone_trgm",
    "customer_fin_phone_trgm",
    "contact_name_trgm",
    "contact_mobile_trgm",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(search.FUNCTIONS)
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    for index, table, columns in INDEXES:
        schema_editor.execute(search.create_index_sql(index, table, columns))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, _table, _columns in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')
    schema_editor.execute(search.DROP_FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_assign_permission_label")]

    operations = [migrations.RunPython(forwards, backwards)]
