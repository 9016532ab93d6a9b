"""Business numbers: sequential, with prefix and padding, unique under concurrent creation."""

import threading
import time

import pytest
from django.db import OperationalError, connection

from crm.core.models import Sequence
from crm.core.numbering import next_number


@pytest.mark.django_db
def test_numbers_are_sequential_with_prefix_and_padding():
    numbers = [next_number("customer", prefix="KH", padding=4) for _ in range(3)]
    assert numbers == ["KH0001", "KH0002", "KH0003"]


@pytest.mark.django_db
def test_each_sequence_counts_on_its_own():
    assert next_number("order", prefix="DD") == "DD000001"
    assert next_number("quote", prefix="BJ") == "BJ000001"
    assert next_number("order", prefix="DD") == "DD000002"


@pytest.mark.django_db
def test_prefix_and_padding_are_fixed_by_the_stored_sequence():
    """A sequence keeps the prefix it was created with (an admin may change it there)."""
    next_number("contract", prefix="HT", padding=3)
    Sequence.objects.filter(key="contract").update(prefix="HT2026-", padding=5)
    assert next_number("contract", prefix="HT", padding=3) == "HT2026-00002"


@pytest.mark.django_db
def test_numbers_grow_past_the_padding():
    next_number("small", prefix="S", padding=2)
    Sequence.objects.filter(key="small").update(next_value=99)
    assert next_number("small") == "S99"
    assert next_number("small") == "S100"


THREADS, EACH = 8, 25


def _take(key: str) -> str:
    """next_number, waiting for its turn on the in-memory SQLite test database.

    That database is shared between threads through SQLite's shared cache, where a second
    writer gets "database table is locked" at once instead of waiting like it does on a
    file database (busy timeout, the product's SQLite). So on SQLite a refused call, which
    rolled back and took nothing, is tried again. PostgreSQL never gets here.
    """
    deadline = time.monotonic() + 60
    while True:
        try:
            return next_number(key, prefix="C", padding=5)
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.001)


@pytest.mark.django_db(transaction=True)
def test_numbers_are_unique_under_concurrency():
    """8 threads take 25 numbers each from one new sequence: 200 distinct numbers.

    On PostgreSQL the row lock serialises them; SQLite serialises every write itself.
    """
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    lock = threading.Lock()

    def worker():
        try:
            start.wait()
            mine = [_take("concurrent") for _ in range(EACH)]
            with lock:
                results.extend(mine)
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(results) == THREADS * EACH
    assert len(set(results)) == THREADS * EACH
    assert set(results) == {f"C{n:05d}" for n in range(1, THREADS * EACH + 1)}
    assert Sequence.objects.get(key="concurrent").next_value == THREADS * EACH + 1
