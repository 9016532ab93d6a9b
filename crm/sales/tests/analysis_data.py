"""A small known sales dataset for the plan (S8) and analysis (S9) tests.

Records are created directly with the models (these are read tests). The org is the
shared one (crm/conftest.py): rep_a in east, rep_b in east's office, rep_c in south,
the manager sees the east subtree. The test modules compute every expected number from
the Python lists kept here, never with the code under test.
"""

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from crm.core.trees import tree_place
from crm.customers.models import Region
from crm.customers.tests.factories import CustomerFactory
from crm.products.models import Category, Product
from crm.sales.models import (
    Instalment,
    Lead,
    Opportunity,
    Payment,
    SalesOrder,
    SalesOrderLine,
    Stage,
)

D = Decimal
TODAY = datetime.date(2026, 6, 15)
_numbers = itertools.count(1)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def moment(text: str) -> datetime.datetime:
    """A local date-time (Asia/Shanghai) as an aware datetime."""
    return timezone.make_aware(datetime.datetime.fromisoformat(text))


def make_order(owner, customer, ordered_on, lines, status="confirmed", **extra):
    """An order whose total is the sum of its lines' totals (as the services keep it)."""
    order = SalesOrder.objects.create(
        number=f"DD-T{next(_numbers):05d}",
        customer=customer,
        owner=owner,
        department=extra.pop("department", owner.department if owner else None),
        ordered_on=day(ordered_on) if isinstance(ordered_on, str) else ordered_on,
        status=status,
        total=sum((D(total) for _p, total in lines), D("0")),
        **extra,
    )
    for i, (product, total) in enumerate(lines):
        SalesOrderLine.objects.create(
            order=order,
            product=product,
            quantity=D("1"),
            unit_price=D(total),
            amount=D(total),
            total=D(total),
            sort_order=i,
        )
    return order


def make_payment(order, amount, received_on, status="posted"):
    instalment = Instalment.objects.create(
        order=order,
        customer=order.customer,
        owner=order.owner,
        department=order.department,
        due_on=order.ordered_on,
        amount=max(order.total, D(amount)),
    )
    return Payment.objects.create(
        number=f"SK-T{next(_numbers):05d}",
        instalment=instalment,
        customer=order.customer,
        owner=order.owner,
        department=order.department,
        amount=D(amount),
        received_on=day(received_on),
        status=status,
    )


def make_opportunity(owner, customer, stage, amount, *, close=None, closed_at=None):
    status = {"won": "won", "lost": "lost"}.get(stage.kind, "open")
    return Opportunity.objects.create(
        number=f"SJ-T{next(_numbers):05d}",
        name=f"商机{next(_numbers)}",
        customer=customer,
        stage=stage,
        status=status,
        amount=D(amount),
        expected_close_on=day(close) if close else None,
        closed_at=moment(closed_at) if closed_at else None,
        owner=owner,
        department=owner.department,
    )


def make_lead(owner, source, status, created):
    lead = Lead.objects.create(
        number=f"XS-T{next(_numbers):05d}",
        name=f"线索{next(_numbers)}",
        source=source,
        status=status,
        owner=owner,
        department=owner.department,
    )
    Lead.objects.filter(pk=lead.pk).update(created_at=moment(created))
    lead.refresh_from_db()
    return lead


def stages() -> dict:
    """The default stages (migration 0002) by probability, plus won and lost."""
    by = {s.probability: s for s in Stage.objects.filter(kind="open")}
    by["won"] = Stage.objects.get(kind="won")
    by["lost"] = Stage.objects.get(kind="lost")
    return by


