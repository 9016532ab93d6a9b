"""The smallest valid customers and contacts."""

import factory

from crm.core.numbering import next_number
from crm.customers.models import Contact, Customer
from crm.customers.naming import name_initials, name_key


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer of `owner` (in the owner's department unless given)."""

    class Meta:
        model = Customer

    number = factory.LazyFunction(lambda: next_number("customers.customer"))
    name = factory.Sequence(lambda n: f"测试客户{n}有限公司")
    mnemonic = factory.LazyAttribute(lambda o: name_initials(o.name))
    name_initials = factory.LazyAttribute(lambda o: name_initials(o.name))
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))
    owner = None
    department = factory.LazyAttribute(
        lambda o: o.owner.department if o.owner else None
    )


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
