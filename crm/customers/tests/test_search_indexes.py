"""C3 search at scale: on PostgreSQL the search is narrowed by the gram GIN indexes
(migration 0006, crm.core.search), for fragments of one, two or more characters;
on SQLite the same search runs without them and finds the same rows."""

import pytest
from django.db import connection

from crm.core.lists import REGISTRY
from crm.core.search import may_contain
from crm.customers.models import Contact, Customer
from crm.customers.selectors import CONTACT_GRAMS, CUSTOMER_GRAMS
from crm.customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

GRAM_INDEXES = {"customer_search_grams", "contact_search_grams"}


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        tables = ("customers_customer", "customers_contact")
        constraints = {}
        for table in tables:
            constraints.update(connection.introspection.get_constraints(cursor, table))
    return set(constraints)


@pytest.fixture
def customers():
    for n in range(30):
        customer = CustomerFactory(name=f"北京华为技术有限公司{n}")
        ContactFactory(customer=customer, name=f"欧阳{n}", mobile=f"139{n:08d}")
    other = CustomerFactory(name="上海贝尔通信有限公司")
    ContactFactory(customer=other, name="张伟", mobile="13700000000")


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("华为技术有限", 30),  # a long fragment
        ("华为", 30),  # two characters: no trigram could serve it
        ("贝", 1),  # one character
        ("bjhw", 30),  # pinyin initials, any case
        ("BJHW", 30),
        ("张伟", 1),  # a contact's name
        ("欧阳1", 11),  # 欧阳1, 欧阳10 … 欧阳19
        ("1370000", 1),  # a contact's mobile
        ("不存在", 0),
    ],
)
def test_search_finds_fragments_of_any_length(boss, customers, term, found):
    spec = REGISTRY["customers.customer"]
    qs, _filterset = spec.queryset(boss, {"q": term})
    assert qs.count() == found


def test_search_is_served_by_gram_indexes(boss, customers):
    if connection.vendor != "postgresql":
        assert not GRAM_INDEXES & index_names()
        return
    assert index_names() >= GRAM_INDEXES
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    # The narrowing condition the search emits is the indexed expression (the planner
    # may still prefer another path for the whole page on a tiny table).
    for term in ("华为", "贝", "bjhw", "华为技术有限"):
        by_customer = Customer.objects.filter(may_contain(CUSTOMER_GRAMS, term))
        by_contact = Contact.objects.filter(may_contain(CONTACT_GRAMS, term))
        assert "customer_search_grams" in by_customer.explain(), term
        assert "contact_search_grams" in by_contact.explain(), term
