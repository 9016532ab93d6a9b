"""Generator step 3 (X6): three years of sales: N direct sales orders with their lines,
receivables and receipts, and the opportunities and leads the sales analysis reads.

Orders are spread over the days up to ctx.today (growing year on year, quieter at
weekends and around the Spring Festival) and numbered in date order (DD000001…). Each
goes to a buying customer registered by its date (ctx.buyers), with that customer's
owner, department and primary contact, and has 1–5 lines of catalogue products whose
money is crm.sales.pricing's (`line_amounts`, memoised per price, quantity, discount and
tax rate); the order's totals are the sums of its lines, as the services keep them.

The rules of crm/sales/services/orders.py and payments.py hold: a confirmed or
completed order has one instalment (its total, due on the payment date) that is a
receivable; receipts are posted against it, most in full around the due date, some in
part, a few not yet, and `received` is their sum; completed orders are delivered in
full, some confirmed ones in part, drafts and cancelled ones not at all (cancelled ones
were never confirmed). An order that takes its customer over a credit limit carries the
override of the owner's manager; the exposure counted for that is every earlier
confirmed order's total, payments ignored (an upper bound, so every order the app would
have refused has its override).

Opportunities (N/5, numbered in date order: open ones in the pipeline stages, won and
lost ones closed) and leads (N/10, some converted into a customer) feed the funnel,
win-rate, forecast and lead sections of the analysis page.
"""

import datetime
import math
import random
from array import array
from bisect import bisect_right
from contextlib import ExitStack
from decimal import ROUND_DOWN, Decimal
from itertools import accumulate

from django.db import connection

from bench.copy import NULL, CopyWriter, indexes_dropped, model_tail, reset_sequence
from bench.gen.customers import BRAND_CHARS, customers_registered_by
from bench.gen.org import People
from crm.core.models import Sequence
from crm.customers import demo as customers_demo
from crm.org.models import User
from crm.products.models import Product
from crm.sales import demo as sales_demo
from crm.sales.models import (
    Instalment,
    Lead,
    Opportunity,
    Payment,
    SalesOrder,
    SalesOrderLine,
    Stage,
)
from crm.sales.pricing import line_amounts

YEARS = 3
GROWTH = 1.15  # orders per day grow 15% a year
WEEKDAY = (1.0, 1.05, 1.05, 1.0, 0.95, 0.35, 0.2)
MONTH = (0.8, 0.55, 1.0, 1.0, 1.0, 1.05, 0.95, 0.95, 1.05, 0.95, 1.1, 1.25)
LINES = (1, 2, 3, 4, 5)
LINE_WEIGHTS = (35, 30, 18, 10, 7)
DISCOUNTS = ((0, 50), (3, 20), (5, 15), (8, 10), (10, 5))
SERVICE_TYPES = {Product.Type.SERVICE, Product.Type.TRAINING}
PAYMENT_DAYS = (30, 30, 30, 45, 60)
BIG = Decimal(200_000)
HUNDRED = Decimal(100)
OPPORTUNITY_STAGE_WEIGHTS = (35, 30, 20, 15)  # open stages, in pipeline order
LEAD_STATUSES_OLD = (
    ("converted", 25),
    ("disqualified", 35),
    ("contacted", 15),
    ("qualified", 10),
    ("new", 15),
)
LEAD_STATUSES_NEW = (
    ("new", 50),
    ("contacted", 30),
    ("qualified", 15),
    ("disqualified", 5),
)
LEAD_SOURCES = (
    ("campaign", 30),
    ("web_form", 25),
    ("referral", 15),
    ("partner", 10),
    ("import", 10),
    ("other", 10),
)
ORDER_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "owner_id",
    "department_id",
    "amount",
    "tax_amount",
    "total",
    "number",
    "customer_id",
    "contact_id",
    "status",
    "delivery_status",
    "ordered_on",
    "delivery_due_on",
    "delivered_on",
    "payment_due_on",
    "confirmed_at",
    "credit_override_by_id",
    "credit_override_at",
    "credit_override_reason",
    "cancel_reason",
)
LINE_COLUMNS = (
    "id",
    "order_id",
    "product_id",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "amount",
    "tax_amount",
    "total",
    "sort_order",
    "delivered_quantity",
)
INSTALMENT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "order_id",
    "customer_id",
    "owner_id",
    "department_id",
    "sequence",
    "due_on",
    "amount",
    "received",
    "is_open",
)
PAYMENT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "number",
    "instalment_id",
    "customer_id",
    "owner_id",
    "department_id",
    "amount",
    "received_on",
    "method",
    "reference",
    "status",
    "recorded_by_id",
)
OPPORTUNITY_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "owner_id",
    "department_id",
    "number",
    "name",
    "customer_id",
    "contact_id",
    "stage_id",
    "status",
    "amount",
    "expected_close_on",
    "source",
    "next_step",
    "closed_at",
    "close_reason",
    "stage_changed_at",
)
LEAD_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "owner_id",
    "department_id",
    "number",
    "name",
    "company",
    "job_title",
    "mobile",
    "region_id",
    "industry",
    "source",
    "source_detail",
    "status",
    "disqualify_reason",
    "next_follow_up_on",
    "assigned_at",
    "converted_at",
    "converted_by_id",
    "customer_id",
)


