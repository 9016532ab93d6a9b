"""X6 benchmark: `python -m bench.run` (or `make bench BENCH_ARGS=…`).

Against the database `make bench-data` filled (BENCH_DATABASE_URL or --database-url):
1. picks the parameters from the data: what the bench manager sees, a later page that
   exists, search terms common in the generated names, customer ids for the 360° page;
2. counts the SQL queries of every read endpoint in this process (page sizes 25 and 100
   for the lists) and times each one's main query alone: the floor (bench/floor.py);
3. collects the static files and starts gunicorn (config.wsgi, 2 workers,
   config.settings.bench: DEBUG off) on a free loopback port;
4. drives it with locust (bench/locustfile.py), logged in as the bench manager, every
   endpoint in turn at each concurrency (1 and 16), warm-up then measured duration;
5. removes the customers the create endpoint made, stops the server, measures the xlsx
   import (bench/importbench.py), counts the scale;
6. writes bench/results/latest.json plus a dated copy and the generated part of
   docs/PERFORMANCE.md (bench/report.py).

`--smoke` (CI): short phases at concurrency 1 and 4, a 500-row import, results in
bench/results/smoke.json, docs untouched; exits 1 if any endpoint failed or listed no rows.
"""

import argparse
import collections
import importlib.util
import json
import math
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from bench import conf, report

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
CUSTOMERS_API = "/api/v1/customers/customers/"
LATER_PAGE = 200  # the later page measured, or the last one when fewer exist
TERM_SHARE = 0.01  # search terms are matched by about this share of the visible names
CJK = re.compile(r"[\u4e00-\u9fff]{2}")
DETAIL_LINK = re.compile(r'href="/customers/(\d+)/"')
STRINGS = re.compile(r"'(?:[^']|'')*'")
NUMBERS = re.compile(r"\b\d+\b")


@dataclass
class Endpoint:
    key: str
    label: str
    paths: list[str]
    method: str = "GET"
    lists_rows: bool = False  # a list: must show rows; queries counted at 25 and 100
    sized: dict[int, str] = field(default_factory=dict)  # page size -> path
    payload: dict | None = None
    name_prefix: str = ""
    queries: dict | None = None
    floor: dict | None = None
    load: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def is_read(self) -> bool:
        return self.method == "GET"

    def as_json(self) -> dict:
        shown = self.paths[0] if len(self.paths) == 1 else f"{self.paths[0]} …"
        return {
            "key": self.key,
            "label": self.label,
            "method": self.method,
            "path": shown,
            "distinct_paths": len(self.paths),
            "queries": self.queries,
            "floor": self.floor,
            "load": self.load,
            "problems": self.problems,
        }


def with_query(path: str, **params) -> str:
    """`path` with `params` set in its query string (replacing any value they had)."""
    base, _, query = path.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query) if k not in params]
    return f"{base}?{urlencode([*pairs, *params.items()])}"


# 1. Parameters from the data


def pick_term(texts: list[str], grams, share: float = TERM_SHARE) -> tuple[str, int]:
    """The gram found in the share of `texts` closest to `share` (ties: the commoner,
    then the first in sort order), with the number of texts holding it."""
    counts = collections.Counter()
    for text in texts:
        counts.update(set(grams(text)))
    if not counts:
        return "", 0
    wanted = share * len(texts)
    term = min(counts, key=lambda g: (abs(counts[g] - wanted), -counts[g], g))
    return term, counts[term]


def chinese_bigrams(name: str):
    return (name[i : i + 2] for i in range(len(name) - 1) if CJK.match(name, i))


def initials_prefix(initials: str):
    prefix = initials[:3].lower()
    if len(prefix) == 3 and prefix.isascii() and prefix.isalpha():
        yield prefix