def build(org):
    """The dataset; returns a namespace with every record list."""
    hardware = Category.objects.create(name="硬件")
    tree_place(hardware)
    software = Category.objects.create(name="软件")
    tree_place(software)
    p1 = Product.objects.create(
        code=f"T-P1-{next(_numbers)}", name="服务器", category=hardware
    )
    p2 = Product.objects.create(
        code=f"T-P2-{next(_numbers)}", name="数据库", category=software
    )

    xihu = Region.objects.get(code="330106")  # 浙江省 杭州市 西湖区
    pudong = Region.objects.get(code="310115")  # 上海市 浦东新区
    nanshan = Region.objects.get(code="440305")  # 广东省 深圳市 南山区
    cust_a1 = CustomerFactory(owner=org.rep_a, name="杭州一号公司", region=xihu)
    cust_a2 = CustomerFactory(owner=org.rep_a, name="无地区公司", region=None)
    cust_b = CustomerFactory(owner=org.rep_b, name="浦东二号公司", region=pudong)
    cust_c = CustomerFactory(owner=org.rep_c, name="深圳三号公司", region=nanshan)

    a, b, c = org.rep_a, org.rep_b, org.rep_c
    orders = [
        make_order(a, cust_a1, "2026-01-15", [(p1, "1000.00"), (p2, "500.00")]),
        make_order(a, cust_a2, "2026-03-31", [(p1, "2000.50")], status="completed"),
        make_order(a, cust_a1, "2026-04-01", [(p2, "300.25")]),
        make_order(b, cust_b, "2026-02-20", [(p1, "4000.00")]),
        make_order(b, cust_b, "2025-12-31", [(p2, "700.00")]),
        make_order(c, cust_c, "2026-03-01", [(p1, "10000.00")]),
        make_order(c, cust_c, "2027-01-01", [(p1, "50.00")]),
    ]
    not_ordered = [
        make_order(a, cust_a1, "2026-02-10", [(p1, "800.00")], status="draft"),
        make_order(a, cust_a1, "2026-02-11", [(p2, "900.00")], status="cancelled"),
    ]
    payments = [
        make_payment(orders[0], "1000.00", "2026-02-01"),
        make_payment(orders[1], "500.10", "2026-03-31"),
        make_payment(orders[3], "2500.00", "2026-04-30"),
        make_payment(orders[5], "6000.00", "2026-01-10"),
        make_payment(orders[4], "700.00", "2025-12-31"),
    ]
    voided = [make_payment(orders[0], "200.00", "2026-02-02", status="voided")]

    st = stages()
    opportunities = [
        make_opportunity(a, cust_a1, st[10], "1000.00", close="2026-02-15"),
        make_opportunity(a, cust_a2, st[50], "2001.00", close="2026-02-28"),
        make_opportunity(b, cust_b, st[75], "333.33", close="2026-07-10"),
        make_opportunity(b, cust_b, st[25], "250.00"),
        make_opportunity(c, cust_c, st[75], "8000.00", close="2026-02-01"),
        make_opportunity(c, cust_c, st[10], "100.00", close="2025-11-01"),
        # Closed ones.
        make_opportunity(
            a, cust_a1, st["won"], "5000.00", closed_at="2026-03-10 10:00"
        ),
        make_opportunity(
            a, cust_a1, st["lost"], "1200.00", closed_at="2026-05-05 09:00"
        ),
        make_opportunity(
            a, cust_a2, st["lost"], "300.00", closed_at="2025-12-31 23:30"
        ),
        make_opportunity(b, cust_b, st["won"], "4000.00", closed_at="2026-02-02 15:00"),
        make_opportunity(c, cust_c, st["won"], "100.00", closed_at="2026-01-01 00:30"),
        make_opportunity(c, cust_c, st["lost"], "900.00", closed_at="2026-06-01 12:00"),
    ]
    leads = [
        make_lead(a, "campaign", "converted", "2026-01-05 10:00"),
        make_lead(a, "campaign", "new", "2026-02-05 10:00"),
        make_lead(a, "web_form", "converted", "2026-03-05 10:00"),
        make_lead(b, "campaign", "qualified", "2026-04-05 10:00"),
        make_lead(c, "partner", "converted", "2026-05-05 10:00"),
        make_lead(a, "campaign", "converted", "2025-12-05 10:00"),
    ]
    return type(
        "Data",
        (),
        dict(
            products=[p1, p2],
            categories=[hardware, software],
            customers=[cust_a1, cust_a2, cust_b, cust_c],
            orders=orders,
            not_ordered=not_ordered,
            payments=payments,
            voided=voided,
            opportunities=opportunities,
            leads=leads,
            stages=st,
        ),
    )
