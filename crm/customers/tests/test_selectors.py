"""C3/C4 search, Y5 scopes on every read (list, detail, search, export, API), duplicates."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.core.lists import REGISTRY
from crm.customers import services
from crm.customers.selectors import (
    customer_get,
    customer_queryset,
    duplicate_candidates,
    duplicate_groups,
)
from crm.customers.tests.conftest import EDIT
from crm.customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

SPEC = REGISTRY["customers.customer"]


def search(user, term, **params):
    qs, _filterset = SPEC.queryset(user, {"q": term, **params})
    return sorted(c.name for c in qs)


@pytest.fixture
def huawei(boss):
    customer = services.customer_create(
        actor=boss,
        data={
            "name": "北京华为技术有限公司",
            "main_phone": "010-82882088",
            "finance_phone": "010-82882099",
        },
    )
    services.contact_create(
        actor=boss,
        data={"customer": customer, "name": "欧阳娜娜", "mobile": "13911112222"},
    )
    services.customer_create(
        actor=boss, data={"name": "上海华谊集团", "mnemonic": "HY"}
    )
    services.customer_create(actor=boss, data={"name": "北京京东世纪贸易有限公司"})
    return customer


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("华为", ["北京华为技术有限公司"]),  # part of the name
        ("技术有限", ["北京华为技术有限公司"]),
        ("bjhw", ["北京华为技术有限公司"]),  # pinyin-initials prefix, any case
        ("BJHW", ["北京华为技术有限公司"]),
        ("hwjs", ["北京华为技术有限公司"]),  # any part of the mnemonic
        ("KH000001", ["北京华为技术有限公司"]),  # number
        ("000001", ["北京华为技术有限公司"]),
        ("82882088", ["北京华为技术有限公司"]),  # main phone
        ("82882099", ["北京华为技术有限公司"]),  # finance phone
        ("欧阳", ["北京华为技术有限公司"]),  # a contact's name
        ("1391111", ["北京华为技术有限公司"]),  # a contact's mobile
        ("bj", ["北京京东世纪贸易有限公司", "北京华为技术有限公司"]),
        ("hy", ["上海华谊集团"]),  # a typed mnemonic
        ("不存在", []),
    ],
)
def test_one_box_finds_customers_by_any_key(boss, huawei, term, found):
    """C3: name, mnemonic, pinyin initials prefix, number, phone, contact name/mobile."""
    assert search(boss, term) == found


def test_search_returns_each_customer_once(boss, huawei):
    services.contact_create(actor=boss, data={"customer": huawei, "name": "华为联系人"})
    assert search(boss, "华为") == ["北京华为技术有限公司"]


def test_search_combines_with_filters(boss, huawei):
    assert search(boss, "北京", level="a") == []
    assert search(boss, "北京", level="c") == [
        "北京京东世纪贸易有限公司",
        "北京华为技术有限公司",
    ]


def test_hidden_phones_are_not_searched(make_user, huawei):
    """Y5: searching a hidden field would tell its value."""
    user = make_user(
        *EDIT,
        field_rights={
            "customers.customer": {"main_phone": "hidden"},
            "customers.contact": {"mobile": "hidden"},
        },
    )
    assert search(user, "82882088") == []
    assert search(user, "13911112222") == []
    assert search(user, "82882099") == ["北京华为技术有限公司"]  # finance phone visible


def test_search_stays_within_the_scope(scoped_org):
    org = scoped_org
    CustomerFactory(name="华为华东", owner=org.rep_a)
    CustomerFactory(name="华为浦东", owner=org.rep_b)
    CustomerFactory(name="华为华南", owner=org.rep_c)
    assert search(org.rep_a, "华为") == ["华为华东"]
    assert search(org.manager, "hw") == ["华为华东", "华为浦东"]
    assert search(org.rep_c, "华为") == ["华为华南"]


def test_deleted_and_merged_customers_are_not_listed(boss):
    live = CustomerFactory(name="活跃客户")
    binned = CustomerFactory(name="回收站客户")
    merged = CustomerFactory(name="已合并客户")
    services.customer_delete(actor=boss, customer=binned)
    services.customer_merge(actor=boss, survivor=live, merged=[merged])
    assert list(customer_queryset(actor=boss)) == [live]
    bin_qs, _f = REGISTRY["customers.bin"].queryset(boss, {})
    assert list(bin_qs) == [binned]


# Y5 scope matrix: a rep sees their own customers, a manager the department tree


@pytest.fixture
def spread(scoped_org):
    org = scoped_org
    return {
        "a": CustomerFactory(name="刘一的客户", owner=org.rep_a),
        "b": CustomerFactory(name="陈二的客户", owner=org.rep_b),
        "c": CustomerFactory(name="王三的客户", owner=org.rep_c),
    }


SEES = {
    "rep_a": {"a"},
    "rep_b": {"b"},
    "rep_c": {"c"},
    "manager": {"a", "b"},
    "admin": {"a", "b", "c"},
}


@pytest.mark.parametrize("who", list(SEES))
def test_scope_holds_on_list_detail_search_export_and_api(
    scoped_org, spread, client_for, who
):
    user = getattr(scoped_org, who)
    client = client_for(user)
    expected = {spread[k].name for k in SEES[who]}
    hidden = {c.name for c in spread.values()} - expected

    page = client.get(reverse("customers:customer-list"))
    assert {r["obj"].name for r in page.context["rows"]} == expected

    searched = client.get(reverse("customers:customer-list"), {"q": "客户"})
    assert {r["obj"].name for r in searched.context["rows"]} == expected

    for key, customer in spread.items():
        detail = client.get(reverse("customers:customer-detail", args=[customer.pk]))
        assert detail.status_code == (200 if key in SEES[who] else 404)
        api = client.get(f"/api/v1/customers/customers/{customer.pk}/")
        assert api.status_code == (200 if key in SEES[who] else 404)

    listed = client.get("/api/v1/customers/customers/", {"q": "客户"})
    assert {c["name"] for c in listed.json()["results"]} == expected

    exported = client.get(
        reverse("core:export", args=["customers.customer"]), {"format": "csv"}
    )
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    assert all(name in text for name in expected)
    assert not any(name in text for name in hidden)


def test_customer_get_outside_the_scope_is_not_found(scoped_org, spread):
    from crm.core.errors import NotFound

    with pytest.raises(NotFound):
        customer_get(actor=scoped_org.rep_a, pk=spread["b"].pk)
    with pytest.raises(NotFound):
        customer_get(actor=scoped_org.rep_a, pk=10**30)


def test_list_page_costs_constant_queries(client_for, boss, org):
    """A list page costs the same number of queries for 2 rows as for 25 (no N+1)."""
    from crm.customers.models import Region

    district = Region.objects.get(code="440305")
    client = client_for(boss)
    url = reverse("customers:customer-list")

    def run():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"q": "客户"}).status_code == 200
        return len(queries)

    for n in range(2):
        customer = CustomerFactory(name=f"客户{n}", owner=org.rep_a, region=district)
        ContactFactory(customer=customer)
    run()  # warm the caches (system parameters)
    few = run()
    for n in range(2, 25):
        customer = CustomerFactory(name=f"客户{n}", owner=org.rep_b, region=district)
        ContactFactory(customer=customer)
    assert run() == few


def test_api_list_costs_constant_queries(client_for, boss, org):
    client = client_for(boss)

    def run():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/customers/customers/").status_code == 200
        return len(queries)

    CustomerFactory.create_batch(2, owner=org.rep_a)
    run()
    few = run()
    CustomerFactory.create_batch(30, owner=org.rep_b)
    assert run() == few


# Duplicates


@pytest.fixture
def existing(boss, org):
    customer = services.customer_create(
        actor=boss,
        data={
            "name": "北京华为技术有限公司",
            "credit_code": "91110108551385082Q",
            "main_phone": "010-82882088",
            "owner": org.rep_a,
        },
    )
    services.contact_create(
        actor=boss, data={"customer": customer, "name": "张三", "mobile": "13800138000"}
    )
    return customer


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"credit_code": "91110108551385082q"}, "credit_code"),
        ({"name": "华为技术有限公司"}, "same_name"),  # same without place and form
        ({"name": "华为技术服务有限公司"}, "similar_name"),  # contains its name
        ({"name": "华为技术"}, "same_name"),
        ({"name": "华为技术股份有限公司"}, "same_name"),
        ({"phones": ["010-82882088"]}, "phone"),
        ({"phones": ["13800138000"]}, "phone"),  # a contact's mobile
    ],
)
def test_duplicate_candidates(boss, existing, data, reason, english):
    labels = {
        "credit_code": "same credit code",
        "same_name": "same name",
        "similar_name": "similar name",
        "phone": "same phone",
    }
    candidates, hidden = duplicate_candidates(actor=boss, **data)
    assert [c["customer"] for c in candidates] == [existing]
    assert labels[reason] in [str(r) for r in candidates[0]["reasons"]]
    assert hidden == 0


def test_duplicate_candidates_outside_the_scope_are_only_counted(scoped_org, existing):
    candidates, hidden = duplicate_candidates(
        actor=scoped_org.rep_c, name="华为技术有限公司"
    )
    assert (candidates, hidden) == ([], 1)


def test_no_duplicates_for_a_new_company(boss, existing):
    assert duplicate_candidates(actor=boss, name="腾讯科技有限公司") == ([], 0)


def test_duplicate_groups_within_the_scope(scoped_org, boss):
    org = scoped_org
    for owner in (org.rep_a, org.rep_b, org.rep_c):
        services.customer_create(
            actor=boss, data={"name": "深圳腾讯计算机系统有限公司", "owner": owner}
        )
    CustomerFactory(name="独一无二有限公司", owner=org.rep_a)
    groups = duplicate_groups(actor=org.manager)
    assert [(g["field"], len(g["customers"])) for g in groups] == [("name_key", 2)]
    assert duplicate_groups(actor=org.rep_a) == []
    assert [len(g["customers"]) for g in duplicate_groups(actor=boss)] == [3]
