"""Sales records for the workspace tests, made directly with the models (the documents'
services belong to their own areas): the smallest valid lead, opportunity, quote,
contract, order, instalment and payment of an owner, in the owner's department."""

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from crm.sales.models import (
    Contract,
    Instalment,
    Lead,
    Opportunity,
    Payment,
    Quote,
    SalesOrder,
    Stage,
)

_numbers = itertools.count(1)


def _n(prefix: str) -> str:
    return f"{prefix}{next(_numbers):06d}"


def _owned(owner, fields: dict) -> dict:
    return {"owner": owner, "department": owner.department, **fields}


def make_lead(owner, customer=None, **fields) -> Lead:
    values = {"number": _n("WL"), "name": "线索联系人", "company": "线索公司"}
    if customer is not None:
        values |= {
            "customer": customer,
            "status": Lead.Status.CONVERTED,
            "converted_at": timezone.now(),
        }
    return Lead.objects.create(**_owned(owner, values | fields))


def make_opportunity(owner, customer, **fields) -> Opportunity:
    stage = Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("sort_order").first()
    values = {
        "number": _n("WS"),
        "name": "商机",
        "customer": customer,
        "stage": stage,
        "amount": Decimal("50000"),
    }
    return Opportunity.objects.create(**_owned(owner, values | fields))


def make_quote(owner, customer, **fields) -> Quote:
    values = {
        "number": _n("WB"),
        "title": "报价",
        "customer": customer,
        "total": Decimal("1130"),
        "quoted_on": timezone.localdate(),
    }
    return Quote.objects.create(**_owned(owner, values | fields))


def make_contract(owner, customer, **fields) -> Contract:
    values = {
        "number": _n("WH"),
        "title": "合同",
        "customer": customer,
        "total": Decimal("22600"),
        "status": Contract.Status.ACTIVE,
        "signed_on": timezone.localdate(),
    }
    return Contract.objects.create(**_owned(owner, values | fields))


def make_order(owner, customer, **fields) -> SalesOrder:
    values = {
        "number": _n("WD"),
        "customer": customer,
        "total": Decimal("3390"),
        "ordered_on": timezone.localdate(),
    }
    return SalesOrder.objects.create(**_owned(owner, values | fields))


def make_instalment(contract, *, due_in_days=0, amount="1000", received="0", **fields):
    values = {
        "contract": contract,
        "customer": contract.customer,
        "owner": contract.owner,
        "department": contract.department,
        "due_on": timezone.localdate() + datetime.timedelta(days=due_in_days),
        "amount": Decimal(amount),
        "received": Decimal(received),
        "is_open": True,
    }
    return Instalment.objects.create(**(values | fields))


def make_payment(instalment, **fields) -> Payment:
    values = {
        "number": _n("WK"),
        "instalment": instalment,
        "customer": instalment.customer,
        "owner": instalment.owner,
        "department": instalment.department,
        "amount": Decimal("100"),
    }
    return Payment.objects.create(**(values | fields))
