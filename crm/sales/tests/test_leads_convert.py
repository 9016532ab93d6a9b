"""S1 conversion: in one transaction a lead becomes (or is linked to) a customer, a
contact and optionally an opportunity; existing customers that look the same are
suggested first; a converted lead is read-only and converting again is refused (409);
anything refused on the way leaves nothing behind."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.core.models import AuditEvent
from crm.core.tests import pages
from crm.customers.models import Contact, Customer
from crm.customers.tests.factories import ContactFactory, CustomerFactory
from crm.sales.models import Lead, Opportunity
from crm.sales.services import leads as lead_services
from crm.sales.services import opportunities as opportunity_services
from crm.sales.services.leads import lead_convert
from crm.sales.tests.leads_fixtures import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def lead(sales_org, make_lead):
    return make_lead(
        sales_org.rep_a,
        name="钱七",
        company="温州某某电器有限公司",
        job_title="采购经理",
        mobile="13511112222",
        phone="0577-88889999",
        email="qian@example.com",
        source="campaign",
        requirement="采购 200 台",
    )


def state(lead):
    lead.refresh_from_db()
    return lead.status, lead.version, lead.customer_id, lead.contact_id


def test_a_lead_becomes_customer_contact_and_opportunity(sales_org, lead):
    rep = sales_org.rep_a
    close = datetime.date(2099, 6, 30)
    converted = lead_convert(
        actor=rep,
        lead=lead,
        new_customer={"name": "温州某某电器有限公司"},
        opportunity={
            "name": "200 台电器",
            "amount": Decimal("88000"),
            "expected_close_on": close,
        },
    )
    customer = Customer.objects.get()
    contact = Contact.objects.get()
    deal = Opportunity.objects.get()
    assert (customer.name, customer.main_phone, customer.email, customer.owner) == (
        "温州某某电器有限公司",
        "0577-88889999",
        "qian@example.com",
        rep,
    )
    assert (contact.customer, contact.name, contact.mobile, contact.position) == (
        customer,
        "钱七",
        "13511112222",
        "采购经理",
    )
    assert (deal.name, deal.customer, deal.contact, deal.amount) == (
        "200 台电器",
        customer,
        contact,
        Decimal("88000"),
    )
    assert deal.expected_close_on == close
    assert (converted.customer, converted.contact, converted.opportunity) == (
        customer,
        contact,
        deal,
    )
    assert (converted.status, converted.converted_by) == ("converted", rep)
    assert AuditEvent.objects.filter(object_id=str(lead.pk), action="convert").exists()


def test_link_to_an_existing_customer_and_contact(sales_org, lead, customer):
    contact = customer.contacts.get()
    converted = lead_convert(
        actor=sales_org.rep_a, lead=lead, customer=customer, contact=contact
    )
    assert (converted.customer, converted.contact, converted.opportunity) == (
        customer,
        contact,
        None,
    )
    assert Customer.objects.count() == 1
    assert Contact.objects.count() == 1


def test_link_and_create_a_contact_from_the_lead(sales_org, lead, customer):
    converted = lead_convert(actor=sales_org.rep_a, lead=lead, customer=customer)
    assert converted.contact.name == "钱七"
    assert converted.contact.customer == customer
    assert Customer.objects.count() == 1


def test_a_customer_outside_the_scope_cannot_be_linked(sales_org, lead):
    theirs = CustomerFactory(owner=sales_org.rep_c, name="别人的客户")
    with pytest.raises(Invalid) as exc:
        lead_convert(actor=sales_org.rep_a, lead=lead, customer=theirs)
    assert "customer" in exc.value.fields
    assert state(lead) == ("new", 1, None, None)


def test_a_contact_of_another_customer_is_refused(sales_org, lead, customer):
    other = CustomerFactory(owner=sales_org.rep_a, name="另一家")
    stranger = ContactFactory(customer=other, name="路人")
    with pytest.raises(Invalid) as exc:
        lead_convert(
            actor=sales_org.rep_a, lead=lead, customer=customer, contact=stranger
        )
    assert "contact" in exc.value.fields
    assert state(lead) == ("new", 1, None, None)


def test_converting_twice_is_refused(sales_org, lead, customer):
    lead_convert(actor=sales_org.rep_a, lead=lead, customer=customer)
    with pytest.raises(Conflict):
        lead_convert(actor=sales_org.rep_a, lead=lead, customer=customer)
    assert Contact.objects.filter(name="钱七").count() == 1


def test_a_disqualified_lead_is_not_converted(sales_org, make_lead):
    lead = make_lead(sales_org.rep_a, status="disqualified", disqualify_reason="无需求")
    with pytest.raises(Conflict):
        lead_convert(actor=sales_org.rep_a, lead=lead)
    assert not Customer.objects.exists()


def test_a_failing_opportunity_rolls_everything_back(sales_org, lead, monkeypatch):
    def refuse(*, actor, data):
        assert Customer.objects.filter(name="温州某某电器有限公司").exists()
        raise Invalid("Amount too large.", fields={"amount": ["Too large."]})

    monkeypatch.setattr(
        opportunity_services, "opportunity_create", refuse, raising=False
    )
    with pytest.raises(Invalid) as exc:
        lead_convert(actor=sales_org.rep_a, lead=lead, opportunity={"name": "x"})
    assert exc.value.fields == {"opportunity_amount": ["Too large."]}
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
    assert state(lead) == ("new", 1, None, None)
    assert not AuditEvent.objects.filter(action__in=["convert"]).exists()
    assert not AuditEvent.objects.filter(content_type__model="customer").exists()


def test_a_failing_contact_rolls_the_new_customer_back(sales_org, lead, monkeypatch):
    def broken(*, actor, data):
        raise Invalid("Mobile taken.", fields={"mobile": ["Taken."]})

    monkeypatch.setattr(lead_services, "contact_create", broken)
    with pytest.raises(Invalid) as exc:
        lead_convert(actor=sales_org.rep_a, lead=lead)
    assert exc.value.fields == {"contact_mobile": ["Taken."]}
    assert not Customer.objects.exists()
    assert state(lead) == ("new", 1, None, None)


def test_a_rep_who_may_not_add_customers_can_still_link(sales_org, lead, customer):
    from crm.org.tests.factories import make_role
    from crm.sales.tests.conftest import sales_perms

    linker = make_role(
        "只能关联",
        *sales_perms("view", "change"),
        "customers.view_customer",
        "customers.view_contact",
    )
    sales_org.rep_a.groups.set([linker])
    with pytest.raises(Forbidden):
        lead_convert(actor=sales_org.rep_a, lead=lead)
    assert not Customer.objects.filter(name="温州某某电器有限公司").exists()
    converted = lead_convert(
        actor=sales_org.rep_a,
        lead=lead,
        customer=customer,
        contact=customer.contacts.get(),
    )
    assert converted.status == "converted"


# Duplicates suggested before converting


def test_the_page_suggests_customers_that_look_the_same(
    sales_org, make_lead, customer, client_for
):
    lead = make_lead(
        sales_org.rep_a, company="杭州西湖科技有限公司", mobile="13900000000"
    )
    CustomerFactory(owner=sales_org.rep_c, name="杭州西湖科技有限公司")
    page = client_for(sales_org.rep_a).get(f"/sales/leads/{lead.pk}/convert/")
    assert page.status_code == 200
    candidates = pages.section(page, 'id="customer-candidates"')
    assert customer.number in candidates
    assert "same name" in candidates
    assert (
        "1 more customer that looks the same is outside your data scope" in candidates
    )
    assert f"?customer={customer.pk}" in page.content.decode()


def test_same_phone_is_suggested_too(sales_org, make_lead, customer, client_for):
    customer.contacts.update(mobile="13522223333")
    lead = make_lead(sales_org.rep_a, company="完全不同的名字", mobile="13522223333")
    page = client_for(sales_org.rep_a).get(f"/sales/leads/{lead.pk}/convert/")
    assert "same phone" in pages.section(page, 'id="customer-candidates"')


def test_creating_a_lookalike_asks_first(sales_org, make_lead, customer, client_for):
    lead = make_lead(sales_org.rep_a, company="杭州西湖科技有限公司")
    client = client_for(sales_org.rep_a)
    url = f"/sales/leads/{lead.pk}/convert/"
    data = {
        "customer_mode": "new",
        "customer_name": "杭州西湖科技有限公司",
        "contact_mode": "new",
    }
    first = client.post(url, data)
    assert first.status_code == 200
    assert "may already exist" in pages.text(first)
    assert Customer.objects.count() == 1
    assert state(lead)[0] == "new"
    confirm = first.context["form"].data["confirm_new"]
    second = client.post(url, {**data, "confirm_new": confirm})
    assert second.status_code == 302
    assert Customer.objects.count() == 2
    assert state(lead)[0] == "converted"


def test_link_from_the_page(sales_org, lead, customer, client_for):
    client = client_for(sales_org.rep_a)
    url = f"/sales/leads/{lead.pk}/convert/"
    page = client.get(url, {"customer": customer.pk})
    assert "赵敏" in page.content.decode()  # the customer's contact to pick
    contact = customer.contacts.get()
    response = client.post(
        url,
        {
            "customer_mode": "existing",
            "customer": customer.pk,
            "contact_mode": "existing",
            "contact": contact.pk,
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.customer, lead.contact) == (
        "converted",
        customer,
        contact,
    )
    detail = client.get(f"/sales/leads/{lead.pk}/")
    assert f"/customers/{customer.pk}/" in pages.section(
        detail, 'id="lead-converted"'
    ) or (f'href="/customers/{customer.pk}/"' in detail.content.decode())
    # Converting again from the page: 409 becomes a message and back.
    again = client.post(url, {"customer_mode": "new", "customer_name": "x"})
    assert again.status_code == 302
    assert Customer.objects.count() == 1


def test_a_customer_outside_the_scope_is_not_found_on_the_page(
    sales_org, lead, client_for
):
    theirs = CustomerFactory(owner=sales_org.rep_c)
    response = client_for(sales_org.rep_a).get(
        f"/sales/leads/{lead.pk}/convert/", {"customer": theirs.pk}
    )
    assert response.status_code == 404


# API


def test_api_convert_and_twice_is_409(sales_org, lead, customer):
    client = APIClient()
    client.force_authenticate(sales_org.rep_a)
    url = f"/api/v1/sales/leads/{lead.pk}/convert/"
    theirs = CustomerFactory(owner=sales_org.rep_c)
    hidden = client.post(url, {"customer": theirs.pk}, format="json")
    assert hidden.status_code == 400
    assert "customer" in hidden.json()["fields"]
    response = client.post(
        url,
        {"customer": customer.pk, "contact": customer.contacts.get().pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["customer"]) == ("converted", customer.pk)
    again = client.post(url, {"customer": customer.pk}, format="json")
    assert again.status_code == 409
    assert Lead.objects.get().version == 2


def test_link_to_another_customer_by_number(sales_org, lead, customer, client_for):
    client = client_for(sales_org.rep_a)
    url = f"/sales/leads/{lead.pk}/convert/"
    page = client.get(url, {"customer_number": customer.number})
    assert page.status_code == 200
    assert f"Link to {customer.name}" in pages.text(page)
    theirs = CustomerFactory(owner=sales_org.rep_c)
    page = client.get(url, {"customer_number": theirs.number})
    assert page.status_code == 200
    assert f"No customer {theirs.number} within your scope." in pages.text(page)
    assert theirs.name not in pages.text(page)


def test_a_refused_opportunity_leaves_nothing_behind(sales_org, lead, client_for):
    """The real opportunity service refuses (no open pipeline stage): the customer and
    contact created just before are rolled back with it."""
    from crm.sales.models import Stage

    Stage.objects.update(is_active=False)
    with pytest.raises(Invalid) as exc:
        lead_convert(actor=sales_org.rep_a, lead=lead, opportunity={"name": "大单"})
    assert "opportunity_stage" in exc.value.fields
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
    assert not Opportunity.objects.exists()
    assert state(lead) == ("new", 1, None, None)
    response = client_for(sales_org.rep_a).post(
        f"/sales/leads/{lead.pk}/convert/",
        {
            "customer_mode": "new",
            "customer_name": "温州某某电器有限公司",
            "contact_mode": "new",
            "create_opportunity": "on",
            "opportunity_name": "大单",
            "opportunity_amount": "5000",
        },
    )
    assert response.status_code == 400
    assert "No active open pipeline stage is configured." in pages.text(response)
    assert not Customer.objects.exists()
    assert state(lead) == ("new", 1, None, None)


def test_convert_with_an_opportunity_from_the_page(sales_org, lead, client_for):
    response = client_for(sales_org.rep_a).post(
        f"/sales/leads/{lead.pk}/convert/",
        {
            "customer_mode": "new",
            "customer_name": "温州某某电器有限公司",
            "customer_credit_code": "",
            "contact_mode": "new",
            "create_opportunity": "on",
            "opportunity_name": "200 台电器",
            "opportunity_amount": "88000.50",
            "opportunity_expected_close_on": "2099-06-30",
        },
    )
    assert response.status_code == 302, pages.text(response)[:500]
    deal = Opportunity.objects.get()
    assert (deal.name, deal.amount, str(deal.expected_close_on)) == (
        "200 台电器",
        Decimal("88000.50"),
        "2099-06-30",
    )
    assert (deal.source, deal.description, deal.owner) == (
        "campaign",
        "采购 200 台",
        sales_org.rep_a,
    )
    lead.refresh_from_db()
    assert lead.opportunity == deal
