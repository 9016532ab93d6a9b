"""C1–C3 over the API (X2): filters, search, cursor pagination, versions, merge, schema."""

import pytest
from rest_framework.test import APIClient

from crm.customers import services
from crm.customers.models import Contact, Customer, Region
from crm.customers.tests.conftest import EDIT, VIEW
from crm.customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/customers/"
CONTACTS = "/api/v1/customers/contacts/"


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_list_filters_and_searches(api, boss):
    CustomerFactory(
        name="北京华为技术有限公司", level="a", region=Region.objects.get(code="110105")
    )
    CustomerFactory(
        name="深圳华为终端有限公司", level="b", region=Region.objects.get(code="440305")
    )
    CustomerFactory(name="腾讯科技", level="a")
    client = api(boss)
    names = lambda r: sorted(c["name"] for c in r.json()["results"])  # noqa: E731
    assert names(client.get(CUSTOMERS, {"q": "华为"})) == [
        "北京华为技术有限公司",
        "深圳华为终端有限公司",
    ]
    assert names(client.get(CUSTOMERS, {"q": "bjhw"})) == ["北京华为技术有限公司"]
    assert names(client.get(CUSTOMERS, {"level": "a"})) == [
        "北京华为技术有限公司",
        "腾讯科技",
    ]
    assert names(client.get(CUSTOMERS, {"region": "440000"})) == [
        "深圳华为终端有限公司"
    ]
    bad = client.get(CUSTOMERS, {"level": "zz"})
    assert bad.status_code == 400