def _cum(pairs):
    values, weights = zip(*pairs, strict=True)
    return list(values), list(accumulate(weights))


def _pick(rng, values, cum):
    return values[bisect_right(cum, rng.random() * cum[-1])]


def _at(day: datetime.date, rng: random.Random) -> str:
    """A time on `day` in office hours, Asia/Shanghai."""
    seconds = rng.randrange(8 * 3600, 19 * 3600)
    return f"{day} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}+08"


def per_day(total: int, first: datetime.date, last: datetime.date) -> list[int]:
    """`total` documents spread over the days from `first` to `last` (largest
    remainder): growing year on year, fewer at weekends and in February."""
    days = (last - first).days + 1
    weights = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        weights.append(
            GROWTH ** (offset / 365) * WEEKDAY[day.weekday()] * MONTH[day.month - 1]
        )
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    left = total - sum(counts)
    for i in sorted(range(days), key=lambda i: counts[i] - exact[i])[:left]:
        counts[i] += 1
    return counts


class Pricing:
    """Line money from crm.sales.pricing, memoised (a few thousand combinations)."""

    def __init__(self):
        self._memo: dict[tuple, tuple[Decimal, Decimal, Decimal]] = {}

    def line(self, price: Decimal, quantity: int, discount: int, tax: int):
        key = (price, quantity, discount, tax)
        found = self._memo.get(key)
        if found is None:
            amounts = line_amounts(
                quantity=quantity,
                unit_price=price,
                discount_percent=discount,
                tax_rate=tax,
                kind="order",
            )
            found = self._memo[key] = (
                amounts.amount,
                amounts.tax_amount,
                amounts.total,
            )
        return found


def _catalogue(ctx):
    """(id, price, tax rate, quantities) per product, and cumulative pick weights
    favouring the cheaper ones (cables and spare parts sell more often than robots)."""
    types = dict(
        Product.objects.filter(pk__in=[pk for pk, _price in ctx.products]).values_list(
            "pk", "type"
        )
    )
    products = []
    for pk, price in ctx.products:
        if price >= 50_000:
            quantities = (1, 1, 1, 2)
        elif price >= 5_000:
            quantities = (1, 1, 2, 2, 3, 4, 5)
        elif price >= 500:
            quantities = (1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 20)
        else:
            quantities = (5, 10, 10, 20, 20, 30, 50, 100, 200)
        tax = 6 if types.get(pk) in SERVICE_TYPES else 13
        products.append((pk, price, tax, quantities))
    cum = list(accumulate(1 / float(price) ** 0.4 for _pk, price, _t, _q in products))
    return products, cum


def _managers(ctx) -> dict[int, int]:
    """Each rep's manager (who may override the credit check)."""
    reps = [user for user, _dept in ctx.reps]
    return dict(User.objects.filter(pk__in=reps).values_list("pk", "supervisor_id"))


def _credit_limits(n: int) -> array:
    limits = array("d", bytes(8 * (n + 1)))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, credit_limit FROM customers_customer WHERE credit_limit > 0"
        )
        for pk, limit in cursor.fetchall():
            limits[pk] = float(limit)
    return limits


def generate(ctx) -> None:
    rng = random.Random(ctx.rng.random())
    _orders(ctx, rng)
    _opportunities(ctx, rng)
    _leads(ctx, rng)