def discover(user, run_id: str) -> tuple[list[Endpoint], dict]:
    """The endpoints with their parameters picked from what `user` sees."""
    from django.db.models import F
    from django.test import Client

    from crm.core.lists import REGISTRY

    visible = REGISTRY["customers.customer"].base_queryset(user).order_by()
    count = visible.count()
    if not count:
        raise SystemExit(f"{user.username} sees no customers: generate the data first.")
    step = max(1, count // 20_000)  # a deterministic sample of about 20,000 rows
    sample = list(
        visible.annotate(bench_mod=F("pk") % step)
        .filter(bench_mod=0)
        .order_by("pk")
        .values_list("pk", "name", "name_initials", "region_id")
    )
    zh, zh_count = pick_term([s[1] for s in sample], chinese_bigrams)
    py, py_count = pick_term([s[2] or "" for s in sample], initials_prefix)
    ids = [s[0] for s in sample][:: max(1, len(sample) // 200)][:200]
    region = next((s[3] for s in sample if s[3]), None)

    html_page = min(LATER_PAGE, math.ceil(count / 25))
    # The API pages with a cursor: follow `next` from the first page to the same page
    # number at the same page size (the same rows as the HTML page).
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    api_path, api_page = with_query(CUSTOMERS_API, page_size=25), 1
    while api_page < html_page:
        response = client.get(api_path)
        nxt = response.json().get("next") if response.status_code == 200 else None
        if not nxt:
            break
        parts = urlsplit(nxt)
        api_path, api_page = f"{parts.path}?{parts.query}", api_page + 1

    def sizes(path, param="size"):
        return {n: with_query(path, **{param: n}) for n in (25, 100)}

    page_html = f"/customers/?page={html_page}"
    endpoints = [
        Endpoint(
            "list_html",
            "Customer list, first page (HTML)",
            ["/customers/"],
            lists_rows=True,
            sized=sizes("/customers/"),
        ),
        Endpoint(
            "list_api",
            "Customer list, first page (API)",
            [CUSTOMERS_API],
            lists_rows=True,
            sized=sizes(CUSTOMERS_API, "page_size"),
        ),
        Endpoint(
            "page_html",
            f"Customer list, page {html_page} (HTML)",
            [page_html],
            lists_rows=True,
            sized={
                25: with_query(page_html, size=25),
                100: f"/customers/?page={math.ceil(html_page / 4)}&size=100",
            },
        ),
        Endpoint(
            "page_api",
            f"Customer list, page {api_page} (API)",
            [api_path],
            lists_rows=True,
            sized=sizes(api_path, "page_size"),
        ),
        Endpoint(
            "search_zh",
            f"Search, Chinese “{zh}”",
            [with_query("/customers/", q=zh)],
            lists_rows=True,
            sized=sizes(with_query("/customers/", q=zh)),
        ),
        Endpoint(
            "search_py",
            f"Search, initials “{py}”",
            [with_query("/customers/", q=py)],
            lists_rows=True,
            sized=sizes(with_query("/customers/", q=py)),
        ),
        Endpoint(
            "detail",
            "Customer 360° page",
            [f"/customers/{pk}/" for pk in ids],
        ),
        Endpoint(
            "create_api",
            "Create a customer (API)",
            [CUSTOMERS_API],
            method="POST",
            payload={
                "industry": "trade",
                "level": "c",
                "type": "end_user",
                "status": "prospect",
                "region": region,
                "address": "压测路 1 号",
                "main_phone": "021-55501234",
                "notes": "X6 benchmark",
            },
            name_prefix=f"压测客户{run_id}-",
        ),
        Endpoint("analysis", "Sales analysis", ["/sales/analysis/"]),
        Endpoint("channels", "Channel dashboard", ["/channels/"]),
        Endpoint(
            "reconciliation",
            "Stock reconciliation",
            ["/channels/inventory/reconciliation/"],
        ),
    ]
    parameters = {
        "visible_customers": count,
        "sampled_names": len(sample),
        "search_zh": {"term": zh, "sample_matches": zh_count},
        "search_py": {"term": py, "sample_matches": py_count},
        "html_later_page": html_page,
        "api_later_page": api_page,
        "detail_ids": len(ids),
        "create_name_prefix": f"压测客户{run_id}-",
    }
    return endpoints, parameters


# 2. Queries and floor


def measure_sql(endpoints: list[Endpoint], user, database_url: str, runs: int) -> None:
    from django.test import Client

    from bench import floor

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    for endpoint in endpoints:
        if not endpoint.is_read:
            continue
        path = endpoint.paths[0]
        response, queries = floor.capture(client, path)
        rows = None
        if response.status_code != 200:
            endpoint.problems.append(
                f"in-process GET {path}: HTTP {response.status_code}"
            )
        elif endpoint.lists_rows:
            rows = count_rows(response)
            if not rows:
                endpoint.problems.append(f"GET {path} listed no rows")
        endpoint.queries = {
            "default": len(queries),
            "rows": rows,
            "repeated": repeated_shapes(queries),
        }
        for size, sized_path in endpoint.sized.items():
            sized_response, sized_queries = floor.capture(client, sized_path)
            if sized_response.status_code != 200:
                endpoint.problems.append(
                    f"in-process GET {sized_path}: HTTP {sized_response.status_code}"
                )
            endpoint.queries[f"size{size}"] = len(sized_queries)
            endpoint.queries[f"rows{size}"] = count_rows(sized_response)
        endpoint.floor = floor.floor(database_url, queries, runs=runs)
        print(
            f"  {endpoint.label}: {len(queries)} queries"
            + (
                f" ({endpoint.queries['size25']} at 25 rows, "
                f"{endpoint.queries['size100']} at 100)"
                if endpoint.sized
                else ""
            )
            + f", main SQL {endpoint.floor.get('sql_p50_ms', '–')} ms",
            flush=True,
        )


def repeated_shapes(queries: list[str], top: int = 5) -> list[dict]:
    """The query shapes (literals blanked) sent more than once: a hint of N+1 loops."""
    shapes = collections.Counter(
        NUMBERS.sub("?", STRINGS.sub("?", sql))[:300] for sql in queries
    )
    return [{"count": n, "sql": shape} for shape, n in shapes.most_common(top) if n > 1]


def count_rows(response) -> int:
    if response.status_code != 200:
        return 0
    if response["Content-Type"].startswith("application/json"):
        return len(response.json().get("results") or [])
    return len(set(DETAIL_LINK.findall(response.content.decode())))


# 3. The server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(database_url: str, workers: int, log_path: Path):
    """gunicorn on a free loopback port, stopped (with its workers) however we leave."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": conf.SETTINGS,
    }
    command = [
        *(sys.executable, "-m", "gunicorn", "config.wsgi"),
        *("--workers", str(workers), "--bind", f"127.0.0.1:{port}"),
        *("--timeout", "300", "--log-level", "warning"),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log_path)
        yield base
    finally:
        stop_group(process)


def wait_healthy(base: str, process, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{tail(log_path)}")
        try:
            url = f"{base}/healthz"  # http on loopback, built here
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn not healthy after {timeout:.0f}s:\n{tail(log_path)}")


def stop_group(process, grace: float = 15) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# 4. The load


def run_load(
    endpoints: list[Endpoint],
    base: str,
    users: int,
    args,
    workdir: Path,
) -> str:
    """One locust run over every endpoint at `users` concurrency; fills endpoint.load.
    Returns a fatal error message, or ""."""
    out = workdir / f"samples-{users}.json"
    plan = {
        "host": base,
        "username": conf.USERNAME,
        "password": conf.PASSWORD,
        "users": users,
        "warmup": args.warmup,
        "duration": args.duration,
        "out": str(out),
        "phases": [
            {
                "key": e.key,
                "method": e.method,
                "paths": e.paths,
                "payload": e.payload,
                "name_prefix": e.name_prefix,
            }
            for e in endpoints
        ],
    }
    plan_path = workdir / f"plan-{users}.json"
    plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    # A safety limit only: the locustfile stops itself after the last phase.
    limit = 1800 + len(endpoints) * (args.warmup + args.duration) * 3
    command = [
        *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
        *("--users", str(users), "--spawn-rate", str(users)),
        *("--run-time", f"{limit:.0f}s", "--host", base),
        *("--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"),
    ]
    log_path = workdir / f"locust-{users}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            command,
            cwd=ROOT,
            env={**os.environ, "BENCH_PLAN": str(plan_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait()
        finally:
            stop_group(process)
    if not out.exists():
        return f"locust wrote no samples (exit {process.returncode}):\n{tail(log_path)}"
    data = json.loads(out.read_text(encoding="utf-8"))
    by_key = {e.key: e for e in endpoints}
    for phase in data["phases"]:
        endpoint = by_key[phase["key"]]
        stats = report.load_stats(phase)
        endpoint.load[str(users)] = stats
        for message, n in stats["errors"].items():
            endpoint.problems.append(f"concurrency {users}: {n} × {message}")
        if not stats["ok"]:
            endpoint.problems.append(f"concurrency {users}: no successful request")
        print(
            f"  {endpoint.label}: p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, "
            f"p99 {stats['p99_ms']} ms, {stats['requests_per_second']} req/s, "
            f"{stats['failures']} failed",
            flush=True,
        )
    return data.get("fatal") or ""


# 5. Clean-up, import, scale, machine


def remove_created(prefix: str) -> int:
    """The customers the create endpoint made, with their audit rows, go again."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from crm.core.models import AuditEvent
    from crm.customers.models import Customer

    created = Customer.objects.filter(name__startswith=prefix)
    ids = [str(pk) for pk in created.values_list("pk", flat=True)]
    with transaction.atomic():
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Customer), object_id__in=ids
        ).delete()
        created.delete()
    return len(ids)


def measure_import(user, rows: int) -> dict:
    if importlib.util.find_spec("bench.importbench") is None:
        return {"skipped": "bench/importbench.py is not there yet"}
    from bench import importbench

    try:
        return importbench.measure(user, rows=rows)
    except Exception as exc:  # reported, and the run fails
        return {"error": f"{exc.__class__.__name__}: {exc}"}


SCALE_MODELS = {
    "customers": "customers.Customer",
    "contacts": "customers.Contact",
    "sales_orders": "sales.SalesOrder",
    "order_lines": "sales.SalesOrderLine",
    "payments": "sales.Payment",
    "partners": "channels.Partner",
    "sell_through_lines": "channels.SellThroughLine",
    "stock_counts": "channels.StockCount",
}


def scale() -> dict:
    from django.apps import apps
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for name, label in SCALE_MODELS.items():
            table = apps.get_model(label)._meta.db_table
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (model tables)
            counts[name] = cursor.fetchone()[0]
    return counts


def machine() -> dict:
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    ram_kib = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_kib = int(line.split()[1])
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    import django

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram_kib / 1024**2, 1),
        "postgresql": version,
        "python": platform.python_version(),
        "django": django.get_version(),
        "os": platform.platform(),
    }


def git_version() -> str:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def command_line(argv: list[str]) -> str:
    env = ""
    if "BENCH_DATABASE_URL" in os.environ:
        env = f"BENCH_DATABASE_URL={os.environ['BENCH_DATABASE_URL']} "
    return f"{env}.venv/bin/python -m bench.run {shlex.join(argv)}".rstrip()


def login_scope(user, visible: int) -> str:
    scopes = ", ".join(
        f"{domain}: {'/'.join(sorted(user.data_scopes(domain)))}"
        for domain in ("customers", "sales", "channels")
    )
    return f"{user.department.name}; scopes {scopes}; sees {visible:,} customers"


# Main


STARTED = time.monotonic()


def say(message: str) -> None:
    """A progress line, with the seconds since the start."""
    print(f"[{time.monotonic() - STARTED:4.0f}s] {message}", flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=conf.DATABASE_URL)
    parser.add_argument("--smoke", action="store_true", help="short CI run")
    parser.add_argument("--duration", type=float, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per endpoint")
    parser.add_argument("--concurrency", help="comma-separated users, e.g. 1,16")
    parser.add_argument("--import-rows", type=int, help="rows of the import workbook")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--floor-runs", type=int, help="runs of each main query")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--only",
        help="comma-separated endpoint keys (results to bench/results/partial.json, "
        "docs untouched)",
    )
    args = parser.parse_args(argv)
    defaults = (
        {
            "duration": 2.5,
            "warmup": 1,
            "concurrency": "1,4",
            "import_rows": 500,
            "floor_runs": 5,
        }
        if args.smoke
        else {
            "duration": 20,
            "warmup": 3,
            "concurrency": "1,16",
            "import_rows": 100_000,
            "floor_runs": 20,
        }
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.levels = [int(n) for n in str(args.concurrency).split(",") if n.strip()]
    return args


def raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_interrupt)  # stop the server on kill too
    started = time.monotonic()
    conf.setup_django(args.database_url)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    user = get_user_model().objects.get(username=conf.USERNAME)
    run_id = secrets.token_hex(3)
    say(f"Benchmark of {args.database_url} as {user.username}")
    endpoints, parameters = discover(user, run_id)
    if args.only:
        keys = {k.strip() for k in args.only.split(",")}
        endpoints = [e for e in endpoints if e.key in keys]
    print(f"Parameters: {json.dumps(parameters, ensure_ascii=False)}", flush=True)
    say("SQL queries per request and the floor:")
    measure_sql(endpoints, user, args.database_url, args.floor_runs)

    # Copied, not compressed: no static file is requested during the load, and
    # compressing 100 MB of assets (gzip and brotli) would take minutes.
    call_command("collectstatic", interactive=False, verbosity=0, post_process=False)
    say("Static files collected")
    fatal, removed, log = [], 0, ""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        try:
            with server(
                args.database_url, args.workers, workdir / "gunicorn.log"
            ) as base:
                say(f"gunicorn ({args.workers} workers) at {base}")
                for users in args.levels:
                    say(f"Load at concurrency {users}:")
                    error = run_load(endpoints, base, users, args, workdir)
                    if error:
                        fatal.append(f"concurrency {users}: {error}")
                        print(f"  FAILED: {error}", flush=True)
                log = tail(workdir / "gunicorn.log", 20)
        finally:
            removed = remove_created(parameters["create_name_prefix"])
    if log.strip():
        print(f"gunicorn log (last lines):\n{log}", flush=True)

    if args.skip_import:
        imported = {"skipped": "--skip-import"}
    else:
        say(f"Import of {args.import_rows:,} rows:")
        imported = measure_import(user, args.import_rows)
        print(f"  {imported}", flush=True)

    level_one = "1" if 1 in args.levels else str(min(args.levels))
    for endpoint in endpoints:
        p50 = endpoint.load.get(level_one, {}).get("p50_ms")
        if endpoint.floor and endpoint.floor.get("sql_p50_ms") and p50 is not None:
            endpoint.floor["e2e_p50_ms"] = p50
            endpoint.floor["ratio"] = round(p50 / endpoint.floor["sql_p50_ms"], 2)

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    result = {
        "kind": "smoke" if args.smoke else ("partial" if args.only else "full"),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command_line(argv),
        "git": git_version(),
        "database": args.database_url.rsplit("/", 1)[-1],
        "scale": scale(),
        "machine": machine(),
        "server": f"gunicorn, {args.workers} sync workers, {conf.SETTINGS} "
        f"(DEBUG {settings.DEBUG}), cache {cache}, locust FastHttpUser on loopback",
        "login": user.username,
        "login_scope": login_scope(user, parameters["visible_customers"]),
        "settings": {
            "duration": args.duration,
            "warmup": args.warmup,
            "concurrency": args.levels,
            "floor_runs": args.floor_runs,
            "workers": args.workers,
        },
        "parameters": parameters,
        "parameters_note": (
            f"later page {parameters['html_later_page']} at 25 rows (HTML; the API "
            f"reaches page {parameters['api_later_page']} through its cursor links); "
            "search terms "
            f"“{parameters['search_zh']['term']}” and “{parameters['search_py']['term']}”"
            f" (each in about {TERM_SHARE:.0%} of the names); "
            f"{parameters['detail_ids']} customer ids for the 360° page"
        ),
        "endpoints": [e.as_json() for e in endpoints],
        "import": imported,
        "created_customers_removed": removed,
        "fatal": fatal,
        "seconds": round(time.monotonic() - started),
    }
    result["targets"] = report.evaluate_targets(result)

    problems = [f"{e.label}: {p}" for e in endpoints for p in e.problems] + fatal
    if "error" in imported:
        problems.append(f"import: {imported['error']}")
    result["problems"] = problems
    name = "smoke" if args.smoke else ("partial" if args.only else None)
    paths = report.write_json(result, name)
    if not (args.smoke or args.only):
        report.update_doc(result)
        paths.append(report.DOC)
    say(f"Results: {', '.join(str(p.relative_to(ROOT)) for p in paths)}")
    missed = [t["name"] for t in result["targets"] if t["met"] is False]
    if missed and not args.smoke:
        print("Targets missed:\n  " + "\n  ".join(missed), flush=True)
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems), flush=True)
        return 1
    say(f"Done in {result['seconds']} s.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # The server and locust were stopped on the way out (context managers).
        print("Interrupted: the server and the load tool were stopped.", flush=True)
        sys.exit(130)
