"""Customer pages: wiring and status codes, the region picker, duplicate warning, the 360°
view and its tab registry (C5), recycle bin, merge and duplicates pages, contacts."""

import pytest
from django.urls import reverse
from django.utils.html import format_html

from crm.core.models import AuditEvent
from crm.core.tabs import TABS, register_tab
from crm.core.tests.pages import text
from crm.customers import services
from crm.customers.models import Contact, Customer, Region
from crm.customers.tests.conftest import EDIT, VIEW
from crm.customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def templates(response):
    return [t.name for t in response.templates]


def form_data(**overrides):
    data = {
        "name": "杭州海康威视数字技术股份有限公司",
        "mnemonic": "",
        "credit_code": "",
        "level": "b",
        "type": "end_user",
        "status": "prospect",
        "industry": "manufacturing",
        "credit_rating": "",
        "credit_limit": "100000",
        "main_phone": "0571-88075998",
        "finance_phone": "",
        "email": "",
        "homepage": "",
        "region_province": "330000",
        "region_city": "330100",
        "region_district": "330108",
        "address": "阡陌路555号",
        "postcode": "310051",
        "parent": "",
        "registered_at": "2026-03-01T09:30",
        "owner": "",
        "department": "",
        "notes": "",
    }
    data.update(overrides)
    return data


# List


def test_customer_list_page(client_for, boss):
    CustomerFactory(name="杭州海康威视数字技术股份有限公司")
    response = client_for(boss).get(reverse("customers:customer-list"))
    assert response.status_code == 200
    assert "core/list.html" in templates(response)
    assert "杭州海康威视数字技术股份有限公司" in text(response)


def test_customer_list_needs_the_view_permission(client_for, make_user):
    user = make_user("customers.view_contact")
    assert client_for(user).get(reverse("customers:customer-list")).status_code == 403


def test_customer_list_filters_by_province(client_for, boss):
    CustomerFactory(name="南山客户", region=Region.objects.get(code="440305"))
    CustomerFactory(name="朝阳客户", region=Region.objects.get(code="110105"))
    response = client_for(boss).get(
        reverse("customers:customer-list"), {"region": "440000"}
    )
    assert [r["obj"].name for r in response.context["rows"]] == ["南山客户"]


def test_customer_export_hides_restricted_columns(client_for, make_user):
    CustomerFactory(name="甲公司", main_phone="0571-88075998")
    user = make_user(
        *VIEW,
        "core.export_data",
        field_rights={"customers.customer": {"main_phone": "hidden"}},
    )
    response = client_for(user).get(
        reverse("core:export", args=["customers.customer"]), {"format": "csv"}
    )
    content = response.content.decode("utf-8-sig")
    assert "甲公司" in content
    assert "88075998" not in content


# Create and edit