# Order statuses by the order's age in days: (up to age, [(status, cumulative share)])
STATUSES_BY_AGE = (
    (3, (("draft", 0.3), ("confirmed", 0.9), ("cancelled", 0.92), ("completed", 1))),
    (30, (("draft", 0.05), ("confirmed", 0.5), ("cancelled", 0.55), ("completed", 1))),
    (
        None,
        (("draft", 0.01), ("confirmed", 0.05), ("cancelled", 0.1), ("completed", 1)),
    ),
)


class OrderRows:
    """The COPY lines of one order, its lines, its instalment and its receipts. Days
    are offsets from the first day (`dates[offset]` is its 'YYYY-MM-DD')."""

    def __init__(self, ctx, rng: random.Random, first: datetime.date):
        self.random = rng.random
        self.choice = rng.choice
        self.today = (ctx.today - first).days
        self.latest = self.today - 1  # receipts are booked up to yesterday
        self.dates = [
            str(first + datetime.timedelta(days=d)) for d in range(self.today + 200)
        ]
        self.products, self.product_cum = _catalogue(ctx)
        self.pricing = Pricing()
        self.managers = _managers(ctx)
        self.limits = _credit_limits(ctx.scale.customers)
        self.exposure = array("d", bytes(8 * (ctx.scale.customers + 1)))
        self.finance = User.objects.get(username="bench_finance").pk
        self.methods = _cum(sales_demo.PAY_METHODS)
        self.discounts = _cum(DISCOUNTS)
        self.line_cum = list(accumulate(LINE_WEIGHTS))
        self.tails = {
            name: model_tail(model, columns)[1] for name, model, columns in TABLES
        }
        self.line_id = self.instalment_id = self.payment_id = 0

    def at(self, offset: int) -> str:
        """A time on day `offset` in office hours (Asia/Shanghai)."""
        seconds = 28_800 + int(self.random() * 39_600)
        return (
            f"{self.dates[offset]} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
            f"{seconds % 60:02d}+08"
        )

    def status(self, age: int) -> str:
        draw = self.random()
        for limit, shares in STATUSES_BY_AGE:
            if limit is None or age <= limit:
                return next(status for status, share in shares if draw < share)
        raise AssertionError  # the last row has no limit

    def lines(self, order_id: int, delivered: str, out) -> tuple[Decimal, ...]:
        """Write 1–5 lines of distinct products (delivered: 'all', 'first' or 'none');
        return the order's amount, tax and total, the sums of its lines."""
        random_, products, cum = self.random, self.products, self.product_cum
        values, discount_cum = self.discounts
        amount = tax_amount = total = Decimal(0)
        chosen = set()
        count = LINES[bisect_right(self.line_cum, random_() * self.line_cum[-1])]
        for sort in range(count):
            pk, price, tax, quantities = products[
                bisect_right(cum, random_() * cum[-1])
            ]
            if pk in chosen:
                continue
            chosen.add(pk)
            quantity = quantities[int(random_() * len(quantities))]
            discount = values[bisect_right(discount_cum, random_() * discount_cum[-1])]
            line = self.pricing.line(price, quantity, discount, tax)
            amount += line[0]
            tax_amount += line[1]
            total += line[2]
            done = (
                quantity
                if delivered == "all" or (delivered == "first" and sort == 0)
                else 0
            )
            self.line_id += 1
            out.write(
                f"{self.line_id}\t{order_id}\t{pk}\t{quantity}\t{price}\t{discount}\t"
                f"{tax}\t{line[0]}\t{line[1]}\t{line[2]}\t{sort}\t{done}"
                f"{self.tails['line']}\n"
            )
        return amount, tax_amount, total

    def receivable(self, order_id, customer, total, due, opened, confirmed_at, outs):
        """The order's instalment and the receipts posted against it."""
        cid, owner, dept = customer
        instalments_out, payments_out = outs
        self.instalment_id += 1
        received = Decimal(0)
        random_ = self.random
        methods, method_cum = self.methods
        for amount, day in self.receipts(total, due, opened):
            received += amount
            self.payment_id += 1
            method = methods[bisect_right(method_cum, random_() * method_cum[-1])]
            reference = (
                f"{self.dates[day].replace('-', '')}{int(random_() * 10**10):010d}"
                if method in ("bank", "acceptance")
                else ""
            )
            at = max(self.at(day), confirmed_at)
            payments_out.write(
                f"{self.payment_id}\t{at}\t{at}\tSK{self.payment_id:06d}\t"
                f"{self.instalment_id}\t{cid}\t{owner}\t{dept}\t{amount}\t"
                f"{self.dates[day]}\t{method}\t{reference}\tposted\t{self.finance}"
                f"{self.tails['payment']}\n"
            )
        instalments_out.write(
            f"{self.instalment_id}\t{confirmed_at}\t{confirmed_at}\t{order_id}\t"
            f"{cid}\t{owner}\t{dept}\t1\t{self.dates[due]}\t{total}\t{received}\tt"
            f"{self.tails['instalment']}\n"
        )

    def receipts(self, amount: Decimal, due: int, opened: int) -> list[tuple]:
        """As crm/sales/demo.py collects: most instalments paid in full about when
        due (large ones sometimes in two), some in part, some not yet."""
        random_, latest = self.random, self.latest
        if latest < opened:
            return []
        draw = random_()
        if due <= latest:
            full, partial = draw < 0.78, 0.78 <= draw < 0.86
            day = due - 7 + int(random_() * 33)
        else:
            full, partial = draw < 0.12, 0.12 <= draw < 0.17
            day = opened + int(random_() * (latest - opened + 1))
        day = min(max(day, opened), latest)
        if full:
            if amount > BIG and random_() < 0.4:
                first = (amount / 2).quantize(Decimal(1), rounding=ROUND_DOWN)
                second = min(day + 3 + int(random_() * 18), latest)
                return [(first, day), (amount - first, second)]
            return [(amount, day)]
        if partial:
            part = (amount * (30 + int(random_() * 41)) / HUNDRED).quantize(
                Decimal(100), rounding=ROUND_DOWN
            )
            if 0 < part < amount:
                return [(part, day)]
        return []

    def order(self, order_id: int, day: int, customer: tuple, outs) -> None:
        """One order on day `day`, with everything that hangs off it."""
        orders_out, lines_out, *receivable_outs = outs
        random_ = self.random
        cid, owner, dept = customer
        status = self.status(self.today - day)
        confirmed = status in ("confirmed", "completed")
        completed = status == "completed"
        partial = status == "confirmed" and random_() < 0.4
        amount, tax_amount, total = self.lines(
            order_id, "all" if completed else "first" if partial else "none", lines_out
        )
        created = updated = self.at(day)
        version = 1
        confirmed_at = delivered_on = override_by = override_at = NULL
        override_reason = cancel_reason = ""
        pay_due = day + PAYMENT_DAYS[int(random_() * len(PAYMENT_DAYS))]
        confirm_day = day
        if confirmed:
            confirm_day = min(day + int(random_() * 3), self.today)
            confirmed_at = updated = max(self.at(confirm_day), created)
            version = 2
            limit = self.limits[cid]
            self.exposure[cid] += float(total)
            if limit and self.exposure[cid] > limit:
                override_by = self.managers.get(owner) or NULL
                override_at = confirmed_at
                override_reason = self.choice(sales_demo.OVERRIDE_REASONS)
            if completed:
                delivered = min(confirm_day + 2 + int(random_() * 19), self.today)
                delivered_on = self.dates[delivered]
                updated = max(self.at(delivered), confirmed_at)
                version = 3
            elif partial:
                version = 3
        elif status == "cancelled":
            cancel_reason = self.choice(sales_demo.CANCEL_REASONS)
            version = 2
        delivery = "delivered" if completed else "partial" if partial else "pending"
        orders_out.write(
            f"{order_id}\t{created}\t{updated}\t{version}\t{owner}\t{dept}\t"
            f"{amount}\t{tax_amount}\t{total}\tDD{order_id:06d}\t{cid}\t"
            f"{2 * cid - 1}\t{status}\t{delivery}\t{self.dates[day]}\t"
            f"{self.dates[day + 7 + int(random_() * 24)]}\t{delivered_on}\t"
            f"{self.dates[pay_due]}\t{confirmed_at}\t{override_by}\t{override_at}\t"
            f"{override_reason}\t{cancel_reason}{self.tails['order']}\n"
        )
        if confirmed:
            self.receivable(
                order_id,
                customer,
                total,
                pay_due,
                confirm_day,
                confirmed_at,
                receivable_outs,
            )


