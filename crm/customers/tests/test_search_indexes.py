"""C3 search at scale: on PostgreSQL the search uses pg_trgm GIN indexes (migration 0003);
on SQLite the same search runs without them."""

import pytest
from django.db import connection

from crm.core.lists import REGISTRY
from crm.customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

TRIGRAM_INDEXES = {
    "customer_name_trgm",
    "customer_mnemonic_trgm",
    "customer_number_trgm",
    "customer_initials_trgm",
    "customer_phone_trgm",
    "customer_fin_phone_trgm",
    "contact_name_trgm",
    "contact_mobile_trgm",
}


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        tables = ("customers_customer", "customers_contact")
        constraints = {}
        for table in tables:
            constraints.update(connection.introspection.get_constraints(cursor, table))
    return set(constraints)


def test_search_is_served_by_trigram_indexes(boss):
    for n in range(30):
        customer = CustomerFactory(name=f"北京华为技术有限公司{n}")
        ContactFactory(customer=customer, name=f"欧阳{n}", mobile=f"139{n:08d}")
    spec = REGISTRY["customers.customer"]
    qs, _filterset = spec.queryset(boss, {"q": "华为技术有限"})
    assert qs.count() == 30
    if connection.vendor != "postgresql":
        assert not TRIGRAM_INDEXES & index_names()
        return
    assert index_names() >= TRIGRAM_INDEXES
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = qs.explain()
    assert "customer_name_trgm" in plan
    assert "contact_name_trgm" in plan
    prefix, _filterset = spec.queryset(boss, {"q": "bjhw"})
    assert "customer_initials_trgm" in prefix.explain()
