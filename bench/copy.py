"""Bulk loading for the generator: COPY through psycopg, with the big tables' secondary
indexes dropped during the load and rebuilt once afterwards (far faster than maintaining
trigram and b-tree indexes row by row)."""

import datetime
import json
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

from django.db import connection
from django.db.models import Model


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
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy,
    ):
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
    # Table and column names come from the generator's own code.
    execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "  # noqa: S608
        f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'
    )


INDEX_SETTINGS = (
    "SET maintenance_work_mem = '1GB'",
    "SET max_parallel_maintenance_workers = 2",
)
_builder: ThreadPoolExecutor | None = None
_builds: list[Future] = []


@contextmanager
def indexes_dropped(tables: Sequence[str], *, background: bool = False):
    """Drop the secondary indexes of `tables` (not those behind primary keys or unique
    constraints) for the body, then rebuild them with generous maintenance memory.

    With `background=True` the rebuilds are queued on connections of their own and run
    while the next steps generate (the gram GIN indexes of the customer tables take
    minutes on one core, while generating keeps the other one busy); the generator
    waits for them with `wait_for_indexes()` before it vacuums. Only for tables the
    later steps do not write to (CREATE INDEX blocks writes, not reads)."""
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
        # GIN first: they take longest and cannot use parallel workers.
        definitions = sorted((d for _n, d in found), key=lambda d: "USING gin" not in d)
        if background:
            _queue_builds(definitions)
            print(
                f"  rebuilding {len(found)} indexes on {', '.join(tables)} "
                "in the background",
                flush=True,
            )
        else:
            started = time.monotonic()
            with connection.cursor() as cursor:
                for statement in INDEX_SETTINGS:
                    cursor.execute(statement)
                for definition in definitions:
                    cursor.execute(definition)
            print(
                f"  rebuilt {len(found)} indexes on {', '.join(tables)} "
                f"({time.monotonic() - started:.0f}s)",
                flush=True,
            )


def _queue_builds(definitions: list[str]) -> None:
    global _builder
    if _builder is None:
        _builder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="index")
    _builds.extend(_builder.submit(_build, d) for d in definitions)


def _build(definition: str) -> tuple[str, float]:
    started = time.monotonic()
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        for statement in INDEX_SETTINGS:
            raw.execute(statement)
        raw.execute(definition)
    finally:
        raw.close()
    name = definition.split(" ON ")[0].split()[-1]  # CREATE [UNIQUE] INDEX name ON …
    return name, time.monotonic() - started


def wait_for_indexes() -> None:
    """Wait for the indexes rebuilding in the background; a failed build raises."""
    if not _builds:
        return
    started = time.monotonic()
    results = [future.result() for future in _builds]
    name, slowest = max(results, key=lambda r: r[1])
    print(
        f"  {len(results)} background indexes built (waited "
        f"{time.monotonic() - started:.0f}s; slowest {name}: {slowest:.0f}s)",
        flush=True,
    )
    _builds.clear()


# Text-format COPY: the generator formats its rows itself (f-strings), which is several
# times faster than write_row's per-value adaptation for the million-row tables.

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text(value) -> str:
    """One value in COPY text format (None is NULL); for values not known to be clean."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, datetime.datetime | datetime.date):
        value = value.isoformat()
    return str(value).translate(_ESCAPES)


class CopyWriter:
    """One `COPY table FROM STDIN` in text format, fed preformatted lines (tab-separated,
    `\\n`-terminated, escaped as `text` does) and sent in batches.

    With `separate=True` it runs on a connection of its own (with the generator's session
    settings), so one loop can feed several tables at once (a customer and its contacts,
    an order and its lines) without holding rows in memory; PostgreSQL parses each
    stream in its own backend, on the other core.
    """

    def __init__(
        self,
        table: str,
        columns: Sequence[str],
        *,
        total: int = 0,
        label: str | None = None,
        separate: bool = False,
        verbose: bool = True,
        batch: int = 5_000,
    ):
        self.table, self.columns, self.separate = table, list(columns), separate
        self.progress = Progress(label or table, total) if verbose else None
        self.label, self.batch, self.count = label or table, batch, 0
        self._buffer: list[str] = []
        self._stack = ExitStack()

    def __enter__(self) -> "CopyWriter":
        if self.separate:
            raw = connection.get_new_connection(connection.get_connection_params())
            raw.autocommit = True
            self._stack.callback(raw.close)
            for statement in SESSION_SETTINGS:
                raw.execute(statement)
            cursor = self._stack.enter_context(raw.cursor())
        else:
            cursor = self._stack.enter_context(connection.cursor())
        cols = ", ".join(f'"{c}"' for c in self.columns)
        self._copy = self._stack.enter_context(
            cursor.copy(f'COPY "{self.table}" ({cols}) FROM STDIN')
        )
        return self

    def write(self, line: str) -> None:
        self._buffer.append(line)
        if len(self._buffer) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._copy.write("".join(self._buffer).encode())
            self.count += len(self._buffer)
            if self.progress is not None:
                self.progress.add(len(self._buffer))
            self._buffer.clear()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._flush()
        self._stack.__exit__(exc_type, exc, tb)
        if exc_type is None:
            if self.progress is not None:
                self.progress.finish()
            else:
                print(f"  {self.label}: {self.count:,} done", flush=True)


# What the generator's sessions set: generated rows are consistent by construction, so
# per-row foreign-key triggers are skipped, and commits need not wait for the disk.
SESSION_SETTINGS = (
    "SET session_replication_role = replica",
    "SET synchronous_commit = off",
)


def copy_text(
    table: str,
    columns: Sequence[str],
    lines: Iterable[str],
    *,
    total: int = 0,
    label: str | None = None,
) -> int:
    """COPY preformatted lines (see CopyWriter) into `table`. Returns the count."""
    with CopyWriter(table, columns, total=total, label=label) as writer:
        for line in lines:
            writer.write(line)
    return writer.count


def model_tail(model, given: Sequence[str]) -> tuple[list[str], str]:
    """The columns of `model` not in `given`, and their defaults as a COPY text suffix
    (`"\\t…"`), so a generator names only the columns it varies and stays right when a
    migration adds a column with a default. A NOT NULL column without a default is an
    error: the generator must supply it."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given:
            continue
        value = field.get_default()  # "" for text fields without one
        if isinstance(value, Model):
            value = value.pk
        if value is None and not field.null:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
        columns.append(field.column)
        values.append(text(value))
    missing = set(given) - {f.column for f in model._meta.concrete_fields}
    if missing:
        raise ValueError(f"{model.__name__} has no column {sorted(missing)}")
    return columns, "".join(f"\t{v}" for v in values)
