"""X6 SQL side of the benchmark: queries per request, and the floor (issue 6, item 3).

Queries are counted in this process with Django's test client logged in as the bench
manager (force_login) and CaptureQueriesContext. Each URL is requested twice and the
second request is counted, as a warm gunicorn worker would serve it (per-process caches
of permissions, content types and settings already filled).

The floor of a read endpoint is its main SQL query timed alone. Rule: every SELECT the
counted request sent is re-run through a separate psycopg connection (the exact SQL text
the app sent: Django's psycopg 3 backend binds parameters on the client side, so the
captured text is what reached the server), each three times after one warm run; the one
with the highest median is the main query. It is then run `runs` more times (warm) and
its median is the SQL p50 (fewer runs, at least 3, for a query so slow that they would
take more than a minute). `all_sql_ms` adds up the medians of every captured SELECT:
the database's share of one request, if its queries ran back to back.
"""

import statistics
import time

import psycopg

SELECTION_RUNS = 3
SLOW_MS = 5_000  # slower than this on its warm run: timed once for the choice
BUDGET_MS = 60_000  # at most about a minute of timing runs per main query


def capture(client, path: str) -> tuple[object, list[str]]:
    """GET `path` twice; the second response and the SQL it sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response, [q["sql"] for q in ctx.captured_queries]


def is_timed_select(sql: str) -> bool:
    head = sql.lstrip().upper()
    return head.startswith(("SELECT", "WITH")) and "FOR UPDATE" not in head


def _run_ms(conn, sql: str) -> float:
    started = time.perf_counter()
    with conn.cursor() as cursor:
        cursor.execute(sql)
        if cursor.description is not None:
            cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def floor(database_url: str, queries: list[str], runs: int = 20) -> dict:
    """Time the main query of one request (rule in the module docstring)."""
    selects = [q for q in queries if is_timed_select(q)]
    if not selects:
        return {"error": "no SELECT captured"}
    from django.conf import settings

    # The session settings the app's connections use (JIT off, planner costs): the floor
    # is the same query under the same planner, not a differently planned one.
    options = settings.DATABASES["default"].get("OPTIONS", {}).get("options", "")
    with psycopg.connect(database_url, autocommit=True, options=options) as conn:
        # As Django's connection: UTC, so date truncation matches the app's own.
        conn.execute("SET TIME ZONE 'UTC'")
        medians = []
        for sql in selects:
            first = _run_ms(conn, sql)
            if first > SLOW_MS:  # a very slow query is not repeated for the choice
                medians.append(first)
                continue
            medians.append(
                statistics.median(_run_ms(conn, sql) for _ in range(SELECTION_RUNS))
            )
        main = max(range(len(selects)), key=medians.__getitem__)
        sql = selects[main]
        # Fewer runs (at least 3) where `runs` of them would exceed the time budget.
        runs = max(3, min(runs, int(BUDGET_MS / max(medians[main], 0.001))))
        _run_ms(conn, sql)
        timings = sorted(_run_ms(conn, sql) for _ in range(runs))
    return {
        "main_query": sql,
        "main_query_index": queries.index(sql),
        "sql_p50_ms": round(statistics.median(timings), 3),
        "sql_min_ms": round(timings[0], 3),
        "sql_max_ms": round(timings[-1], 3),
        "runs": runs,
        "all_sql_ms": round(sum(medians), 3),
        "selects": len(selects),
    }
