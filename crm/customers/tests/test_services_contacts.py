"""C2 contacts: every field, several per customer, exactly one primary, scope through
the customer, versions and audit."""

import datetime

import pytest

from crm.core.errors import Conflict, Forbidden, Invalid
from crm.customers import services
from crm.customers.models import Contact
from crm.customers.selectors import contact_queryset
from crm.customers.tests.conftest import VIEW
from crm.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def add(actor, customer, **data):
    data.setdefault("name", "张三")
    return services.contact_create(actor=actor, data={"customer": customer, **data})


def primaries(customer):
    return list(
        Contact.objects.filter(customer=customer, is_primary=True).values_list(
            "name", flat=True
        )
    )


def test_every_c2_field_is_stored(boss, org):
    customer = CustomerFactory(owner=org.rep_a)
    chief = add(boss, customer, name="李总")
    contact = add(
        boss,
        customer,
        name="王芳",
        gender=Contact.Gender.FEMALE,
        age=36,
        department_name="采购部",
        position="采购经理",
        supervisor=chief,
        office_phone="021-62345678-801",
        mobile="13912345678",
        email="wangfang@example.cn",
        home_phone="021-52345678",
        fax="021-62345679",
        birthday=datetime.date(1990, 5, 20),
        hobbies="羽毛球",
        notes="周三下午方便",
        responsible=org.rep_b,
    )
    contact.refresh_from_db()
    assert (contact.supervisor, contact.responsible) == (chief, org.rep_b)
    assert contact.birthday == datetime.date(1990, 5, 20)
    assert (contact.mobile, contact.fax) == ("13912345678", "021-62345679")


def test_responsible_employee_defaults_to_the_customers_owner(boss, org):
    contact = add(boss, CustomerFactory(owner=org.rep_a))
    assert contact.responsible == org.rep_a


def test_first_contact_is_primary_and_later_ones_are_not(boss):
    customer = CustomerFactory()
    add(boss, customer, name="甲")
    add(boss, customer, name="乙")
    assert primaries(customer) == ["甲"]


def test_a_new_primary_contact_takes_over(boss):
    customer = CustomerFactory()
    first = add(boss, customer, name="甲")
    add(boss, customer, name="乙", is_primary=True)
    assert primaries(customer) == ["乙"]
    first.refresh_from_db()
    assert first.version == 2  # unset through a versioned, audited change


def test_set_primary_unsets_the_other(boss):
    customer = CustomerFactory()
    add(boss, customer, name="甲")
    second = add(boss, customer, name="乙")
    services.contact_set_primary(actor=boss, contact=second)
    assert primaries(customer) == ["乙"]


def test_editing_a_contact_into_primary_unsets_the_other(boss):
    customer = CustomerFactory()
    add(boss, customer, name="甲")
    second = add(boss, customer, name="乙")
    services.contact_update(
        actor=boss, obj=second, data={"is_primary": True}, version=second.version
    )
    assert primaries(customer) == ["乙"]


def test_the_primary_contact_cannot_just_be_unset(boss):
    customer = CustomerFactory()
    first = add(boss, customer, name="甲")
    with pytest.raises(Invalid) as info:
        services.contact_update(
            actor=boss, obj=first, data={"is_primary": False}, version=first.version
        )
    assert "is_primary" in info.value.fields
    assert primaries(customer) == ["甲"]


def test_deleting_the_primary_contact_promotes_the_next(boss):
    customer = CustomerFactory()
    first = add(boss, customer, name="甲")
    add(boss, customer, name="乙")
    services.contact_delete(actor=boss, obj=first)
    assert primaries(customer) == ["乙"]


def test_supervisor_works_at_the_same_customer(boss):
    customer = CustomerFactory()
    stranger = add(boss, CustomerFactory(), name="外人")
    with pytest.raises(Invalid) as info:
        add(boss, customer, supervisor=stranger)
    assert "supervisor" in info.value.fields
    me = add(boss, customer, name="我")
    with pytest.raises(Invalid):
        services.contact_update(
            actor=boss, obj=me, data={"supervisor": me}, version=me.version
        )


def test_contact_phones_are_validated(boss):
    with pytest.raises(Invalid) as info:
        add(boss, CustomerFactory(), mobile="1234")
    assert "mobile" in info.value.fields


def test_contact_update_refuses_a_stale_version(boss):
    contact = add(boss, CustomerFactory())
    services.contact_update(
        actor=boss, obj=contact, data={"position": "经理"}, version=contact.version
    )
    with pytest.raises(Conflict):
        services.contact_update(
            actor=boss, obj=contact, data={"position": "总监"}, version=contact.version
        )


def test_contacts_need_their_permissions(make_user, boss):
    viewer = make_user(*VIEW)
    customer = CustomerFactory()
    with pytest.raises(Forbidden):
        add(viewer, customer)
    contact = add(boss, customer)
    with pytest.raises(Forbidden):
        services.contact_delete(actor=viewer, obj=contact)


def test_no_contacts_for_a_customer_in_the_recycle_bin(boss):
    customer = CustomerFactory()
    services.customer_delete(actor=boss, customer=customer)
    with pytest.raises(Invalid):
        add(boss, customer)


def test_contacts_are_scoped_through_their_customer(scoped_org, boss):
    org = scoped_org
    mine = add(boss, CustomerFactory(owner=org.rep_a), name="我的联系人")
    theirs = add(boss, CustomerFactory(owner=org.rep_b), name="同事的联系人")
    south = add(boss, CustomerFactory(owner=org.rep_c), name="华南的联系人")
    assert set(contact_queryset(actor=org.rep_a)) == {mine}
    assert set(contact_queryset(actor=org.manager)) == {mine, theirs}
    assert south not in contact_queryset(actor=org.manager)