TABLES = (
    ("order", SalesOrder, ORDER_COLUMNS),
    ("line", SalesOrderLine, LINE_COLUMNS),
    ("instalment", Instalment, INSTALMENT_COLUMNS),
    ("payment", Payment, PAYMENT_COLUMNS),
)


def _orders(ctx, rng: random.Random) -> None:
    n = ctx.scale.orders
    first = ctx.today - datetime.timedelta(days=365 * YEARS)
    rows = OrderRows(ctx, rng, first)
    customers, buyers, random_ = ctx.customers, ctx.buyers, rng.random
    writers = [
        CopyWriter(
            model._meta.db_table,
            [*columns, *model_tail(model, columns)[0]],
            total=n if name == "order" else 0,
            label=f"{name}s",
            separate=name != "order",
            verbose=name == "order",
        )
        for name, model, columns in TABLES
    ]
    tables = [writer.table for writer in writers]
    order_id = 0
    with indexes_dropped(tables, background=True), ExitStack() as stack:
        outs = [stack.enter_context(writer) for writer in writers]
        for offset, count in enumerate(per_day(n, first, ctx.today)):
            day = first + datetime.timedelta(days=offset)
            eligible = bisect_right(buyers, customers_registered_by(ctx, day))
            for _ in range(count):
                order_id += 1
                cid = buyers[int(random_() * eligible)] if eligible else 1
                rows.order(order_id, offset, customers[cid - 1], outs)
    print(
        f"  {rows.line_id:,} order lines, {rows.instalment_id:,} instalments, "
        f"{rows.payment_id:,} payments",
        flush=True,
    )
    for table in tables:
        reset_sequence(table)
    _advance("sales.order", "DD", order_id)
    _advance("sales.payment", "SK", rows.payment_id)


