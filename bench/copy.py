"""Bulk loading for the generator: COPY through psycopg, with the big tables' secondary
indexes dropped during the load and rebuilt once afterwards (far faster than maintaining
trigram and b-tree indexes row by row)."""

import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from django.db import connection


class Progress:
    """Prints `label: done/total (rate/s)` at most every two seconds, and once at the end."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.start = self.last = time.monotonic()

    def add(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= 2:
            self.last = now
            self._print(now)

    def finish(self) -> None:
        self._print(time.monotonic(), final=True)

    def _print(self, now: float, final: bool = False) -> None:
        elapsed = max(now - self.start, 1e-6)
        pct = f" {100 * self.done / self.total:5.1f}%" if self.total else ""
        end = " done" if final else ""
        print(
            f"  {self.label}: {self.done:,}/{self.total:,}{pct} "
            f"({self.done / elapsed:,.0f}/s, {elapsed:.0f}s){end}",
            flush=True,
        )


def copy_rows(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    total: int = 0,
    label: str | None = None,
) -> int:
    """COPY `rows` (tuples in `columns` order; None is NULL) into `table`. Returns the count."""
    progress = Progress(label or table, total)
    cols = ", ".join(f'"{c}"' for c in columns)
    n = 0
    with connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
                if n % 10_000 == 0:
                    progress.add(10_000)
    progress.add(n % 10_000)
    progress.finish()
    return n


def execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def reset_sequence(table: str, column: str = "id") -> None:
    """After COPY with explicit ids, move the id sequence past the largest one."""
    execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
        f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'
    )


@contextmanager
def indexes_dropped(tables: Sequence[str]):
    """Drop the secondary indexes of `tables` (not those behind primary keys or unique
    constraints) for the body, then rebuild them with generous maintenance memory."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [list(tables)],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET max_parallel_maintenance_workers = 2")
            for _name, definition in found:
                cursor.execute(definition)
        print(
            f"  rebuilt {len(found)} indexes on {', '.join(tables)} "
            f"({time.monotonic() - started:.0f}s)",
            flush=True,
        )
