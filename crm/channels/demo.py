"""Demo channel network (issue 5, D1–D11): ~60 dealers and agents across China's
provinces, their portal users, agreements in force (some expiring soon), 12 months of
sell-in, sell-through and month-end stock counts up to today, monthly targets, closed
score periods, promotions with partner plans and fund requests, and deal registrations
with one conflict.

The flows are planned in memory from a fixed seed, partner × product × month: goods are
ordered at the start of a month to cover the expected sales plus a safety stock, sales
never exceed what is on hand, and the month-end count is the stock carried forward — so
the reconciliation balances, except for a handful of deliberately wrong counts in the
last complete month (the dashboard and the reconciliation page have something to find).
Everything is written with bulk_create through the models (the rules the services keep
are kept here: amounts = quantity × price, received within ordered, one count per day,
territories that do not overlap, plans inside their promotion); the score periods are
computed and closed by the scores service, like HQ would.

Idempotent: tiers are found by name; the network is loaded once, into a database without
partners, and skipped afterwards.
"""

import datetime
import math
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone
from faker import Faker

from crm.channels.models import (
    Agreement,
    AgreementTerm,
    DealRegistration,
    ExecutionReport,
    FundRequest,
    Kpi,
    Partner,
    PartnerPlan,
    PartnerScore,
    PartnerTarget,
    PartnerUser,
    Promotion,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ScorePeriod,
    SellThroughLine,
    SellThroughReport,
    StockCount,
    Territory,
    Tier,
)
from crm.core.numbering import next_number
from crm.customers.models import Customer, Region
from crm.customers.naming import name_key
from crm.org.models import User
from crm.products.models import Category, PriceList, PriceListItem, Product

SEED = 2026_05
DEMO_PASSWORD = "Demo@2026"
DEALER_LOGIN = "dealer"
CENT = Decimal("0.01")
MONTHS = 12  # complete months of history before the current one

TIERS = [
    ("战略经销商", 1, "年进货额 1000 万元以上，享最高返利档"),
    ("一级经销商", 2, "直接向总部进货的签约经销商"),
    ("二级经销商", 3, "向一级经销商进货的分销商"),
    ("区域代理商", 2, "按区域代理销售、以佣金结算的代理商"),
]

