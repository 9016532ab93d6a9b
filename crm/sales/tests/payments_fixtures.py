"""Documents and receivables for the payment and commission tests, made directly with
the models (the contract and order services belong to their own areas): a contract or
a direct order with priced lines, and instalments copying its customer, owner and
department, open as the contract/order services open them on activation."""

import datetime
import itertools
from decimal import Decimal

from crm.customers.tests.factories import CustomerFactory
from crm.products.models import Category, Product
from crm.sales.models import (
    Contract,
    ContractLine,
    Instalment,
    SalesOrder,
    SalesOrderLine,
)
from crm.sales.pricing import apply_line_amounts, document_totals

_numbers = itertools.count(1)


def customer_of(owner, **fields):
    return CustomerFactory(owner=owner, **fields)


def product_in(category: Category, **fields) -> Product:
    n = next(_numbers)
    values = {"code": f"PAY-{n:05d}", "name": f"回款产品{n}", "category": category}
    values.update(fields)
    return Product.objects.create(**values)


def _lines(document, line_model, link: str, lines, kind: str):
    made = []
    for index, (product, quantity, price) in enumerate(lines or []):
        line = line_model(
            **{link: document},
            product=product,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            tax_rate=Decimal("0"),
            sort_order=index,
        )
        apply_line_amounts(line, kind)
        line.save()
        made.append(line)
    totals = document_totals(made)
    document.amount, document.tax_amount, document.total = (
        totals.amount,
        totals.tax_amount,
        totals.total,
    )
    document.save(update_fields=["amount", "tax_amount", "total"])
    return made


def make_contract(owner, customer=None, *, lines=(), department=None) -> Contract:
    """An active contract of `owner` with lines [(product, quantity, unit price)]."""
    customer = customer or customer_of(owner)
    contract = Contract.objects.create(
        number=f"HT-T{next(_numbers):05d}",
        title="测试合同",
        customer=customer,
        owner=owner,
        department=department or (owner.department if owner else None),
        status=Contract.Status.ACTIVE,
    )
    _lines(contract, ContractLine, "contract", lines, "contract")
    return contract


def make_order(owner, customer=None, *, lines=(), department=None) -> SalesOrder:
    """A confirmed direct order of `owner` with lines [(product, quantity, price)]."""
    customer = customer or customer_of(owner)
    order = SalesOrder.objects.create(
        number=f"DD-T{next(_numbers):05d}",
        customer=customer,
        owner=owner,
        department=department or (owner.department if owner else None),
        status=SalesOrder.Status.CONFIRMED,
        ordered_on=datetime.date(2026, 1, 5),
    )
    _lines(order, SalesOrderLine, "order", lines, "order")
    return order


def make_instalment(
    document, amount, *, due_on=None, sequence=1, is_open=True, received="0"
) -> Instalment:
    """An instalment of a contract or order, with its customer, owner and department."""
    link = (
        {"contract": document}
        if isinstance(document, Contract)
        else {"order": document}
    )
    return Instalment.objects.create(
        **link,
        customer=document.customer,
        owner=document.owner,
        department=document.department,
        sequence=sequence,
        due_on=due_on or datetime.date(2026, 6, 30),
        amount=Decimal(amount),
        received=Decimal(received),
        is_open=is_open,
    )


def receivable(owner, amount="1000.00", **kwargs) -> Instalment:
    """An open contract instalment of `owner` (a contract without lines)."""
    return make_instalment(make_contract(owner), amount, **kwargs)
