import pytest
from django.urls import reverse

from crm.customers import services
from crm.customers.models import Region

pytestmark = pytest.mark.django_db


def test_smoke(client_for, boss):
    region = Region.objects.get(code="440305")
    customer = services.customer_create(
        actor=boss, data={"name": "北京华为技术有限公司", "region": region}
    )
    assert customer.mnemonic == "BJHWJSYXGS"
    client = client_for(boss)
    assert client.get(reverse("customers:customer-list")).status_code == 200
    r = client.get(reverse("customers:customer-detail", args=[customer.pk]))
    assert r.status_code == 200, r.content[:3000]
    r = client.get(reverse("customers:customer-tab", args=[customer.pk, "contacts"]))
    assert r.status_code == 200
    r = client.get(reverse("customers:customer-create"))
    assert r.status_code == 200
    r = client.get(reverse("customers:customer-edit", args=[customer.pk]))
    assert r.status_code == 200
    print(r.content.decode()[-6000:])