def _advance(key: str, prefix: str, last: int, padding: int = 6) -> None:
    """Move a business-number sequence (crm.core.numbering) past the generated ones."""
    Sequence.objects.update_or_create(
        key=key,
        defaults={"prefix": prefix, "padding": padding, "next_value": last + 1},
    )


def _opportunities(ctx, rng: random.Random) -> None:
    total = ctx.scale.customers // 5
    today = ctx.today
    first = today - datetime.timedelta(days=365 * YEARS)
    stages = list(Stage.objects.filter(is_active=True).order_by("sort_order", "pk"))
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    stage_cum = list(accumulate(OPPORTUNITY_STAGE_WEIGHTS[: len(open_stages)]))
    themes, theme_cum = _cum([(name, weight) for name, _c, weight in sales_demo.THEMES])
    sources = [s for s, _label in Lead.Source.choices]
    extra, tail = model_tail(Opportunity, OPPORTUNITY_COLUMNS)
    customers = ctx.customers
    pk = 0
    with (
        indexes_dropped(["sales_opportunity"], background=True),
        CopyWriter(
            "sales_opportunity",
            [*OPPORTUNITY_COLUMNS, *extra],
            total=total,
            label="opportunities",
        ) as out,
    ):
        for offset, count in enumerate(per_day(total, first, today)):
            day = first + datetime.timedelta(days=offset)
            age = (today - day).days
            known = max(1, customers_registered_by(ctx, day))
            for _ in range(count):
                pk += 1
                cid = 1 + int(rng.random() * known)
                _cid, owner, dept = customers[cid - 1]
                created = _at(day, rng)
                draw = rng.random()
                if age > 180:
                    status = "won" if draw < 0.55 else "lost" if draw < 0.9 else "open"
                else:
                    status = "open" if draw < 0.7 else "won" if draw < 0.88 else "lost"
                amount = (
                    Decimal(int(math.exp(rng.uniform(math.log(20), math.log(2000)))))
                    * 1000
                )
                close = day + datetime.timedelta(days=rng.randint(30, 180))
                closed_at = NULL
                reason = next_step = ""
                if status == "open":
                    stage = open_stages[
                        bisect_right(stage_cum, rng.random() * stage_cum[-1])
                    ]
                    next_step = rng.choice(sales_demo.STAGE_STEPS)
                    changed = _at(
                        min(day + datetime.timedelta(days=rng.randint(0, 60)), today),
                        rng,
                    )
                    if changed < created:
                        changed = created
                    if close < today - datetime.timedelta(days=30):
                        close = today + datetime.timedelta(days=rng.randint(7, 120))
                else:
                    stage = won if status == "won" else lost
                    closed_day = min(
                        day + datetime.timedelta(days=rng.randint(10, 150)), today
                    )
                    closed_at = changed = max(_at(closed_day, rng), created)
                    reason = (
                        rng.choice(sales_demo.WON_REASONS)
                        if status == "won"
                        else rng.choice(sales_demo.LOST_REASONS)[0]
                    )
                out.write(
                    f"{pk}\t{created}\t{changed}\t{2 if status == 'open' else 3}\t"
                    f"{owner}\t{dept}\tSJ{pk:06d}\t"
                    f"{_pick(rng, themes, theme_cum)}项目\t{cid}\t{2 * cid - 1}\t"
                    f"{stage.pk}\t{status}\t{amount}\t{close}\t{rng.choice(sources)}\t"
                    f"{next_step}\t{closed_at}\t{reason}\t{changed}{tail}\n"
                )
    reset_sequence("sales_opportunity")
    _advance("sales.opportunity", "SJ", pk)


