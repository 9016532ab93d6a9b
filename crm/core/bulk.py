"""Inserting many new records at once (X6: imports of 100,000 rows).

On PostgreSQL the rows go in with COPY, the fastest way in, after one query that takes
their ids from the table's identity sequence (so the records know their ids, as after
bulk_create). Django's bulk_create sends each column as an array that psycopg builds in
Python (UNNEST), several times slower for wide rows. Other databases use bulk_create.
Either way each field's pre_save (auto_now) and database conversion apply as in save().
"""

from django.db import connections, router

BATCH = 1_000  # rows per bulk_create statement where COPY is not available


def insert_many(model, objs: list) -> list:
    """Insert unsaved records of one model; they get their ids. No signals are sent."""
    if not objs:
        return objs
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=BATCH)
    opts = model._meta
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [opts.db_table, opts.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
    fields = opts.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(opts.db_table)
    copy_sql = f"COPY {table} ({columns}) FROM STDIN"
    # psycopg's own cursor: its errors become Django's (IntegrityError…) as usual.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(copy_sql) as copy,
    ):
        for obj in objs:
            copy.write_row(
                [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
            )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs
