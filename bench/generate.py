"""X6 data generator: `python -m bench.generate --scale N` (or `make bench-data SCALE=N`).

Recreates the benchmark database, migrates it, and fills it through COPY: N customers with
two contacts each, N sales orders with lines and payments, partners (N/2,000, 10 to 500)
with 5·N sell-through lines and monthly stock counts, spread over departments, owners and
regions. Deterministic for a given --seed.
"""

import argparse
import datetime
import random
import time
from array import array
from dataclasses import dataclass, field
from urllib.parse import urlparse

import psycopg

from bench import conf


@dataclass(frozen=True)
class Scale:
    customers: int

    @property
    def contacts(self) -> int:
        return 2 * self.customers

    @property
    def orders(self) -> int:
        return self.customers

    @property
    def partners(self) -> int:
        return min(500, max(10, self.customers // 2000))

    @property
    def sellthrough_lines(self) -> int:
        return 5 * self.customers


@dataclass
class Context:
    """What one step leaves for the next. Ids are the database's ids."""

    scale: Scale
    rng: random.Random
    # Filled by bench.gen.org:
    departments: list[int] = field(default_factory=list)
    reps: list[tuple[int, int]] = field(
        default_factory=list
    )  # (user id, department id)
    channel_managers: list[tuple[int, int]] = field(
        default_factory=list
    )  # partners' owners
    manager: tuple[int, int] | None = (
        None  # the benchmark login (user id, department id)
    )
    products: list[tuple[int, object]] = field(
        default_factory=list
    )  # (id, Decimal price)
    districts: list[int] = field(default_factory=list)  # region ids, county level
    # The districts each sales department covers (regional companies, provincial
    # branches, their teams): where its customers and partners are.
    department_districts: dict[int, list[int]] = field(default_factory=dict)
    # Filled by bench.gen.customers: (customer id, owner id, department id), id order.
    customers: list[tuple[int, int, int]] = field(default_factory=list)
    # The ids (ascending) of the customers that buy (status active, dormant or lost).
    buyers: array = field(default_factory=lambda: array("l"))
    # The day the data ends on: orders, reports and payments are dated up to it.
    today: datetime.date = field(default_factory=datetime.date.today)


def recreate_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="customers")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=conf.DATABASE_URL)
    args = parser.parse_args(argv)
    started = time.monotonic()
    print(f"Benchmark data: scale {args.scale:,} into {args.database_url}", flush=True)
    recreate_database(args.database_url)
    conf.setup_django(args.database_url)

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.copy import SESSION_SETTINGS, wait_for_indexes
    from bench.gen import channels, customers, org, sales

    call_command("migrate", "--noinput", verbosity=0)
    print(f"  migrated ({time.monotonic() - started:.0f}s)", flush=True)
    with connection.cursor() as cursor:
        for statement in SESSION_SETTINGS:
            cursor.execute(statement)
    ctx = Context(
        scale=Scale(args.scale),
        rng=random.Random(args.seed),
        today=timezone.localdate(),
    )
    for step in (org, customers, sales, channels):
        step_started = time.monotonic()
        print(f"- {step.__name__.rsplit('.', 1)[-1]}", flush=True)
        step.generate(ctx)
        print(f"  ({time.monotonic() - step_started:.0f}s)", flush=True)
    wait_for_indexes()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
    connection.close()
    vacuum_started = time.monotonic()
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    print(f"- vacuum, analyze ({time.monotonic() - vacuum_started:.0f}s)", flush=True)
    print(
        f"Done in {time.monotonic() - started:.0f}s. Login: {conf.USERNAME} / {conf.PASSWORD}",
        flush=True,
    )


if __name__ == "__main__":
    main()