def _leads(ctx, rng: random.Random) -> None:
    total = ctx.scale.customers // 10
    today = ctx.today
    first = today - datetime.timedelta(days=365 * YEARS)
    people = People(rng)
    old_statuses, old_cum = _cum(LEAD_STATUSES_OLD)
    new_statuses, new_cum = _cum(LEAD_STATUSES_NEW)
    sources, source_cum = _cum(LEAD_SOURCES)
    industries, industry_cum = _cum(customers_demo.WEIGHTS["industry"])
    chars = list(dict.fromkeys(BRAND_CHARS))
    extra, tail = model_tail(Lead, LEAD_COLUMNS)
    reps, districts = ctx.reps, ctx.districts
    pk = 0
    with (
        indexes_dropped(["sales_lead"], background=True),
        CopyWriter(
            "sales_lead", [*LEAD_COLUMNS, *extra], total=total, label="leads"
        ) as out,
    ):
        for offset, count in enumerate(per_day(total, first, today)):
            day = first + datetime.timedelta(days=offset)
            age = (today - day).days
            known = max(1, customers_registered_by(ctx, day))
            for _ in range(count):
                pk += 1
                owner, dept = reps[int(rng.random() * len(reps))]
                created = _at(day, rng)
                status = (
                    _pick(rng, new_statuses, new_cum)
                    if age < 30
                    else _pick(rng, old_statuses, old_cum)
                )
                source = _pick(rng, sources, source_cum)
                industry = _pick(rng, industries, industry_cum)
                detail = (
                    rng.choice(sales_demo.CAMPAIGNS)
                    if source == "campaign"
                    else rng.choice(sales_demo.PARTNERS)
                    if source == "partner"
                    else ""
                )
                company = (
                    f"{rng.choice(chars)}{rng.choice(chars)}"
                    f"{rng.choice(customers_demo.TRADES[industry])}有限公司"
                )
                follow_up = converted_at = converted_by = customer = NULL
                reason = ""
                updated = created
                if status == "disqualified":
                    reason = rng.choice(sales_demo.DISQUALIFY_REASONS)
                elif status == "converted":
                    converted_day = min(
                        day + datetime.timedelta(days=rng.randint(3, 60)), today
                    )
                    converted_at = updated = max(_at(converted_day, rng), created)
                    converted_by = owner
                    customer = 1 + int(rng.random() * known)
                else:
                    follow_up = today + datetime.timedelta(days=rng.randint(-10, 20))
                out.write(
                    f"{pk}\t{created}\t{updated}\t1\t{owner}\t{dept}\tXS{pk:06d}\t"
                    f"{people.name()[0]}\t{company}\t{rng.choice(sales_demo.JOB_TITLES)}\t"
                    f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}\t"
                    f"{rng.choice(districts)}\t{industry}\t{source}\t{detail}\t{status}\t"
                    f"{reason}\t{follow_up}\t{created}\t{converted_at}\t{converted_by}\t"
                    f"{customer}{tail}\n"
                )
    reset_sequence("sales_lead")
    _advance("sales.lead", "XS", pk)