# Province code → number of partners; the channel manager is by macro-region.
PROVINCES = [
    ("330000", 5),
    ("320000", 5),
    ("310000", 2),
    ("440000", 6),
    ("370000", 4),
    ("110000", 2),
    ("510000", 3),
    ("420000", 3),
    ("410000", 3),
    ("350000", 3),
    ("430000", 2),
    ("340000", 2),
    ("130000", 2),
    ("210000", 2),
    ("610000", 2),
    ("500000", 2),
    ("120000", 1),
    ("360000", 1),
    ("450000", 1),
    ("530000", 1),
    ("140000", 1),
    ("230000", 1),
    ("220000", 1),
    ("520000", 1),
    ("650000", 1),
    ("150000", 1),
    ("620000", 1),
    ("460000", 1),
]
EAST = {"31", "32", "33", "34", "35", "36", "37"}
SOUTH = {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53"}

BRANDS = [
    "恒通",
    "力拓",
    "华信",
    "瑞丰",
    "鼎盛",
    "宏达",
    "金桥",
    "远航",
    "联创",
    "启明",
    "博远",
    "中驰",
    "天工",
    "精诚",
    "万隆",
    "东升",
    "永泰",
    "嘉禾",
    "新纪元",
    "众合",
]
TRADES = ["自动化设备", "机电设备", "工控技术", "智能装备", "电气自动化", "工业科技"]
SMALL_BUYERS = [
    "机械加工厂",
    "五金制品厂",
    "包装机械厂",
    "注塑厂",
    "电子厂",
    "食品机械厂",
    "纺织机械厂",
    "设备维修部",
]
# Jan … Dec: the Spring Festival dip, the year-end rush.
SEASON = [0.75, 0.6, 1.0, 1.1, 1.1, 1.0, 0.95, 0.95, 1.05, 1.1, 1.15, 1.25]
WRONG_COUNTS = 9


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _month_end(first: datetime.date) -> datetime.date:
    return _add_months(first, 1) - datetime.timedelta(days=1)


def _aware(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _restamp(model, objects, stamps=("created_at", "updated_at")) -> None:
    """Put back planned creation times that auto_now_add replaced (one executemany)."""
    fields = [model._meta.get_field(name) for name in stamps]
    rows = [
        [
            *(f.get_db_prep_save(obj._planned_at, connection) for f in fields),
            obj.pk,
        ]
        for obj in objects
        if getattr(obj, "_planned_at", None)
    ]
    if not rows:
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608
            f"WHERE {quote(model._meta.pk.column)} = %s",
            rows,
        )


def _tiers() -> dict[str, Tier]:
    tiers = {}
    for name, rank, description in TIERS:
        tier, _created = Tier.objects.get_or_create(
            name=name, defaults={"rank": rank, "description": description}
        )
        tiers[name] = tier
    return tiers


class _Network:
    def __init__(self, rng, fake, today):
        self.rng, self.fake, self.today = rng, fake, today
        self.this_month = _month_start(today)
        self.months = [_add_months(self.this_month, -i) for i in range(MONTHS, 0, -1)]
        self.password = make_password(DEMO_PASSWORD)
        self.managers = {
            key: User.objects.filter(username=name).first()
            for key, name in (
                ("east", "channel"),
                ("south", "emp17"),
                ("north", "emp18"),
            )
        }
        fallback = User.objects.filter(is_superuser=True).order_by("pk").first()
        for key, user in self.managers.items():
            self.managers[key] = user or fallback
        self.director = (
            User.objects.filter(username="channel_director").first() or fallback
        )
        self.admin = fallback
        self.price_list = PriceList.objects.filter(name="2026年经销商价").first()
        self.products = self._products()
        self.prices = self._prices()

    # Catalogue

    def _products(self) -> list[Product]:
        candidates = list(
            Product.objects.filter(
                type__in=("own", "outsourced"),
                list_price__gte=40,
                list_price__lte=80000,
                status=Product.Status.ACTIVE,
            )
            .select_related("category")
            .order_by("code")
        )
        step = max(1, len(candidates) // 16)
        return candidates[::step][:16]

    def _prices(self) -> dict[int, Decimal]:
        """Dealer price per product: the dealer price list's first tier, or 82 %."""
        prices = {}
        if self.price_list is not None:
            for item in PriceListItem.objects.filter(
                price_list=self.price_list, product__in=self.products
            ).order_by("product_id", "min_quantity"):
                prices.setdefault(item.product_id, item.price)
        for product in self.products:
            prices.setdefault(product.pk, _money(product.list_price * Decimal("0.82")))
        return prices

    # Partners

    def partners(self, tiers) -> list[Partner]:
        rng, fake = self.rng, self.fake
        provinces = {
            r.code: r
            for r in Region.objects.filter(code__in=[c for c, _n in PROVINCES])
        }
        cities_of = defaultdict(list)
        for city in Region.objects.filter(
            level=Region.Level.CITY, parent__in=list(provinces.values())
        ).order_by("code"):
            cities_of[city.parent_id].append(city)
        districts_of = defaultdict(list)
        for district in Region.objects.filter(
            level=Region.Level.DISTRICT,
            parent__parent__in=list(provinces.values()),
        ).order_by("code"):
            districts_of[district.parent_id].append(district)
        self.districts_of = districts_of
        names, exclusive, plan = set(), set(), []
        for code, count in PROVINCES:
            province = provinces.get(code)
            cities = cities_of.get(province.pk) if province else None
            if province is None or not cities:
                continue
            head = None
            for i in range(count):
                city = cities[0] if i == 0 else rng.choice(cities[: max(3, count)])
                city_short = city.name.rstrip("市") if city.name != "市辖区" else ""
                place = city_short or province.name.rstrip("省市")
                while True:
                    brand = rng.choice(BRANDS)
                    kind = (
                        Partner.Kind.AGENT
                        if i and rng.random() < 0.25
                        else Partner.Kind.DEALER
                    )
                    trade = rng.choice(TRADES)
                    name = (
                        f"{place}{brand}{trade}有限公司"
                        if kind == Partner.Kind.DEALER
                        else f"{place}{brand}{trade}代理有限公司"
                    )
                    if name not in names:
                        break
                names.add(name)
                if i == 0:
                    tier = tiers["战略经销商" if count >= 4 else "一级经销商"]
                elif kind == Partner.Kind.AGENT:
                    tier = tiers["区域代理商"]
                elif rng.random() < 0.55:
                    tier = tiers["二级经销商"]
                else:
                    tier = tiers["一级经销商"]
                prefix = code[:2]
                region_key = (
                    "east"
                    if prefix in EAST
                    else "south"
                    if prefix in SOUTH
                    else "north"
                )
                owner = self.managers[region_key]
                joined = self.today - datetime.timedelta(days=rng.randint(420, 2600))
                size = (
                    rng.uniform(500_000, 900_000)
                    if tier.name == "战略经销商"
                    else rng.uniform(120_000, 450_000)
                )
                partner = Partner(
                    number="",
                    name=name,
                    short_name=f"{place}{brand}",
                    kind=kind,
                    tier=tier,
                    status=Partner.Status.ACTIVE,
                    region=city,
                    credit_limit=Decimal(rng.choice([2, 3, 5, 8, 10])) * 1_000_000
                    if tier.rank <= 2
                    else Decimal(rng.choice([5, 8])) * 100_000,
                    contact_name=fake.name(),
                    phone=f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                    email=f"sales{len(plan) + 1:02d}@partner-demo.cn",
                    address=f"{city.name}{fake.street_name()}{rng.randint(1, 999)}号",
                    tax_number=f"91{code[:4]}{rng.randrange(10**11, 10**12)}",
                    joined_on=joined,
                    owner=owner,
                    department=owner.department if owner else None,
                )
                partner._province = province
                partner._size = size
                partner._head = head
                partner._exclusive = (
                    tier.name != "二级经销商" and city.pk not in exclusive
                )
                if partner._exclusive:
                    exclusive.add(city.pk)
                if (
                    tier.name == "二级经销商"
                    and head is not None
                    and kind == Partner.Kind.DEALER
                ):
                    partner._parent = head
                else:
                    partner._parent = None
                if i == 0:
                    head = partner
                plan.append(partner)
        # A few that are not simply active.
        plan[-3].status = Partner.Status.SUSPENDED
        plan[-8].status = Partner.Status.SUSPENDED
        plan[-12].status = Partner.Status.PROSPECT
        plan[-12]._size = 0
        for partner in plan:
            partner.number = next_number("channels.partner")
        Partner.objects.bulk_create(plan, batch_size=500)
        for partner in plan:  # heads come before their children
            parent = partner._parent
            partner.parent = parent
            partner.path = f"{parent.path if parent else '/'}{partner.pk}/"
            partner.depth = parent.depth + 1 if parent else 0
        Partner.objects.bulk_update(plan, ["parent", "path", "depth"], batch_size=500)
        served = Partner.regions_served.through
        served.objects.bulk_create(
            [
                served(partner_id=p.pk, region_id=r.pk)
                for p in plan
                for r in {p.region, p._province}
            ]
        )
        Territory.objects.bulk_create(
            [
                Territory(
                    partner=p,
                    region=p.region,
                    exclusive=p._exclusive,
                    starts_on=p.joined_on,
                )
                for p in plan
            ]
        )
        return plan

    def portal_users(self, partners) -> dict[int, User]:
        """A partner administrator for each partner (the showcase dealer's is `dealer`),
        and a sales clerk for every third."""
        rng, fake = self.rng, self.fake
        showcase = partners[0]
        users, members = [], []
        for i, partner in enumerate(partners):
            username = DEALER_LOGIN if partner is showcase else partner.number.lower()
            users.append(
                (
                    partner,
                    True,
                    User(
                        username=username,
                        name=fake.name(),
                        password=self.password,
                        email=f"{username}@partner-demo.cn",
                        mobile=f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                        position="渠道商管理员",
                    ),
                )
            )
            if i % 3 == 0:
                username = f"{partner.number.lower()}_sales"
                users.append(
                    (
                        partner,
                        False,
                        User(
                            username=username,
                            name=fake.name(),
                            password=self.password,
                            email=f"{username}@partner-demo.cn",
                            position="业务员",
                        ),
                    )
                )
        User.objects.bulk_create([u for _p, _a, u in users], batch_size=500)
        for partner, is_admin, user in users:
            members.append(PartnerUser(user=user, partner=partner, is_admin=is_admin))
        PartnerUser.objects.bulk_create(members, batch_size=500)
        return {p.pk: u for p, is_admin, u in users if is_admin}

    # Agreements

    def agreements(self, partners) -> int:
        rng, today = self.rng, self.today
        top = list(Category.objects.filter(parent__isnull=True).order_by("path")[:2])
        made, rules, territories, scopes = [], [], [], []
        expiring = {p.pk for p in partners[5::9]}
        for partner in partners:
            if partner.status == Partner.Status.PROSPECT:
                continue
            monthly = Decimal(round(partner._size, -3))
            if partner.pk in expiring:
                ends = today + datetime.timedelta(days=rng.randint(6, 27))
                starts = datetime.date(ends.year - 1, ends.month, 1)
                previous = None
            else:
                starts = _month_start(
                    today - datetime.timedelta(days=rng.randint(40, 330))
                )
                ends = datetime.date(starts.year + 2, starts.month, 1) - (
                    datetime.timedelta(days=1)
                )
                previous = Agreement(
                    number=next_number("channels.agreement"),
                    partner=partner,
                    title=f"{starts.year - 2}–{starts.year}年度合作协议",
                    status=Agreement.Status.RENEWED,
                    starts_on=datetime.date(starts.year - 2, starts.month, 1),
                    ends_on=starts - datetime.timedelta(days=1),
                    signed_on=datetime.date(starts.year - 2, starts.month, 1)
                    - datetime.timedelta(days=12),
                    price_list=self.price_list,
                    discount_percent=Decimal(rng.choice([2, 3, 4])),
                    annual_target=_money(monthly * 12 * Decimal("0.9")),
                    terms="年度目标达成率 80% 起按进货额返利；低于 60% 扣减保证金。",
                    owner=partner.owner,
                    department=partner.department,
                )
                made.append(previous)
            kind = "区域代理协议" if partner.kind == Partner.Kind.AGENT else "经销协议"
            current = Agreement(
                number=next_number("channels.agreement"),
                partner=partner,
                title=f"{starts.year}年度{kind}",
                status=Agreement.Status.ACTIVE,
                starts_on=starts,
                ends_on=ends,
                signed_on=starts - datetime.timedelta(days=rng.randint(5, 20)),
                price_list=self.price_list,
                discount_percent=Decimal(rng.choice([3, 4, 5, 6, 8])),
                annual_target=_money(monthly * 12),
                terms=(
                    "季度销售目标达成率 ≥80% 返进货额 1%，≥100% 返 2.5%，≥120% 返 4%；"
                    "达成率低于 60% 罚款，低于 40% 加重处罚并约谈。"
                ),
                owner=partner.owner,
                department=partner.department,
            )
            current._previous = previous
            made.append(current)
        Agreement.objects.bulk_create(made, batch_size=500)
        renewed = []
        for agreement in made:
            if getattr(agreement, "_previous", None) is not None:
                agreement.previous = agreement._previous
                renewed.append(agreement)
        Agreement.objects.bulk_update(renewed, ["previous"], batch_size=500)
        fine = Decimal("10000")
        for agreement in made:
            scale = Decimal(3) if agreement.partner.tier.rank == 1 else Decimal(1)
            rules += [
                AgreementTerm(
                    agreement=agreement,
                    kind=AgreementTerm.Kind.REBATE,
                    threshold_percent=Decimal(t),
                    percent=Decimal(p),
                    description=f"达成率 ≥{t}% 返进货额 {p}%",
                )
                for t, p in (("80", "1"), ("100", "2.5"), ("120", "4"))
            ]
            rules += [
                AgreementTerm(
                    agreement=agreement,
                    kind=AgreementTerm.Kind.PENALTY,
                    threshold_percent=Decimal(t),
                    amount=fine * scale * m,
                    description=f"达成率 <{t}% 罚款",
                )
                for t, m in (("60", 1), ("40", 3))
            ]
            territories.append(
                Agreement.territory.through(
                    agreement_id=agreement.pk, region_id=agreement.partner.region_id
                )
            )
            if top and rng.random() < 0.4:
                scopes.append(
                    Agreement.categories.through(
                        agreement_id=agreement.pk, category_id=rng.choice(top).pk
                    )
                )
        AgreementTerm.objects.bulk_create(rules, batch_size=1000)
        Agreement.territory.through.objects.bulk_create(territories)
        Agreement.categories.through.objects.bulk_create(scopes)
        return len(made)

    # Flows: sell-in, sell-through, counts, targets

    def flows(self, partners, admins) -> dict:
        rng, today = self.rng, self.today
        customers_of = self._end_customers(partners)
        orders, order_lines, receipts, receipt_lines = [], [], [], []
        reports, lines, counts, targets = [], [], [], []
        wrong, stats = [], defaultdict(int)
        trading = [p for p in partners if p.status != Partner.Status.PROSPECT]
        for partner in trading:
            admin = admins[partner.pk]
            manager = partner.owner
            growth = rng.uniform(-0.01, 0.03)
            carried = rng.sample(self.products, rng.randint(4, 6))
            weights = [rng.uniform(0.5, 1.5) for _p in carried]
            share = sum(weights)
            demand = {
                product.pk: max(
                    1.0,
                    min(400.0, partner._size * w / share / float(product.list_price)),
                )
                for product, w in zip(carried, weights, strict=True)
            }
            stock = {p.pk: round(demand[p.pk] * 1.2) for p in carried}
            first = self.months[0]
            opening = _add_months(first, -1)
            for product in carried:
                counts.append(
                    StockCount(
                        partner=partner,
                        product=product,
                        counted_on=_month_end(opening),
                        quantity=Decimal(stock[product.pk]),
                        submitted_by=admin,
                    )
                )
            districts = self.districts_of.get(partner.region_id) or [partner.region]
            pool = customers_of.get(partner.pk, [])
            for index, month in enumerate([*self.months, self.this_month]):
                current = month == self.this_month
                last_day = (today - datetime.timedelta(days=1)) if current else None
                month_end = _month_end(month)
                season = SEASON[month.month - 1] * (1 + growth) ** index
                expected = {
                    pk: d * season * rng.uniform(0.85, 1.15) for pk, d in demand.items()
                }
                target_amount = sum(
                    expected[p.pk] * float(p.list_price) for p in carried
                )
                targets.append(
                    PartnerTarget(
                        partner=partner,
                        period_kind="month",
                        starts_on=month,
                        ends_on=month_end,
                        sales_amount=Decimal(
                            round(target_amount * rng.uniform(0.95, 1.2), -3)
                        ),
                        new_customers=rng.randint(1, 3),
                        service_level=Decimal("90"),
                        service_level_actual=None
                        if current
                        else Decimal(rng.randint(80, 99)),
                        owner=partner.owner,
                        department=partner.department,
                    )
                )
                if partner.status == Partner.Status.SUSPENDED and index >= MONTHS - 2:
                    continue  # suspended two months ago: no more orders or sales
                if current and today.day <= 2:
                    continue
                # Sell-in: one order at the start of the month.
                ordered_on = month + datetime.timedelta(days=rng.randint(0, 2))
                if current and ordered_on >= today:
                    ordered_on = month
                wanted = {}
                for product in carried:
                    need = expected[product.pk] * 1.3 + demand[product.pk] * 0.4
                    qty = max(0, math.ceil(need - stock[product.pk]))
                    if qty:
                        wanted[product] = qty
                if wanted:
                    state = PurchaseOrder.Status.RECEIVED
                    if current:
                        state = rng.choice(
                            [
                                PurchaseOrder.Status.RECEIVED,
                                PurchaseOrder.Status.RECEIVED,
                                PurchaseOrder.Status.APPROVED,
                                PurchaseOrder.Status.SUBMITTED,
                            ]
                        )
                    received_on = ordered_on + datetime.timedelta(
                        days=rng.randint(2, 6)
                    )
                    if current and received_on >= today:
                        state = (
                            PurchaseOrder.Status.APPROVED
                            if state == PurchaseOrder.Status.RECEIVED
                            else state
                        )
                    order = PurchaseOrder(
                        number="",
                        partner=partner,
                        status=state,
                        ordered_on=ordered_on,
                        wanted_on=ordered_on + datetime.timedelta(days=7),
                        shipping_address=partner.address,
                        submitted_by=admin,
                        decided_by=None
                        if state == PurchaseOrder.Status.SUBMITTED
                        else manager,
                        decided_at=None
                        if state == PurchaseOrder.Status.SUBMITTED
                        else _aware(ordered_on, 15),
                        owner=manager,
                        department=partner.department,
                    )
                    order._planned_at = _aware(ordered_on, 9)
                    orders.append(order)
                    total = Decimal(0)
                    received = state == PurchaseOrder.Status.RECEIVED
                    if received:
                        receipt = Receipt(
                            order=order,
                            partner=partner,
                            received_on=received_on,
                            created_by=admin,
                        )
                        receipt._planned_at = _aware(received_on, 16)
                        receipts.append(receipt)
                    for product, qty in wanted.items():
                        price = self.prices[product.pk]
                        amount = _money(price * qty)
                        total += amount
                        line = PurchaseOrderLine(
                            order=order,
                            product=product,
                            quantity=Decimal(qty),
                            unit_price=price,
                            amount=amount,
                            received_quantity=Decimal(qty) if received else Decimal(0),
                        )
                        order_lines.append(line)
                        if received:
                            receipt_lines.append(
                                ReceiptLine(
                                    receipt=receipt,
                                    order_line=line,
                                    partner=partner,
                                    product=product,
                                    received_on=received_on,
                                    quantity=Decimal(qty),
                                    amount=amount,
                                )
                            )
                            stock[product.pk] += qty
                            stats["sell_in"] += 1
                    order.total = total
                # Sell-through: what was on hand, to end customers, reported monthly.
                span = (last_day.day if current else month_end.day) or 1
                elapsed = span / month_end.day
                sold_lines = []
                for product in carried:
                    want = expected[product.pk] * (elapsed if current else 1)
                    # Stochastic rounding: machines sold a few a month still sell some days.
                    want = int(want) + (1 if rng.random() < want - int(want) else 0)
                    qty = min(stock[product.pk], max(0, want))
                    if qty <= 0:
                        continue
                    stock[product.pk] -= qty
                    parts = min(qty, rng.choice([1, 1, 2, 3]))
                    cuts = (
                        sorted(rng.sample(range(1, qty), parts - 1))
                        if parts > 1
                        else []
                    )
                    for a, b in zip([0, *cuts], [*cuts, qty], strict=True):
                        n = b - a
                        price = product.list_price * Decimal(str(rng.uniform(0.9, 1.0)))
                        buyer = (
                            rng.choice(pool) if pool and rng.random() < 0.55 else None
                        )
                        sold_lines.append(
                            SellThroughLine(
                                partner=partner,
                                sold_on=month
                                + datetime.timedelta(days=rng.randrange(span)),
                                product=product,
                                quantity=Decimal(n),
                                amount=_money(price * n),
                                end_customer=buyer,
                                end_customer_name=buyer.name
                                if buyer
                                else f"{rng.choice(BRANDS)}{rng.choice(SMALL_BUYERS)}",
                                region=rng.choice(districts),
                            )
                        )
                if sold_lines and not current:
                    due = _add_months(month, 1)
                    late = rng.random() < 0.12
                    submitted = due + datetime.timedelta(
                        days=rng.randint(6, 14) if late else rng.randint(0, 4)
                    )
                    report = SellThroughReport(
                        partner=partner,
                        reference=f"ST-{month:%Y%m}",
                        source=rng.choice(["portal", "portal", "upload", "api"]),
                        period_start=month,
                        period_end=month_end,
                        submitted_by=admin,
                        line_count=len(sold_lines),
                        total_quantity=sum(line.quantity for line in sold_lines),
                        total_amount=sum(line.amount for line in sold_lines),
                    )
                    report._planned_at = _aware(min(submitted, today), 11)
                    reports.append(report)
                    for line in sold_lines:
                        line.report = report
                    lines.extend(sold_lines)
                elif sold_lines:
                    # This month's sales so far: a weekly report.
                    report = SellThroughReport(
                        partner=partner,
                        reference=f"ST-{month:%Y%m}-W1",
                        source="api",
                        period_start=month,
                        period_end=last_day,
                        submitted_by=admin,
                        line_count=len(sold_lines),
                        total_quantity=sum(line.quantity for line in sold_lines),
                        total_amount=sum(line.amount for line in sold_lines),
                    )
                    reports.append(report)
                    for line in sold_lines:
                        line.report = report
                    lines.extend(sold_lines)
                if current:
                    continue
                # Month-end counts: the stock carried forward.
                for product in carried:
                    counts.append(
                        StockCount(
                            partner=partner,
                            product=product,
                            counted_on=month_end,
                            quantity=Decimal(stock[product.pk]),
                            submitted_by=admin,
                        )
                    )
                    if index == MONTHS - 1 and stock[product.pk] > 3:
                        wrong.append(counts[-1])
        # A few counts of the last complete month that do not add up.
        for count in rng.sample(wrong, min(WRONG_COUNTS, len(wrong))):
            count.quantity += Decimal(rng.choice([-5, -3, -2, -1, 2, 4, 6]))
            count.quantity = max(Decimal(0), count.quantity)
        self._one_rejected(orders)
        for order in sorted(orders, key=lambda o: (o.ordered_on, o.partner.number)):
            order.number = next_number("channels.purchase_order")
        PurchaseOrder.objects.bulk_create(orders, batch_size=500)
        _restamp(PurchaseOrder, orders)
        PurchaseOrderLine.objects.bulk_create(order_lines, batch_size=1000)
        Receipt.objects.bulk_create(receipts, batch_size=500)
        _restamp(Receipt, receipts)
        ReceiptLine.objects.bulk_create(receipt_lines, batch_size=1000)
        SellThroughReport.objects.bulk_create(reports, batch_size=500)
        _restamp(SellThroughReport, reports)
        SellThroughLine.objects.bulk_create(lines, batch_size=1000)
        StockCount.objects.bulk_create(counts, batch_size=1000)
        PartnerTarget.objects.bulk_create(targets, batch_size=500)
        return {
            "orders": len(orders),
            "receipts": len(receipts),
            "reports": len(reports),
            "lines": len(lines),
            "counts": len(counts),
            "targets": len(targets),
        }

    def _one_rejected(self, orders) -> None:
        submitted = [o for o in orders if o.status == PurchaseOrder.Status.SUBMITTED]
        if submitted:
            order = submitted[-1]
            order.status = PurchaseOrder.Status.REJECTED
            order.decided_by = order.owner
            order.decided_at = _aware(order.ordered_on, 17)
            order.decision_note = "超出信用额度，请先回款后再下单。"

    def _end_customers(self, partners) -> dict[int, list[Customer]]:
        """A handful of existing customers in each partner's province (no new ones)."""
        by_province = defaultdict(list)
        for customer in (
            Customer.objects.filter(region__isnull=False)
            .only("pk", "name", "region__path")
            .select_related("region")
            .order_by("pk")
        ):
            by_province[customer.region.path[1:7]].append(customer)
        pools = {}
        for partner in partners:
            candidates = by_province.get(partner._province.code) or []
            pools[partner.pk] = self.rng.sample(candidates, min(6, len(candidates)))
        return pools

    # Scores

    def scores(self) -> int:
        """The last three complete quarters, computed and closed by the scores service;
        without it, nothing (no scores made up)."""
        try:
            from crm.channels.services.scores import (
                period_close,
                period_compute,
                period_create,
            )
        except ImportError:
            return 0
        quarter = datetime.date(self.today.year, (self.today.month - 1) // 3 * 3 + 1, 1)
        made = 0
        for back in (9, 6, 3):
            starts = _add_months(quarter, -back)
            if ScorePeriod.objects.filter(kind="quarter", starts_on=starts).exists():
                continue
            period = period_create(
                actor=self.admin, data={"kind": "quarter", "starts_on": starts}
            )
            period = period_compute(actor=self.admin, period=period)
            period_close(actor=self.director, period=period)
            made += 1
        return made

    # Marketing

    def marketing(self, partners, admins, tiers) -> dict:
        rng, today = self.rng, self.today
        cats = {c.name: c for c in Category.objects.filter(depth__lte=1)}
        east = Region.objects.filter(code__in=["310000", "320000", "330000"])
        south = Region.objects.filter(code__in=["440000", "450000", "350000"])
        specs = [
            ("春季开工节促销", -250, -200, ["工业控制"], list(east), [], 120000),
            ("618 年中冲量", -190, -160, [], [], [], 200000),
            (
                "伺服系统金秋推广",
                -90,
                -30,
                ["运动控制"],
                [],
                ["战略经销商", "一级经销商"],
                150000,
            ),
            ("年终备货季", -10, 45, [], [], [], 300000),
            ("工业机器人巡展（华南）", 20, 80, ["工业机器人"], list(south), [], 80000),
            ("新品传感器试用活动", 60, 120, ["传感与检测"], [], [], 50000),
        ]
        promos = []
        for i, (name, start, end, cat_names, regions, tier_names, budget) in enumerate(
            specs
        ):
            promo = Promotion.objects.create(
                name=name,
                description=f"{name}：活动期间签约渠道商进货享额外折扣，并可申请联合市场费用。",
                status=Promotion.Status.DRAFT
                if i == len(specs) - 1
                else Promotion.Status.PUBLISHED,
                starts_on=today + datetime.timedelta(days=start),
                ends_on=today + datetime.timedelta(days=end),
                fund_budget=Decimal(budget),
                published_at=None
                if i == len(specs) - 1
                else _aware(today + datetime.timedelta(days=start - 20)),
                owner=self.director,
                department=self.director.department if self.director else None,
            )
            promo.categories.set([cats[c] for c in cat_names if c in cats])
            promo.regions.set(regions)
            promo.tiers.set([tiers[t] for t in tier_names])
            promos.append(promo)
        plans = funds = executions = 0
        trading = [p for p in partners if p.status == Partner.Status.ACTIVE]
        for promo in promos[:-1]:
            region_codes = {r.code[:2] for r in promo.regions.all()}
            tier_ids = set(promo.tiers.values_list("pk", flat=True))
            eligible = [
                p
                for p in trading
                if (not region_codes or p._province.code[:2] in region_codes)
                and (not tier_ids or p.tier_id in tier_ids)
            ]
            past = promo.ends_on < today
            budget_left = promo.fund_budget
            for partner in rng.sample(eligible, min(3, len(eligible))):
                status = (
                    PartnerPlan.Status.DONE
                    if past
                    else rng.choice(
                        [PartnerPlan.Status.APPROVED, PartnerPlan.Status.SUBMITTED]
                    )
                )
                plan = PartnerPlan.objects.create(
                    partner=partner,
                    promotion=promo,
                    title=f"{partner.short_name}{promo.name}方案",
                    description="门店陈列、客户技术交流会与老客户回访，配合总部活动政策。",
                    starts_on=promo.starts_on + datetime.timedelta(days=3),
                    ends_on=promo.ends_on - datetime.timedelta(days=2),
                    status=status,
                    created_by=admins[partner.pk],
                )
                plan.categories.set(promo.categories.all())
                if region_codes:
                    plan.regions.set([partner._province])
                plans += 1
                amount = Decimal(rng.choice([8000, 12000, 15000, 20000, 30000]))
                decided = status in (
                    PartnerPlan.Status.DONE,
                    PartnerPlan.Status.APPROVED,
                )
                approved = min(amount, budget_left) if decided else Decimal(0)
                budget_left -= approved
                FundRequest.objects.create(
                    plan=plan,
                    amount=amount,
                    approved_amount=approved,
                    purpose="技术交流会场地、宣传物料与样机运输",
                    status=FundRequest.Status.APPROVED
                    if decided
                    else FundRequest.Status.PENDING,
                    requested_by=admins[partner.pk],
                    decided_by=partner.owner if decided else None,
                    decided_at=_aware(plan.starts_on) if decided else None,
                )
                funds += 1
                if status == PartnerPlan.Status.DONE:
                    ExecutionReport.objects.create(
                        plan=plan,
                        reported_on=plan.ends_on + datetime.timedelta(days=5),
                        spent=approved,
                        leads=rng.randint(4, 25),
                        sales_amount=Decimal(rng.randint(8, 60) * 10000),
                        summary="举办技术交流会 2 场，到场客户 40 余家，新增意向客户若干。",
                        submitted_by=admins[partner.pk],
                    )
                    executions += 1
        # One request turned down.
        pending = FundRequest.objects.filter(status=FundRequest.Status.PENDING).first()
        if pending is not None:
            pending.status = FundRequest.Status.REJECTED
            pending.decided_by = pending.plan.partner.owner
            pending.decided_at = timezone.now()
            pending.decision_note = "费用明细不完整，请补充报价单后重新申请。"
            pending.save()
        return {
            "promotions": len(promos),
            "plans": plans,
            "funds": funds,
            "executions": executions,
        }

    # Deal registrations

    def deals(self, partners, admins) -> int:
        rng, today = self.rng, self.today
        trading = [
            p for p in partners if p.status == Partner.Status.ACTIVE and p._exclusive
        ]
        customers = list(
            Customer.objects.filter(region__isnull=False)
            .select_related("region")
            .order_by("pk")[:400]
        )
        rng.shuffle(customers)
        regs = []

        def register(partner, customer, status, days_ago, **extra):
            reg = DealRegistration(
                number=next_number("channels.deal"),
                partner=partner,
                customer=customer,
                customer_name=customer.name,
                customer_key=name_key(customer.name),
                region=partner.region,
                project=rng.choice(
                    ["产线自动化改造", "伺服系统升级", "新厂房设备采购", "机器人工作站"]
                ),
                expected_amount=Decimal(rng.randint(5, 80) * 10000),
                expected_close_on=today + datetime.timedelta(days=rng.randint(20, 120)),
                status=status,
                submitted_by=admins[partner.pk],
                decided_by=partner.owner
                if status in (DealRegistration.Status.APPROVED, "rejected")
                else None,
                decided_at=_aware(today - datetime.timedelta(days=days_ago - 2))
                if status in (DealRegistration.Status.APPROVED, "rejected")
                else None,
                valid_until=today + datetime.timedelta(days=90 - days_ago)
                if status == DealRegistration.Status.APPROVED
                else None,
                **extra,
            )
            reg._planned_at = _aware(today - datetime.timedelta(days=days_ago))
            regs.append(reg)
            return reg

        statuses = [
            DealRegistration.Status.APPROVED,
            DealRegistration.Status.APPROVED,
            DealRegistration.Status.PENDING,
            DealRegistration.Status.PENDING,
            DealRegistration.Status.REJECTED,
        ]
        for i, partner in enumerate(rng.sample(trading, min(12, len(trading)))):
            register(
                partner, customers[i], statuses[i % len(statuses)], rng.randint(3, 60)
            )
        # The conflict: a second partner registers a customer already protected.
        first = regs[0]
        rival = next(p for p in trading if p.pk != first.partner_id)
        clash = register(
            rival,
            first.customer,
            DealRegistration.Status.CONFLICT,
            1,
            conflict_reason=f"该终端客户已由{first.partner.name}报备（{first.number}），处于保护期内。",
        )
        DealRegistration.objects.bulk_create(regs)
        _restamp(DealRegistration, regs)
        clash.conflicts_with.add(first)
        return len(regs)


def load() -> str:
    tiers = _tiers()
    if Partner.objects.exists():
        return f"{Partner.objects.count()} partners (already loaded)"
    if not Region.objects.exists() or not Product.objects.exists():
        return "no regions or products loaded"
    rng = random.Random(SEED)
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    today = timezone.localdate()
    net = _Network(rng, fake, today)
    if not net.products:
        return "no products to distribute"
    partners = net.partners(tiers)
    admins = net.portal_users(partners)
    agreements = net.agreements(partners)
    flows = net.flows(partners, admins)
    periods = net.scores()
    marketing = net.marketing(partners, admins, tiers)
    deals = net.deals(partners, admins)
    return (
        f"{len(partners)} partners, {PartnerUser.objects.count()} portal users "
        f"(login {DEALER_LOGIN}), {agreements} agreements, {flows['orders']} purchase "
        f"orders, {flows['receipts']} receipts, {flows['reports']} sell-through reports "
        f"({flows['lines']} lines), {flows['counts']} stock counts, "
        f"{flows['targets']} targets, {Kpi.objects.filter(active=True).count()} KPIs, "
        f"{periods} closed score periods ({PartnerScore.objects.count()} scores), "
        f"{marketing['promotions']} promotions, {marketing['plans']} partner plans, "
        f"{marketing['funds']} fund requests, {deals} deal registrations"
    )