def test_create_form_has_a_region_picker(client_for, boss):
    response = client_for(boss).get(reverse("customers:customer-create"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="region_province"' in page
    assert 'name="region_city"' in page
    assert 'name="region_district"' in page
    assert "广东省" in page


def test_region_picker_reloads_the_lower_levels(client_for, boss):
    client = client_for(boss)
    url = reverse("customers:region-picker")
    response = client.get(
        url,
        {"name": "region", "region_province": "440000", "region_city": "110100"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "region_province"},
    )
    page = response.content.decode()
    assert "深圳市" in page
    assert "南山区" not in page
    assert "东城区" not in page
    response = client.get(
        url,
        {"name": "region", "region_province": "440000", "region_city": "440300"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "region_city"},
    )
    assert "南山区" in response.content.decode()


def test_municipalities_have_a_city_level(client_for, boss):
    beijing = Region.objects.get(code="110000")
    city = Region.objects.get(parent=beijing)
    assert (city.code, city.name, city.level) == ("110100", "北京市", Region.Level.CITY)
    district = Region.objects.get(code="110105")
    assert district.parent == city
    assert district.full_name == "北京市 朝阳区"
    assert Region.objects.filter(level=Region.Level.PROVINCE).count() == 34


def test_create_a_customer_through_the_form(client_for, boss):
    response = client_for(boss).post(reverse("customers:customer-create"), form_data())
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert response.url == reverse("customers:customer-detail", args=[customer.pk])
    assert customer.region.code == "330108"
    assert customer.mnemonic == "HZHKWSSZJSGFYXGS"
    assert customer.number == "KH000001"


def test_create_form_field_errors(client_for, boss):
    response = client_for(boss).post(
        reverse("customers:customer-create"),
        form_data(credit_code="91350100M000100Y44", main_phone="12345"),
    )
    assert response.status_code == 400
    assert {"credit_code", "main_phone"} <= set(response.context["form"].errors)
    assert not Customer.objects.exists()


def test_parent_company_is_picked_by_number(client_for, boss):
    parent = CustomerFactory(name="海康集团")
    client = client_for(boss)
    client.post(reverse("customers:customer-create"), form_data(parent=parent.number))
    child = Customer.objects.exclude(pk=parent.pk).get()
    assert child.parent == parent
    edit = client.get(reverse("customers:customer-edit", args=[child.pk]))
    assert f'value="{parent.number}"' in edit.content.decode()


def test_creating_a_possible_duplicate_warns_then_creates_anyway(client_for, boss):
    existing = CustomerFactory(name="杭州海康威视数字技术有限公司")
    client = client_for(boss)
    url = reverse("customers:customer-create")
    warned = client.post(url, form_data())
    assert warned.status_code == 200
    assert Customer.objects.count() == 1
    assert existing.number in text(warned)
    assert 'id="duplicate-warning"' in warned.content.decode()
    fingerprint = warned.context["form"].data["confirm_duplicates"]
    # The same input again, with the confirmation the page carries: created.
    created = client.post(url, form_data(confirm_duplicates=fingerprint))
    assert created.status_code == 302
    assert Customer.objects.count() == 2
    # A confirmation for other input does not let a new duplicate through.
    again = client.post(
        url, form_data(name="海康威视数字技术公司", confirm_duplicates=fingerprint)
    )
    assert again.status_code == 200
    assert Customer.objects.count() == 2


def test_edit_with_a_stale_version_is_409(client_for, boss):
    customer = services.customer_create(actor=boss, data={"name": "甲公司"})
    services.customer_update(
        actor=boss, obj=customer, data={"notes": "先改"}, version=1
    )
    response = client_for(boss).post(
        reverse("customers:customer-edit", args=[customer.pk]),
        form_data(name="甲公司", version="1"),
    )
    assert response.status_code == 409
    customer.refresh_from_db()
    assert customer.notes == "先改"


def test_edit_and_create_need_their_permissions(client_for, make_user):
    viewer = make_user(*VIEW)
    customer = CustomerFactory()
    client = client_for(viewer)
    assert client.get(reverse("customers:customer-create")).status_code == 403
    assert (
        client.post(reverse("customers:customer-create"), form_data()).status_code
        == 403
    )
    edit = reverse("customers:customer-edit", args=[customer.pk])
    assert client.get(edit).status_code == 403


def test_readonly_fields_are_disabled_in_the_form(client_for, make_user):
    user = make_user(
        *EDIT,
        field_rights={
            "customers.customer": {"credit_limit": "readonly", "main_phone": "hidden"}
        },
    )
    customer = CustomerFactory(owner=user)
    form = (
        client_for(user)
        .get(reverse("customers:customer-edit", args=[customer.pk]))
        .context["form"]
    )
    assert form.fields["credit_limit"].disabled
    assert "main_phone" not in form.fields


# 360° view and the tab registry (C5)


def test_customer_360_view(client_for, boss):
    parent = CustomerFactory(name="海康集团")
    customer = CustomerFactory(
        name="杭州海康威视", parent=parent, region=Region.objects.get(code="330108")
    )
    CustomerFactory(name="海康西安分公司", parent=customer)
    services.contact_create(
        actor=boss,
        data={"customer": customer, "name": "胡扬忠", "mobile": "13900001111"},
    )
    response = client_for(boss).get(
        reverse("customers:customer-detail", args=[customer.pk])
    )
    assert response.status_code == 200
    header = text(response)
    assert "胡扬忠" in header  # primary contact in the header
    assert "海康集团" in header
    assert "浙江省 杭州市 滨江区" in header
    keys = [t["tab"].key for t in response.context["tabs"]]
    assert keys[:1] == ["contacts"]
    assert "subsidiaries" in keys
    counts = {t["tab"].key: t["count"] for t in response.context["tabs"]}
    assert counts["contacts"] == 1
    assert counts["subsidiaries"] == 1
    assert 'id="tab-history"' in response.content.decode()


def test_360_header_hides_restricted_values(client_for, make_user):
    user = make_user(
        *VIEW,
        field_rights={
            "customers.customer": {"main_phone": "hidden", "credit_limit": "hidden"},
            "customers.contact": {"mobile": "hidden"},
        },
    )
    customer = CustomerFactory(main_phone="0571-88075998", credit_limit=98765)
    ContactFactory(
        customer=customer, name="胡扬忠", mobile="13900001111", is_primary=True
    )
    page = text(
        client_for(user).get(reverse("customers:customer-detail", args=[customer.pk]))
    )
    assert "胡扬忠" in page
    assert "13900001111" not in page
    assert "88075998" not in page
    assert "98765" not in page


def test_contacts_tab_lists_the_contacts(client_for, boss):
    customer = CustomerFactory()
    ContactFactory(customer=customer, name="甲联系人", is_primary=True)
    ContactFactory(customer=customer, name="乙联系人")
    response = client_for(boss).get(
        reverse("customers:customer-tab", args=[customer.pk, "contacts"])
    )
    assert response.status_code == 200
    assert "甲联系人" in text(response)
    assert "乙联系人" in text(response)


@pytest.fixture
def orders_tab():
    """A tab another module registers without the customers app knowing it (here one
    that renders itself; the contacts tab uses a template and a context)."""

    def render(request, customer):
        return format_html(
            "<p id='orders'>{}的订单 {}</p>", customer.name, customer.number
        )

    register_tab(
        "customers.customer",
        "test_orders",  # not "orders": the sales app's real tab must survive the test
        "Orders",
        render,
        order=40,
        perm="core.export_data",
        count=lambda user, customer: 7,
    )
    yield
    TABS["customers.customer"].pop("test_orders")


def test_other_modules_register_tabs_in_the_360_view(
    orders_tab, client_for, boss, make_user
):
    customer = CustomerFactory(name="甲公司")
    client = client_for(boss)
    page = client.get(reverse("customers:customer-detail", args=[customer.pk]))
    tabs = [(t["tab"].key, t["count"]) for t in page.context["tabs"]]
    assert tabs == [("contacts", 0), ("test_orders", 7), ("subsidiaries", 0)]
    tab = client.get(
        reverse("customers:customer-tab", args=[customer.pk, "test_orders"])
    )
    assert tab.status_code == 200
    assert text(tab) == f"甲公司的订单 {customer.number}"
    # Without the tab's permission: neither the button nor the content.
    rep = make_user(*VIEW)
    rep_client = client_for(rep)
    page = rep_client.get(reverse("customers:customer-detail", args=[customer.pk]))
    assert "test_orders" not in [t["tab"].key for t in page.context["tabs"]]
    denied = rep_client.get(
        reverse("customers:customer-tab", args=[customer.pk, "test_orders"])
    )
    assert denied.status_code == 403


def test_unknown_tab_or_customer_outside_the_scope_is_404(client_for, scoped_org):
    customer = CustomerFactory(owner=scoped_org.rep_c)
    client = client_for(scoped_org.rep_a)
    url = reverse("customers:customer-tab", args=[customer.pk, "contacts"])
    assert client.get(url).status_code == 404
    mine = CustomerFactory(owner=scoped_org.rep_a)
    url = reverse("customers:customer-tab", args=[mine.pk, "nothing"])
    assert client.get(url).status_code == 404


# Copy, recycle bin, merge, duplicates


def test_copy_view(client_for, boss):
    customer = CustomerFactory(name="甲公司")
    response = client_for(boss).post(
        reverse("customers:customer-copy", args=[customer.pk]), {"name": "乙公司"}
    )
    copy = Customer.objects.get(name="乙公司")
    assert response.url == reverse("customers:customer-detail", args=[copy.pk])


def test_delete_restore_through_the_pages(client_for, boss, make_user):
    customer = CustomerFactory(name="甲公司")
    client = client_for(boss)
    response = client.post(reverse("customers:customer-delete", args=[customer.pk]))
    assert response.url == reverse("customers:customer-list")
    listed = client.get(reverse("customers:customer-list"))
    assert listed.context["rows"] == []
    binned = client.get(reverse("customers:bin"))
    assert [r["obj"].name for r in binned.context["rows"]] == ["甲公司"]
    detail = client.get(reverse("customers:customer-detail", args=[customer.pk]))
    assert detail.status_code == 200
    assert (
        'action="{}"'.format(reverse("customers:customer-restore", args=[customer.pk]))
        in detail.content.decode()
    )
    # Someone without the restore permission sees neither the bin nor the customer.
    editor = client_for(make_user(*EDIT))
    assert editor.get(reverse("customers:bin")).status_code == 403
    gone = reverse("customers:customer-detail", args=[customer.pk])
    assert editor.get(gone).status_code == 404
    client.post(reverse("customers:customer-restore", args=[customer.pk]))
    customer.refresh_from_db()
    assert not customer.is_deleted


def test_delete_without_permission_is_403(client_for, make_user):
    customer = CustomerFactory()
    response = client_for(make_user(*EDIT)).post(
        reverse("customers:customer-delete", args=[customer.pk])
    )
    assert response.status_code == 403


def test_merge_page_and_merge(client_for, boss):
    survivor = CustomerFactory(name="华为技术有限公司", level="c")
    other = CustomerFactory(name="华为技术（深圳）", level="a")
    ContactFactory(customer=other)
    client = client_for(boss)
    url = reverse("customers:customer-merge")
    page = client.get(url, {"ids": [survivor.pk, other.pk]})
    assert page.status_code == 200
    assert {r["name"] for r in page.context["rows"]} >= {"name", "level", "credit_code"}
    data = {
        "ids": [survivor.pk, other.pk],
        "survivor": survivor.pk,
        "field_name": survivor.pk,
        "field_level": other.pk,
        f"version_{survivor.pk}": survivor.version,
        f"version_{other.pk}": other.version,
    }
    response = client.post(url, data)
    assert response.url == reverse("customers:customer-detail", args=[survivor.pk])
    survivor.refresh_from_db()
    assert survivor.level == "a"
    assert Contact.objects.filter(customer=survivor).count() == 1
    # The tombstone's page leads to the survivor.
    tomb = client.get(reverse("customers:customer-detail", args=[other.pk]))
    assert tomb.status_code == 302
    assert tomb.url == reverse("customers:customer-detail", args=[survivor.pk])
    assert AuditEvent.objects.filter(action="merge").count() == 2


def test_merge_page_adds_customers_by_number(client_for, boss):
    first = CustomerFactory()
    second = CustomerFactory()
    page = client_for(boss).get(
        reverse("customers:customer-merge"),
        {"ids": first.pk, "numbers": f"{second.number}"},
    )
    assert [c.pk for c in page.context["customers"]] == [first.pk, second.pk]


def test_merge_needs_the_merge_permission_and_the_scope(
    client_for, make_user, scoped_org
):
    editor = client_for(make_user(*EDIT))
    assert editor.get(reverse("customers:customer-merge")).status_code == 403
    outside = CustomerFactory(owner=scoped_org.rep_c)
    mine = CustomerFactory(owner=scoped_org.manager)
    response = client_for(scoped_org.manager).get(
        reverse("customers:customer-merge"), {"ids": [mine.pk, outside.pk]}
    )
    assert response.status_code == 404


def test_duplicates_page(client_for, boss):
    CustomerFactory(name="北京华为技术有限公司", name_key="华为技术")
    CustomerFactory(name="华为技术有限公司", name_key="华为技术")
    CustomerFactory(name="腾讯")
    response = client_for(boss).get(reverse("customers:duplicates"))
    assert response.status_code == 200
    page = text(response)
    assert "北京华为技术有限公司" in page
    assert "腾讯" not in page
    assert reverse("customers:customer-merge") in response.content.decode()


def test_lookup_finds_customers_for_pickers(client_for, boss, scoped_org):
    CustomerFactory(name="北京华为技术有限公司", owner=scoped_org.rep_a)
    CustomerFactory(name="北京华为其他", owner=scoped_org.rep_c)
    found = client_for(scoped_org.rep_a).get(
        reverse("customers:customer-lookup"), {"q": "bjhw"}
    )
    assert [row["text"].split(" ", 1)[1] for row in found.json()] == [
        "北京华为技术有限公司"
    ]


# Contacts


def test_contact_pages(client_for, boss):
    customer = CustomerFactory(name="甲公司")
    client = client_for(boss)
    create = reverse("customers:contact-create", args=[customer.pk])
    assert client.get(create).status_code == 200
    response = client.post(
        create,
        {"name": "王芳", "mobile": "13912345678", "gender": "female", "is_primary": ""},
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.customer == customer
    assert contact.is_primary
    detail = client.get(reverse("customers:contact-detail", args=[contact.pk]))
    assert detail.status_code == 200
    assert "王芳" in text(detail)
    listing = client.get(reverse("customers:contact-list"), {"q": "王芳"})
    assert [r["obj"] for r in listing.context["rows"]] == [contact]
    bad = client.post(
        reverse("customers:contact-edit", args=[contact.pk]),
        {"name": "王芳", "mobile": "123", "version": contact.version},
    )
    assert bad.status_code == 400


def test_contact_set_primary_and_delete_views(client_for, boss):
    customer = CustomerFactory()
    first = services.contact_create(
        actor=boss, data={"customer": customer, "name": "甲"}
    )
    second = services.contact_create(
        actor=boss, data={"customer": customer, "name": "乙"}
    )
    client = client_for(boss)
    client.post(reverse("customers:contact-set-primary", args=[second.pk]))
    second.refresh_from_db()
    assert second.is_primary
    client.post(reverse("customers:contact-delete", args=[second.pk]))
    first.refresh_from_db()
    assert first.is_primary
    assert not Contact.objects.filter(pk=second.pk).exists()


def test_contact_of_a_customer_outside_the_scope_is_404(client_for, scoped_org):
    contact = ContactFactory(customer=CustomerFactory(owner=scoped_org.rep_c))
    client = client_for(scoped_org.rep_a)
    assert (
        client.get(reverse("customers:contact-detail", args=[contact.pk])).status_code
        == 404
    )
    create = reverse("customers:contact-create", args=[contact.customer_id])
    assert client.get(create).status_code == 404