def test_list_pages_with_a_cursor(api, boss):
    CustomerFactory.create_batch(5)
    client = api(boss)
    first = client.get(CUSTOMERS, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    assert first["next"]
    seen = [c["id"] for c in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url).json()
        seen += [c["id"] for c in page["results"]]
        url = page["next"]
    assert seen == sorted(Customer.objects.values_list("pk", flat=True), reverse=True)
    assert client.get(CUSTOMERS, {"cursor": "nonsense"}).status_code == 400


def test_create_and_detail(api, boss):
    client = api(boss)
    response = client.post(
        CUSTOMERS,
        {
            "name": "北京华为技术有限公司",
            "credit_code": "91110108551385082Q",
            "main_phone": "010-82882088",
            "region": 110105,
            "credit_limit": "1000000.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "KH000001"
    assert body["mnemonic"] == "BJHWJSYXGS"
    assert body["region_name"] == "北京市 朝阳区"
    detail = client.get(f"{CUSTOMERS}{body['id']}/").json()
    assert detail["version"] == 1


def test_create_refuses_bad_values_as_field_errors(api, boss):
    client = api(boss)
    bad = client.post(
        CUSTOMERS,
        {"name": "甲", "credit_code": "91110108551385082X", "main_phone": "123"},
        format="json",
    )
    assert bad.status_code == 400
    assert {"credit_code", "main_phone"} <= set(bad.json()["fields"])
    client.post(
        CUSTOMERS, {"name": "乙", "credit_code": "91110108551385082Q"}, format="json"
    )
    taken = client.post(
        CUSTOMERS, {"name": "丙", "credit_code": "91110108551385082Q"}, format="json"
    )
    assert taken.status_code == 400
    assert "credit_code" in taken.json()["fields"]


def test_update_with_a_stale_version_is_409(api, boss):
    customer = CustomerFactory()
    client = api(boss)
    url = f"{CUSTOMERS}{customer.pk}/"
    ok = client.patch(url, {"notes": "一", "version": 1}, format="json")
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = client.patch(url, {"notes": "二", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    missing = client.patch(url, {"notes": "三"}, format="json")
    assert missing.status_code == 400


def test_parent_outside_the_scope_is_refused(api, scoped_org):
    outside = CustomerFactory(owner=scoped_org.rep_c)
    response = api(scoped_org.rep_a).post(
        CUSTOMERS, {"name": "甲", "parent": outside.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]


def test_delete_moves_to_the_bin(api, boss, make_user):
    customer = CustomerFactory()
    assert api(make_user(*EDIT)).delete(f"{CUSTOMERS}{customer.pk}/").status_code == 403
    assert api(boss).delete(f"{CUSTOMERS}{customer.pk}/").status_code == 204
    customer.refresh_from_db()
    assert customer.is_deleted
    assert api(boss).get(f"{CUSTOMERS}{customer.pk}/").status_code == 404


def test_merge_endpoint(api, boss):
    survivor = CustomerFactory(name="甲", level="c")
    other = CustomerFactory(name="乙", level="a")
    ContactFactory(customer=other)
    response = api(boss).post(
        f"{CUSTOMERS}{survivor.pk}/merge/",
        {
            "merged": [other.pk],
            "fields": {"level": other.pk},
            "versions": {str(other.pk): other.version},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["level"] == "a"
    assert Contact.objects.get().customer == survivor
    other.refresh_from_db()
    assert other.merged_into == survivor


def test_merge_endpoint_errors(api, boss, make_user, scoped_org):
    survivor, other = CustomerFactory(), CustomerFactory()
    url = f"{CUSTOMERS}{survivor.pk}/merge/"
    assert (
        api(make_user(*EDIT))
        .post(url, {"merged": [other.pk]}, format="json")
        .status_code
        == 403
    )
    client = api(boss)
    assert client.post(url, {"merged": []}, format="json").status_code == 400
    unknown = client.post(
        url, {"merged": [other.pk], "fields": {"number": other.pk}}, format="json"
    )
    assert unknown.status_code == 400
    stale = client.post(
        url, {"merged": [other.pk], "versions": {str(other.pk): 9}}, format="json"
    )
    assert stale.status_code == 409
    outside = CustomerFactory(owner=scoped_org.rep_c)
    mine = CustomerFactory(owner=scoped_org.manager)
    response = api(scoped_org.manager).post(
        f"{CUSTOMERS}{mine.pk}/merge/", {"merged": [outside.pk]}, format="json"
    )
    assert response.status_code == 404
    outside.refresh_from_db()
    assert outside.merged_into is None


def test_copy_endpoint(api, boss):
    customer = CustomerFactory(name="甲")
    response = api(boss).post(
        f"{CUSTOMERS}{customer.pk}/copy/", {"name": "乙"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == "乙"


def test_duplicates_endpoint(api, boss, english):
    services.customer_create(actor=boss, data={"name": "北京华为技术有限公司"})
    response = api(boss).get(f"{CUSTOMERS}duplicates/", {"name": "华为技术有限公司"})
    assert response.status_code == 200
    body = response.json()
    assert [c["customer"]["name"] for c in body["candidates"]] == [
        "北京华为技术有限公司"
    ]
    assert body["candidates"][0]["reasons"] == ["same name"]
    assert body["outside_scope"] == 0


def test_hidden_fields_are_left_out(api, make_user):
    CustomerFactory(credit_limit=500)
    user = make_user(
        *VIEW, field_rights={"customers.customer": {"credit_limit": "hidden"}}
    )
    row = api(user).get(CUSTOMERS).json()["results"][0]
    assert "credit_limit" not in row
    assert "name" in row


# Contacts


def test_contact_api(api, boss, scoped_org):
    customer = CustomerFactory(owner=scoped_org.rep_a)
    client = api(boss)
    first = client.post(
        CONTACTS,
        {"customer": customer.pk, "name": "甲", "mobile": "13800138000"},
        format="json",
    )
    assert first.status_code == 201
    assert first.json()["is_primary"] is True
    second = client.post(
        CONTACTS, {"customer": customer.pk, "name": "乙"}, format="json"
    )
    pk = second.json()["id"]
    assert client.post(f"{CONTACTS}{pk}/primary/").json()["is_primary"] is True
    assert Contact.objects.get(is_primary=True).name == "乙"
    stale = client.patch(
        f"{CONTACTS}{pk}/", {"position": "经理", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert client.delete(f"{CONTACTS}{pk}/").status_code == 204
    assert Contact.objects.get().is_primary
    # Scope through the customer
    rep_c = api(scoped_org.rep_c)
    assert rep_c.get(CONTACTS).json()["results"] == []
    refused = rep_c.post(
        CONTACTS, {"customer": customer.pk, "name": "丙"}, format="json"
    )
    assert refused.status_code in (400, 403)
    assert (
        api(scoped_org.rep_a).get(CONTACTS, {"q": "甲"}).json()["results"][0]["name"]
        == "甲"
    )


def test_schema_documents_the_customer_api(client_for, boss):
    schema = client_for(boss).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/customers/customers/{id}/merge/" in paths
    assert "409" in paths["/api/v1/customers/customers/{id}/"]["patch"]["responses"]
    assert "/api/v1/customers/contacts/" in paths
    params = {
        p["name"] for p in paths["/api/v1/customers/customers/"]["get"]["parameters"]
    }
    assert {"cursor", "q", "level", "region"} <= params
