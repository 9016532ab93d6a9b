"""Times before 1900 are refused where follow-ups are recorded: the time zone database
gives them local mean time (+08:05:43), which no ISO 8601 client reads back."""

import datetime

import pytest
from django.utils import timezone, translation

from crm.core.errors import Invalid
from crm.customers.activities import activity_create
from crm.customers.tests.factories import CustomerFactory
from crm.sales.models import Lead
from crm.sales.services.leads import lead_follow_up_create

ANCIENT = timezone.make_aware(datetime.datetime(151, 2, 26, 9, 54))


def test_a_customer_follow_up_before_1900_is_refused(org):
    customer = CustomerFactory(owner=org.admin)
    with translation.override("en"), pytest.raises(Invalid) as refused:
        activity_create(
            actor=org.admin,
            data={"customer": customer, "occurred_at": ANCIENT, "content": "电话"},
        )
    assert refused.value.fields["occurred_at"] == ["Enter a time after 1900."]


def test_a_lead_follow_up_before_1900_is_refused(org):
    lead = Lead.objects.create(
        number="XS-EARLY", name="线索", owner=org.admin, department=org.admin.department
    )
    with translation.override("en"), pytest.raises(Invalid) as refused:
        lead_follow_up_create(
            actor=org.admin, lead=lead, data={"occurred_at": ANCIENT, "content": "电话"}
        )
    assert refused.value.fields["occurred_at"] == ["Enter a time after 1900."]
    assert not lead.follow_ups.exists()
