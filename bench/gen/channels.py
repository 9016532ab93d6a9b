"""X6 generator, channel step: the partner network (D1–D11) at benchmark scale.

`generate(ctx)` writes, through COPY with explicit ids:

- tiers, `ctx.scale.partners` partners (500 at full scale) spread over the provinces, a
  two-level tree (distributors with secondary dealers under some of them), regions served,
  a territory each, credit limits; owner = a channel manager, department = that manager's
  department. About a fifth of the partners belong to channel managers inside the bench
  manager's department tree (and sit in that company's provinces), so its
  department-tree scope sees a fifth of the network;
- a portal administrator per partner (and a sales clerk for every third), password
  `bench.conf.PASSWORD`;
- one agreement in force per trading partner (its renewed predecessor before it when the
  partner is older), product scope, discount off the list price, rebate and penalty terms;
- 24 complete months and the running one of flows, planned partner × product × month: a
  purchase order at the start of each month (approved, received a few days later) covers
  the month's sales plus a safety stock, sell-through lines to end customers (customers of
  the partner's province, or walk-in buyers) are reported monthly, and the month-end stock
  count is the stock carried forward — so the reconciliation balances except where a
  count found shrinkage or a surplus (about 3 % of the counts; in the last complete
  month, about one per partner);
- `ctx.scale.sellthrough_lines` sell-through lines in total, exactly;
- monthly targets, stock bounds for some products, and the last two quarters scored and
  closed by the scores service (the dashboard shows the latest).

The app's number sequences (QD, XY, CG) are moved past the numbers written here.
"""

import datetime
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone
from faker import Faker

from bench import conf
from bench.copy import copy_rows, execute, indexes_dropped, reset_sequence

HISTORY_MONTHS = 24  # complete months before the running one
INSIDE_SHARE = 0.2  # partners owned inside the bench manager's department tree
MISMATCH_RATE = 0.03  # month-end counts that find shrinkage or a surplus
REJECTED_RATE = 0.01  # partner-months with an extra purchase order turned down
NAMED_BUYER_RATE = 0.55  # sell-through lines to a known customer (else a walk-in buyer)
CATALOGUE_SIZE = 300  # products the channel carries at most
SCORED_QUARTERS = 2
DAY = datetime.timedelta(days=1)
# Pieces a sell-through line sells at most (less one), by list price: a box of
# terminals, a few relays, one servo drive.
PER_LINE = ((100, 29), (500, 11), (2000, 5), (10000, 2), (50000, 1))

TIERS = [
    ("战略经销商", 1, "年进货额 1000 万元以上，享最高返利档"),
    ("一级经销商", 2, "直接向总部进货的签约经销商"),
    ("二级经销商", 3, "向一级经销商进货的分销商"),
    ("区域代理商", 2, "按区域代理销售、以佣金结算的代理商"),
]
STRATEGIC, FIRST, SECOND, AGENT = (name for name, _rank, _d in TIERS)
TIER_SIZE = {STRATEGIC: 3.0, FIRST: 1.5, SECOND: 0.6, AGENT: 0.8}

# The regional sales companies (named 华东销售有限公司 …; bench/gen/org.py) → the
# province code prefixes each one covers.
AREAS = {
    "华东": ("31", "32", "33", "34"),
    "华北": ("11", "12", "13", "14", "15", "37"),
    "华南": ("44", "45", "46", "35"),
    "华中": ("41", "42", "43", "36"),
    "西南": ("50", "51", "52", "53", "54"),
    "东北": ("21", "22", "23"),
    "西北": ("61", "62", "63", "64", "65"),
}
# Relative number of partners per province (its industrial weight).
PROVINCE_WEIGHT = {
    "11": 4, "12": 2, "13": 4, "14": 2, "15": 1.5, "21": 3, "22": 1.5, "23": 1.5,
    "31": 4, "32": 9, "33": 8, "34": 4, "35": 4, "36": 2.5, "37": 7, "41": 5,
    "42": 4.5, "43": 4, "44": 10, "45": 2, "46": 0.6, "50": 3, "51": 5, "52": 1.5,
    "53": 2, "54": 0.3, "61": 3, "62": 1, "63": 0.4, "64": 0.5, "65": 1,
}  # fmt: skip
BRANDS = (
    "恒通", "力拓", "华信", "瑞丰", "鼎盛", "宏达", "金桥", "远航",
    "联创", "启明", "博远", "中驰", "天工", "精诚", "万隆", "东升",
    "永泰", "嘉禾", "新纪元", "众合", "汇丰", "德力", "开元", "盛达",
    "凯旋", "同创", "鑫源", "华泰", "安泰", "正和", "合力", "长城",
    "海川", "信达", "兴业", "广联", "宇通", "佳成", "明德", "荣昌",
)  # fmt: skip
TRADES = (
    "自动化设备", "机电设备", "工控技术", "智能装备", "电气自动化",
    "工业科技", "商贸", "五金机电", "机械设备", "贸易",
)  # fmt: skip
WALK_IN = (
    "机械加工厂", "五金制品厂", "包装机械厂", "注塑厂", "电子厂", "食品机械厂",
    "纺织机械厂", "设备维修部", "模具厂", "汽配厂", "钣金加工部", "印刷厂",
)  # fmt: skip
# Jan … Dec: the Spring Festival dip, the year-end rush.
SEASON = (0.75, 0.6, 1.0, 1.1, 1.1, 1.0, 0.95, 0.95, 1.05, 1.1, 1.15, 1.25)
PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)
REBATES = (("80", "1"), ("100", "2.5"), ("120", "4"))
PENALTIES = (("60", 1), ("40", 3))
TERMS = (
    "季度销售目标达成率 ≥80% 返进货额 1%，≥100% 返 2.5%，≥120% 返 4%；"
    "达成率低于 60% 罚款，低于 40% 加重处罚并约谈。"
)
REJECT_NOTE = "超出信用额度，请先回款后再下单。"


# Small helpers


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _month_end(first: datetime.date) -> datetime.date:
    return _add_months(first, 1) - datetime.timedelta(days=1)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _money(cents: int) -> str:
    """Integer cents as the numeric column's text ("1234.50")."""
    return f"{cents // 100}.{cents % 100:02d}"


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')  # noqa: S608
        return cursor.fetchone()[0]


def _fetch(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _short_province(name: str) -> str:
    for suffix in PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _short_city(name: str, province: str) -> str:
    if name.endswith("市") and len(name) > 2:
        return name[:-1]
    return name if len(name) <= 3 else province


def _allocate(total: int, weights: dict) -> dict:
    """Split `total` in proportion to `weights` (largest remainders)."""
    whole = sum(weights.values())
    if not whole or total <= 0:
        return {key: 0 for key in weights}
    shares = {key: total * w / whole for key, w in weights.items()}
    counts = {key: int(s) for key, s in shares.items()}
    rest = sorted(weights, key=lambda key: counts[key] - shares[key])
    for key in rest[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


# What the step reads from the database


@dataclass
class Product:
    id: int
    cents: int  # list price
    top_category: int
    per_line: int  # a line sells 1 … per_line + 1 pieces
    line_weight: float  # cheap parts sell in more lines than machines

    @property
    def mean_quantity(self) -> float:
        return 1 + (self.per_line + 1) / 3


@dataclass
class World:
    today: datetime.date
    months: list[datetime.date]  # HISTORY_MONTHS complete months, then the running one
    products: list[Product]
    provinces: dict[str, tuple[int, str]]  # code prefix → (region id, short name)
    cities: dict[str, list[tuple[int, str]]]  # province prefix → [(region id, name)]
    districts: dict[int, list[int]]  # city id → district ids
    # province prefix → its sampled customers (id, name, region id)
    customers: dict[str, list[tuple[int, str, int | None]]]
    owners: dict[str, list[tuple[int, int]]]  # province → channel managers (id, dept)
    inside_prefixes: set[str]
    partner_counts: dict[str, int]  # province prefix → partners


@dataclass
class Plan:
    """One partner as planned: its row, and what its flows need."""

    id: int
    number: str
    tier: str
    kind: str
    status: str
    province: str
    region: int
    parent: "Plan | None"
    owner: int
    department: int
    joined_on: datetime.date
    name: str
    short_name: str
    address: str
    size: float
    growth: float
    scope: list[int] = field(default_factory=list)  # top categories; [] = all
    carried: list[Product] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    safety: list[float] = field(default_factory=list)  # months of demand kept in stock
    # Sell-through lines per carried product and month: expected, then planned.
    cells: list[list[float]] = field(default_factory=list)
    lines: list[list[int]] = field(default_factory=list)
    admin: int = 0
    exclusive: bool = False
    discount: int = 0  # current agreement, % off the list price
    previous_discount: int = 0
    agreement_start: datetime.date | None = None
    first_month: int = 0  # index in World.months of the first month with flows
    last_month: int = HISTORY_MONTHS  # … and of the last


def _world(ctx, rng: random.Random) -> World:
    today = timezone.localdate()
    this_month = today.replace(day=1)
    months = [_add_months(this_month, k) for k in range(-HISTORY_MONTHS, 1)]
    products = _catalogue(ctx)
    provinces, cities, districts = {}, defaultdict(list), defaultdict(list)
    for pk, code, name, level, parent in _fetch(
        "SELECT id, code, name, level, parent_id FROM customers_region "
        "WHERE level <= 3 ORDER BY code"
    ):
        prefix = code[:2]
        if prefix not in PROVINCE_WEIGHT:
            continue
        if level == 1:
            provinces[prefix] = (pk, _short_province(name))
        elif level == 2:
            cities[prefix].append((pk, name))
        else:
            districts[parent].append(pk)
    prefixes = [p for p in PROVINCE_WEIGHT if p in provinces and cities[p]]
    owners, inside_prefixes = _owners(ctx, prefixes)
    partners = ctx.scale.partners
    inside = round(partners * INSIDE_SHARE) if inside_prefixes else 0
    counts = _allocate(
        inside, {p: PROVINCE_WEIGHT[p] for p in prefixes if p in inside_prefixes}
    )
    counts.update(
        _allocate(
            partners - inside,
            {p: PROVINCE_WEIGHT[p] for p in prefixes if p not in inside_prefixes},
        )
    )
    return World(
        today=today,
        months=months,
        products=products,
        provinces=provinces,
        cities=dict(cities),
        districts=dict(districts),
        customers=_customers(rng),
        owners=owners,
        inside_prefixes=inside_prefixes,
        partner_counts=counts,
    )


def _catalogue(ctx) -> list[Product]:
    """The tangible products on sale priced like dealer goods (20 – 150,000), at most
    CATALOGUE_SIZE of them spread over the range of ids."""
    ids = [pk for pk, _price in ctx.products]
    rows = _fetch(
        """
        SELECT p.id, p.list_price, c.path FROM products_product p
        JOIN products_category c ON c.id = p.category_id
        WHERE p.id = ANY(%s) AND p.type IN ('own', 'outsourced', 'consignment')
          AND p.status = 'active' AND p.list_price BETWEEN 20 AND 150000
        ORDER BY p.id
        """,
        [ids],
    )
    if not rows:
        raise RuntimeError("channels: no tangible products between 20 and 150,000")
    step = max(1, len(rows) // CATALOGUE_SIZE)
    products = []
    for pk, price, path in rows[::step][:CATALOGUE_SIZE]:
        products.append(
            Product(
                id=pk,
                cents=int(price * 100),
                top_category=int(path.strip("/").split("/")[0]),
                per_line=next((n for limit, n in PER_LINE if price < limit), 0),
                line_weight=(2000 / max(float(price), 50)) ** 0.5,
            )
        )
    return products


def _area_of(name: str) -> str | None:
    return next((area for area in AREAS if area in (name or "")), None)


def _owners(ctx, prefixes: list[str]):
    """Province → its channel managers. The bench manager's company (its area, from
    the department's name; 华东 if it names none) is served by the channel managers
    inside its department tree; the other provinces by the others, by the area their
    department names, else in turn."""
    managers = list(ctx.channel_managers) or list(ctx.reps)
    if not managers:
        raise RuntimeError("channels: no channel managers (nor reps) to own partners")
    departments = {
        pk: (path, name)
        for pk, path, name in _fetch("SELECT id, path, name FROM org_department")
    }
    inside, outside = [], []
    if ctx.manager is not None:
        root_path, root_name = departments[ctx.manager[1]]
        for user, dept in managers:
            path = departments.get(dept, ("", ""))[0]
            (inside if path.startswith(root_path) else outside).append((user, dept))
        home = _area_of(root_name) or "华东"
    else:
        outside, home = managers, None
    if not outside:  # nobody outside: everyone sees the whole network
        outside, inside, home = inside, [], None
    owners: dict[str, list] = {}
    inside_prefixes = set()
    if inside and home:
        inside_prefixes = {p for p in prefixes if p[:2] in AREAS[home]}
        for i, prefix in enumerate(sorted(inside_prefixes)):
            owners[prefix] = [inside[i % len(inside)]]
    by_area = defaultdict(list)
    for user, dept in outside:
        by_area[_area_of(departments.get(dept, ("", ""))[1])].append((user, dept))
    unnamed = by_area.pop(None, []) or outside
    turn = 0
    for prefix in prefixes:
        if prefix in inside_prefixes:
            continue
        area = next(a for a, codes in AREAS.items() if prefix in codes)
        pool = by_area.get(area)
        if pool:
            owners[prefix] = pool
        else:
            owners[prefix] = [unnamed[turn % len(unnamed)]]
            turn += 1
    return owners, inside_prefixes


def _customers(rng: random.Random) -> dict[str, list[tuple[int, str, int | None]]]:
    """A sample of the customers (about 300,000 at most) by province: the partners'
    named end customers are drawn from those of their province."""
    total = _fetch("SELECT COUNT(*) FROM customers_customer")[0][0]
    if not total:
        return {}
    percent = min(100.0, 100.0 * 300_000 / total)
    seed = rng.randrange(1, 2**31)
    rows = _fetch(
        """
        SELECT c.id, c.name, c.region_id, SUBSTRING(r.path, 2, 2)
        FROM customers_customer c TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s)
        LEFT JOIN customers_region r ON r.id = c.region_id
        ORDER BY c.id
        """,
        [percent, seed],
    )
    by_province = defaultdict(list)
    for pk, name, region, prefix in rows:
        by_province[prefix or ""].append((pk, name[:100], region))
    return dict(by_province)


# Partners


def _tiers() -> dict[str, int]:
    from crm.channels.models import Tier

    ids = {}
    for name, rank, description in TIERS:
        tier, _created = Tier.objects.get_or_create(
            name=name, defaults={"rank": rank, "description": description}
        )
        ids[name] = tier.pk
    return ids


def _plan_partners(world: World, rng: random.Random) -> list[Plan]:
    start = world.months[0]
    latest = world.today - datetime.timedelta(days=60)
    plans, names, taken = [], set(), set()
    for prefix in sorted(world.partner_counts):
        count = world.partner_counts[prefix]
        if not count:
            continue
        _province_id, province = world.provinces[prefix]
        cities = world.cities[prefix]
        heads = []
        for i in range(count):
            city_id, city_name = cities[0] if i == 0 else rng.choice(cities[:6])
            place = _short_city(city_name, province)
            if i == 0:
                tier = STRATEGIC if count >= 4 else FIRST
            elif rng.random() < 0.2:
                tier = AGENT
            elif heads and rng.random() < 0.55:
                tier = SECOND
            else:
                tier = FIRST
            kind = "agent" if tier == AGENT else "dealer"
            parent = rng.choice(heads) if tier == SECOND else None
            brand = ""
            for _attempt in range(50):
                brand, trade = rng.choice(BRANDS), rng.choice(TRADES)
                where = province if tier == STRATEGIC else place
                name = (
                    f"{where}{brand}{trade}{'代理' if kind == 'agent' else ''}有限公司"
                )
                if name not in names:
                    break
            else:
                name = f"{place}{brand}{len(plans) + 1}号{TRADES[0]}有限公司"
            names.add(name)
            owners = world.owners[prefix]
            owner, department = owners[len(plans) % len(owners)]
            if parent is not None:  # signed up by its distributor, later
                owner, department = parent.owner, parent.department
                room = (latest - parent.joined_on).days
                joined = parent.joined_on + datetime.timedelta(
                    days=rng.randint(min(30, room), max(30, min(900, room)))
                )
            elif rng.random() < 0.85:
                joined = start - datetime.timedelta(days=rng.randint(30, 2900))
            else:
                joined = start + datetime.timedelta(days=rng.randint(20, 600))
            plan = Plan(
                id=0,
                number="",
                tier=tier,
                kind=kind,
                status="active",
                province=prefix,
                region=city_id,
                parent=parent,
                owner=owner,
                department=department,
                joined_on=min(joined, latest),
                name=name,
                short_name=f"{place}{brand}",
                address=f"{city_name}{rng.choice(BRANDS)}路{rng.randint(1, 999)}号",
                size=rng.lognormvariate(0, 0.5) * TIER_SIZE[tier],
                growth=rng.uniform(-0.01, 0.03),
            )
            plan.exclusive = tier != SECOND and city_id not in taken
            if plan.exclusive:
                taken.add(city_id)
            if tier in (STRATEGIC, FIRST):
                heads.append(plan)
            plans.append(plan)
    # A few are not simply trading.
    for status, share in (
        ("suspended", 0.02),
        ("terminated", 0.01),
        ("prospect", 0.01),
    ):
        for plan in rng.sample(plans, max(1, round(len(plans) * share))):
            if plan.status == "active" and not any(p.parent is plan for p in plans):
                plan.status = status
                if status == "prospect":  # in talks: not joined, no territory
                    plan.joined_on = world.today - datetime.timedelta(
                        days=rng.randint(10, 50)
                    )
                    plan.exclusive = False
    plans.sort(key=lambda p: (p.joined_on, p.name))
    first_id = _next_id("channels_partner")
    for i, plan in enumerate(plans):
        plan.id = first_id + i
    return plans


def _plan_flows(ctx, world: World, plans: list[Plan], rng: random.Random) -> None:
    """Products carried, and the number of sell-through lines of every partner ×
    product × month, adding up to ctx.scale.sellthrough_lines exactly."""
    months, today = world.months, world.today
    tops = sorted({p.top_category for p in world.products})
    order = list(world.products)
    rng.shuffle(order)
    popularity = {p.id: 1 / (1 + i) ** 0.6 for i, p in enumerate(order)}
    current_share = (today.day - 1) / _month_end(months[-1]).day
    for plan in plans:
        start_month = plan.joined_on.replace(day=1)
        plan.first_month = next(
            (m for m, month in enumerate(months) if month >= start_month), 0
        )
        if plan.status == "suspended":
            plan.last_month = HISTORY_MONTHS - 3
        elif plan.status == "terminated":
            plan.last_month = HISTORY_MONTHS - 7
        elif plan.status == "prospect":
            plan.first_month, plan.last_month = HISTORY_MONTHS + 1, HISTORY_MONTHS
        candidates = order
        if len(tops) > 1 and rng.random() < 0.3:
            plan.scope = sorted(rng.sample(tops, rng.randint(1, min(2, len(tops) - 1))))
            candidates = [p for p in order if p.top_category in plan.scope]
        weights = [popularity[p.id] for p in candidates]
        wanted = min(len(candidates), rng.randint(10, 30))
        chosen: dict[int, Product] = {}
        while len(chosen) < wanted:
            product = rng.choices(candidates, weights)[0]
            chosen[product.id] = product
        plan.carried = sorted(chosen.values(), key=lambda p: p.id)
        plan.weights = [rng.uniform(0.5, 1.5) * p.line_weight for p in plan.carried]
        plan.safety = [_safety_months(rng) for _p in plan.carried]
        shape = []
        for m, month in enumerate(months):
            active = plan.first_month <= m <= plan.last_month
            share = current_share if m == HISTORY_MONTHS else 1.0
            shape.append(
                plan.size * SEASON[month.month - 1] * (1 + plan.growth) ** m * share
                if active
                else 0.0
            )
        plan.cells = [[w * s for s in shape] for w in plan.weights]
    total = sum(sum(row) for plan in plans for row in plan.cells)
    if not total:
        raise RuntimeError("channels: no partner trades in the generated period")
    scale = ctx.scale.sellthrough_lines / total
    planned = 0
    for plan in plans:
        plan.cells = [[e * scale for e in row] for row in plan.cells]
        plan.lines = []
        for row in plan.cells:
            counts = [int(e) + (rng.random() < e - int(e)) for e in row]
            planned += sum(counts)
            plan.lines.append(counts)
    # Exactly the scale's number of lines: add or take single lines at random cells.
    cells = [
        (plan, i, m)
        for plan in plans
        for i, row in enumerate(plan.cells)
        for m, e in enumerate(row)
        if e > 0
    ]
    while planned != ctx.scale.sellthrough_lines:
        plan, i, m = rng.choice(cells)
        if planned < ctx.scale.sellthrough_lines:
            plan.lines[i][m] += 1
            planned += 1
        elif plan.lines[i][m] > 0:
            plan.lines[i][m] -= 1
            planned -= 1


def _safety_months(rng) -> float:
    """Months of usual sales a partner keeps of a product: mostly 0.3 – 1.2; a tenth
    over-stocked, a tenth running short (the inventory alerts have both)."""
    draw = rng.random()
    if draw < 0.1:
        return rng.uniform(2.0, 4.0)
    if draw < 0.2:
        return rng.uniform(0.05, 0.2)
    return rng.uniform(0.3, 1.2)


def _write_partners(world: World, plans: list[Plan], tiers: dict, rng, fake) -> None:
    from crm.core.numbering import SEQUENCES

    spec = SEQUENCES["channels.partner"]
    for i, plan in enumerate(plans, start=1):
        plan.number = f"{spec.prefix}{i:0{spec.padding}d}"

    def rows():
        for plan in plans:
            parent = plan.parent
            path = f"/{parent.id}/{plan.id}/" if parent else f"/{plan.id}/"
            big = TIER_SIZE[plan.tier] >= 1.5
            credit = rng.choice([2, 3, 5, 8, 10]) * 1_000_000 if big else 500_000
            stamp = _at(plan.joined_on, 10)
            yield (
                plan.id, stamp, stamp, 1, path, 1 if parent else 0, plan.number,
                plan.name, plan.short_name, plan.kind, plan.status, credit,
                fake.name(), f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                f"{plan.number.lower()}@partner-bench.cn", plan.address,
                f"91{plan.province}{rng.randrange(10**13, 10**14)}",
                None if plan.status == "prospect" else plan.joined_on, "",
                plan.department, plan.owner, parent.id if parent else None,
                plan.region, tiers[plan.tier],
            )  # fmt: skip

    copy_rows(
        "channels_partner",
        (
            "id", "created_at", "updated_at", "version", "path", "depth", "number",
            "name", "short_name", "kind", "status", "credit_limit", "contact_name",
            "phone", "email", "address", "tax_number", "joined_on", "notes",
            "department_id", "owner_id", "parent_id", "region_id", "tier_id",
        ),
        rows(),
        total=len(plans),
        label="partners",
    )  # fmt: skip
    reset_sequence("channels_partner")
    served = []
    for plan in plans:
        regions = {plan.region, world.provinces[plan.province][0]}
        if plan.parent is None and plan.tier != AGENT:
            neighbours = [pk for pk, _n in world.cities[plan.province][:6]]
            regions.update(rng.sample(neighbours, min(2, len(neighbours))))
        served += [(plan.id, region) for region in sorted(regions)]
    first = _next_id("channels_partner_regions_served")
    copy_rows(
        "channels_partner_regions_served",
        ("id", "partner_id", "region_id"),
        ((first + i, p, r) for i, (p, r) in enumerate(served)),
        total=len(served),
        label="regions served",
    )
    reset_sequence("channels_partner_regions_served")
    first = _next_id("channels_territory")
    copy_rows(
        "channels_territory",
        (
            "id", "created_at", "updated_at", "exclusive", "starts_on", "ends_on",
            "partner_id", "region_id",
        ),
        (
            (
                first + i, _at(p.joined_on, 10), _at(p.joined_on, 10), p.exclusive,
                p.joined_on, None, p.id, p.region,
            )
            for i, p in enumerate(plans)
        ),
        total=len(plans),
        label="territories",
    )  # fmt: skip
    reset_sequence("channels_territory")


def _write_portal_users(plans: list[Plan], rng, fake) -> None:
    """An administrator for each partner (username: the partner number in lower case)
    and a sales clerk for every third; one password hash for all."""
    password = make_password(conf.PASSWORD)
    first_user = _next_id("org_user")
    users, members = [], []
    for i, plan in enumerate(plans):
        logins = [(plan.number.lower(), "渠道商管理员", True)]
        if i % 3 == 0:
            logins.append((f"{plan.number.lower()}_sales", "业务员", False))
        for username, position, is_admin in logins:
            user_id = first_user + len(users)
            joined = _at(plan.joined_on, 11)
            users.append(
                (
                    user_id, password, None, False, username, "", "",
                    f"{username}@partner-bench.cn", False, True, joined, fake.name(),
                    "", position, f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                    "", None, None,
                )
            )  # fmt: skip
            members.append((joined, joined, is_admin, plan.id, user_id))
            if is_admin:
                plan.admin = user_id
    copy_rows(
        "org_user",
        (
            "id", "password", "last_login", "is_superuser", "username", "first_name",
            "last_name", "email", "is_staff", "is_active", "date_joined", "name",
            "employee_no", "position", "mobile", "phone", "supervisor_id",
            "department_id",
        ),
        users,
        total=len(users),
        label="portal users",
    )  # fmt: skip
    reset_sequence("org_user")
    first = _next_id("channels_partneruser")
    copy_rows(
        "channels_partneruser",
        ("id", "created_at", "updated_at", "is_admin", "partner_id", "user_id"),
        ((first + i, *row) for i, row in enumerate(members)),
        total=len(members),
        label="partner users",
    )
    reset_sequence("channels_partneruser")


# Agreements


def _write_agreements(world: World, plans: list[Plan], rng) -> int:
    """Trading partners: an agreement in force (2 years; a few expire within the
    month), renewing an earlier one when the partner is older. Prospects: a draft.
    Terminated partners: their agreement terminated."""
    from crm.core.numbering import SEQUENCES

    spec = SEQUENCES["channels.agreement"]
    today = world.today
    first = _next_id("channels_agreement")
    agreements, territories, scopes, terms = [], [], [], []

    def add(plan, status, starts, ends, discount, title, previous=None, reason=""):
        pk = first + len(agreements)
        number = f"{spec.prefix}{len(agreements) + 1:0{spec.padding}d}"
        signed = starts - datetime.timedelta(days=rng.randint(5, 20))
        yearly = sum(sum(row[-13:-1]) for row in plan.cells)  # expected lines
        target = int(yearly * _mean_line_cents(plan) * 1.2 / 100 / 10_000) * 10_000
        stamp = _at(min(signed, today), 10)
        agreements.append(
            (
                pk, stamp, stamp, 1, number, title, status, starts, ends,
                None if status == "draft" else signed, discount, target, TERMS, None,
                plan.department, plan.owner, previous, None, plan.id, reason,
            )
        )  # fmt: skip
        territories.append((pk, plan.region))
        scopes.extend((pk, category) for category in plan.scope)
        scale = 3 if plan.tier == STRATEGIC else 1
        for threshold, percent in REBATES:
            terms.append(
                ("rebate", threshold, percent, 0, f"达成率 ≥{threshold}% 返进货额 {percent}%", pk)
            )  # fmt: skip
        for threshold, times in PENALTIES:
            terms.append(
                ("penalty", threshold, 0, 10_000 * scale * times, f"达成率 <{threshold}% 罚款", pk)
            )  # fmt: skip
        return pk

    kind_title = {"agent": "区域代理协议", "dealer": "经销协议"}
    for plan in plans:
        plan.discount = rng.choice([18, 20, 22, 25, 28])
        plan.previous_discount = plan.discount - rng.choice([0, 1, 2])
        title = kind_title[plan.kind]
        if plan.status == "prospect":
            starts = _add_months(today.replace(day=1), 1)
            add(plan, "draft", starts, _add_months(starts, 24) - DAY, plan.discount,
                f"{starts.year}年度{title}")  # fmt: skip
            plan.agreement_start = starts
            continue
        if rng.random() < 0.05 and plan.status == "active":
            ends = today + datetime.timedelta(days=rng.randint(6, 27))
            starts = _add_months(ends.replace(day=1), -12)
        else:
            starts = _add_months(today.replace(day=1), -rng.randint(1, 20))
            ends = _add_months(starts, 24) - DAY
        starts = max(starts, plan.joined_on.replace(day=1))
        previous = None
        if plan.joined_on < starts:
            before = max(_add_months(starts, -24), plan.joined_on.replace(day=1))
            previous = add(
                plan, "renewed", before, starts - DAY, plan.previous_discount,
                f"{before.year}–{starts.year}年度{title}",
            )  # fmt: skip
        status, reason = "active", ""
        if plan.status == "terminated":
            status, reason = (
                "terminated",
                "连续两个季度未完成最低进货额，双方协商解除合作。",
            )
        add(plan, status, starts, ends, plan.discount, f"{starts.year}年度{title}",
            previous, reason)  # fmt: skip
        plan.agreement_start = starts
    copy_rows(
        "channels_agreement",
        (
            "id", "created_at", "updated_at", "version", "number", "title", "status",
            "starts_on", "ends_on", "signed_on", "discount_percent", "annual_target",
            "terms", "expiry_notified_on", "department_id", "owner_id", "previous_id",
            "price_list_id", "partner_id", "termination_reason",
        ),
        agreements,
        total=len(agreements),
        label="agreements",
    )  # fmt: skip
    reset_sequence("channels_agreement")
    for table, column, rows in (
        ("channels_agreement_territory", "region_id", territories),
        ("channels_agreement_categories", "category_id", scopes),
    ):
        start = _next_id(table)
        copy_rows(
            table,
            ("id", "agreement_id", column),
            ((start + i, *row) for i, row in enumerate(rows)),
            total=len(rows),
            label=table.removeprefix("channels_"),
        )
        reset_sequence(table)
    start = _next_id("channels_agreementterm")
    copy_rows(
        "channels_agreementterm",
        (
            "id", "kind", "threshold_percent", "percent", "amount", "description",
            "agreement_id",
        ),
        ((start + i, *row) for i, row in enumerate(terms)),
        total=len(terms),
        label="agreement terms",
    )  # fmt: skip
    reset_sequence("channels_agreementterm")
    return len(agreements)


def _mean_line_cents(plan: Plan) -> float:
    """The expected amount of one of the partner's sell-through lines."""
    weights = sum(plan.weights) or 1
    return (
        sum(
            w * p.mean_quantity * p.cents * 0.94
            for w, p in zip(plan.weights, plan.carried, strict=True)
        )
        / weights
    )


# Flows


@dataclass
class Rows:
    """The flows' rows other than the sell-through lines (streamed to COPY)."""

    orders: list = field(default_factory=list)
    order_lines: list = field(default_factory=list)
    receipts: list = field(default_factory=list)
    receipt_lines: list = field(default_factory=list)
    reports: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    targets: list = field(default_factory=list)
    mismatches: int = 0


class Ids:
    """Explicit ids for the flow tables, from each table's next free one."""

    TABLES = (
        "channels_purchaseorder",
        "channels_purchaseorderline",
        "channels_receipt",
        "channels_receiptline",
        "channels_sellthroughreport",
        "channels_sellthroughline",
        "channels_stockcount",
        "channels_partnertarget",
    )

    def __init__(self):
        self.next = {table: _next_id(table) for table in self.TABLES}

    def take(self, table: str) -> int:
        pk = self.next[table]
        self.next[table] = pk + 1
        return pk


def _flows(world: World, plans: list[Plan], rows: Rows, ids: Ids, rng):
    """Yield every sell-through line (in partner, month order) while filling `rows`
    with the orders, receipts, reports, counts and targets that go with them."""
    months, today = world.months, world.today
    rnd, randint, uniform = rng.random, rng.randint, rng.uniform
    line_id = ids.next["channels_sellthroughline"]
    for plan in plans:
        if plan.first_month > plan.last_month:
            continue
        carried = plan.carried
        pool = _pool(world, plan, rng)
        walk_in = [f"{rng.choice(BRANDS)}{rng.choice(WALK_IN)}" for _i in range(40)]
        city_districts = world.districts.get(plan.region) or [plan.region]
        # Each product's usual monthly quantity (seasons aside): the safety stock.
        complete = range(plan.first_month, min(plan.last_month, HISTORY_MONTHS - 1) + 1)
        usual = [
            p.mean_quantity * sum(row[m] for m in complete) / max(1, len(complete))
            for p, row in zip(carried, plan.cells, strict=True)
        ]
        # Opening stock, counted at the end of the month before the first one (a
        # partner that joined inside the history starts empty and uncounted).
        stock = [0] * len(carried)
        if plan.first_month == 0:
            opening = months[0] - DAY
            for i, product in enumerate(carried):
                stock[i] = round(usual[i] * (plan.safety[i] + uniform(0.3, 0.8)))
                _count(rows, ids, plan, product, opening, stock[i])
        for m in range(plan.first_month, plan.last_month + 1):
            month = months[m]
            current = m == HISTORY_MONTHS
            last = _month_end(month)
            span = (today - month).days if current else last.day
            if span <= 0:
                break
            days = [month + datetime.timedelta(days=d) for d in range(span)]
            available = max(1, round(len(pool) * (0.35 + 0.65 * (m + 1) / len(months))))
            # Sales of the month, per product.
            sold_lines = []
            sold = [0] * len(carried)
            for i, product in enumerate(carried):
                n = plan.lines[i][m]
                if not n:
                    continue
                k = product.per_line + 1
                cents = product.cents
                for _line in range(n):
                    qty = 1 + int(rnd() * rnd() * k)
                    amount = int(cents * qty * (0.88 + 0.12 * rnd()))
                    if pool and rnd() < NAMED_BUYER_RATE:
                        customer, name, region = pool[int(rnd() * available)]
                        region = (
                            region or city_districts[int(rnd() * len(city_districts))]
                        )
                    else:
                        customer, name = None, walk_in[int(rnd() * 40)]
                        region = city_districts[int(rnd() * len(city_districts))]
                    sold_lines.append(
                        [line_id, 0, plan.id, days[int(rnd() * span)], product.id,
                         qty, amount, customer, name, region]
                    )  # fmt: skip
                    line_id += 1
                    sold[i] += qty
            # Sell-in: one order at the start of the month covers the month's sales
            # and the safety stock; received two to six days later.
            ordered_on = month + datetime.timedelta(days=randint(0, 2))
            received_on = ordered_on + datetime.timedelta(days=randint(2, 6))
            status = "received"
            if current:
                status = rng.choice(["received", "received", "received", "approved"])
                if ordered_on >= today:
                    ordered_on, status = month, "submitted"
                elif received_on >= today and status == "received":
                    status = "approved"
            wanted = []
            for i, product in enumerate(carried):
                qty = math.ceil(
                    sold[i] * uniform(1.0, 1.15) + plan.safety[i] * usual[i] - stock[i]
                )
                if qty > 0:
                    wanted.append((i, product, qty))
            if wanted:
                _order(rows, ids, plan, ordered_on, received_on, status, wanted, stock)
            if current and status != "received":
                sold_lines = _trim(sold_lines, carried, stock, sold)
            if m < HISTORY_MONTHS and rnd() < REJECTED_RATE:
                extra = rng.sample(carried, min(len(carried), randint(1, 3)))
                _order(
                    rows, ids, plan, month + datetime.timedelta(days=randint(8, 20)),
                    None, "rejected", [(-1, p, randint(5, 40)) for p in extra], stock,
                )  # fmt: skip
            for i in range(len(carried)):
                stock[i] -= sold[i]
            # The month's report, sent by the 5th of the next month (some late).
            if sold_lines:
                report_id = ids.take("channels_sellthroughreport")
                for line in sold_lines:
                    line[1] = report_id
                _report(
                    rows, plan, report_id, month, last, current, today, sold_lines, rng
                )
                for line in sold_lines:
                    line[6] = _money(line[6])
                    yield line
            _target(rows, ids, plan, m, month, last, span / last.day, rng)
            if current:
                continue
            # Month-end counts: the stock carried forward, unless shrinkage (or goods
            # not booked) shows up at the count. The last complete month (what the
            # reconciliation shows first) finds about one difference per partner.
            rate = MISMATCH_RATE
            if m == HISTORY_MONTHS - 1:
                rate = max(rate, 1 / len(carried))
            for i, product in enumerate(carried):
                if rnd() < rate:
                    if rnd() < 0.75:
                        change = -randint(1, max(1, stock[i] // 10))
                    else:
                        change = randint(1, 3)
                    if stock[i] + change >= 0:
                        stock[i] += change
                        rows.mismatches += 1
                _count(rows, ids, plan, product, last, stock[i])
    ids.next["channels_sellthroughline"] = line_id


def _pool(world: World, plan: Plan, rng) -> list:
    """The partner's named end customers: a sample of its province's customers (all
    customers when the province has none), more of them for a bigger partner."""
    lines = sum(sum(row) for row in plan.lines)
    size = max(5, min(400, lines // 25))
    candidates = world.customers.get(plan.province)
    if not candidates:
        candidates = [c for group in world.customers.values() for c in group]
    return rng.sample(candidates, min(size, len(candidates)))


def _trim(lines: list, carried: list[Product], stock: list[int], sold: list[int]):
    """Running month, order not received yet: sell only what is on hand. A line whose
    product has run out sells another carried product still in stock (so the number of
    lines holds), or is dropped when nothing is left."""
    index = {p.id: i for i, p in enumerate(carried)}
    left = list(stock)
    kept = []
    for line in lines:
        i = index[line[4]]
        if left[i] <= 0:
            i = next((j for j, n in enumerate(left) if n > 0), None)
            if i is None:
                continue
            line[4], line[6] = carried[i].id, carried[i].cents * line[5]
        qty = min(line[5], left[i])
        line[6] = line[6] * qty // line[5]
        line[5] = qty
        left[i] -= qty
        kept.append(line)
    for i in range(len(sold)):
        sold[i] = stock[i] - left[i]
    return kept


def _order(rows, ids, plan, ordered_on, received_on, status, wanted, stock) -> None:
    order_id = ids.take("channels_purchaseorder")
    received = status == "received"
    discount = (
        plan.discount
        if plan.agreement_start and ordered_on >= plan.agreement_start
        else plan.previous_discount
    )
    receipt_id = ids.take("channels_receipt") if received else None
    total = 0
    for i, product, qty in wanted:
        unit = round(product.cents * (100 - discount) / 100)
        amount = unit * qty
        total += amount
        line_id = ids.take("channels_purchaseorderline")
        rows.order_lines.append(
            (line_id, qty, _money(unit), _money(amount), qty if received else 0,
             order_id, product.id)
        )  # fmt: skip
        if received:
            rows.receipt_lines.append(
                (ids.take("channels_receiptline"), received_on, qty, _money(amount),
                 line_id, plan.id, product.id, receipt_id)
            )  # fmt: skip
            stock[i] += qty
    decided = None if status == "submitted" else _at(ordered_on, 15)
    updated = _at(received_on, 16) if received else decided or _at(ordered_on, 9)
    rows.orders.append(
        [order_id, _at(ordered_on, 9), updated, 1, "", status, ordered_on,
         ordered_on + datetime.timedelta(days=7), plan.address, "", _money(total),
         decided, REJECT_NOTE if status == "rejected" else "",
         None if status == "submitted" else plan.owner, plan.department, plan.owner,
         plan.id, plan.admin]
    )  # fmt: skip
    if received:
        stamp = _at(received_on, 16)
        rows.receipts.append(
            (receipt_id, stamp, stamp, received_on, plan.admin, order_id, plan.id)
        )


def _report(rows, plan, report_id, month, last, current, today, lines, rng) -> None:
    if current:
        reference, source = f"ST-{month:%Y%m}-W{(today.day - 2) // 7 + 1}", "api"
        period_end, sent = today - DAY, today - DAY
    else:
        reference = f"ST-{month:%Y%m}"
        source = rng.choice(["portal", "portal", "upload", "api"])
        period_end = last
        late = rng.random() < 0.12
        sent = last + datetime.timedelta(
            days=rng.randint(7, 15) if late else rng.randint(1, 5)
        )
        sent = min(sent, today - DAY)
    stamp = _at(sent, 11)
    quantity = sum(line[5] for line in lines)
    amount = sum(line[6] for line in lines)
    rows.reports.append(
        (report_id, stamp, stamp, reference, source, month, period_end, len(lines),
         quantity, _money(amount), None, plan.id, plan.admin, "")
    )  # fmt: skip


def _target(rows, ids, plan, m, month, last, share, rng) -> None:
    """The month's sell-through target: the planned sales of the whole month (`share`:
    the part of the month the plan covers), set a little high."""
    expected = sum(row[m] for row in plan.cells) / share
    cents = expected * _mean_line_cents(plan) * rng.uniform(1.0, 1.2)
    current = share < 1
    stamp = _at(month - datetime.timedelta(days=5), 10)
    rows.targets.append(
        (ids.take("channels_partnertarget"), stamp, stamp, 1, "month", month, last,
         _money(int(cents // 100_000) * 100_000), rng.randint(1, 4), "90",
         None if current else str(rng.randint(80, 99)), plan.department, plan.owner,
         plan.id)
    )  # fmt: skip


def _count(rows, ids, plan, product, day, quantity) -> None:
    stamp = _at(day + DAY, 9)
    rows.counts.append(
        (ids.take("channels_stockcount"), stamp, stamp, day, quantity, plan.id,
         product.id, plan.admin)
    )  # fmt: skip


FLOW_COLUMNS = {
    "channels_purchaseorder": (
        "id", "created_at", "updated_at", "version", "number", "status", "ordered_on",
        "wanted_on", "shipping_address", "notes", "total", "decided_at",
        "decision_note", "decided_by_id", "department_id", "owner_id", "partner_id",
        "submitted_by_id",
    ),
    "channels_purchaseorderline": (
        "id", "quantity", "unit_price", "amount", "received_quantity", "order_id",
        "product_id",
    ),
    "channels_receipt": (
        "id", "created_at", "updated_at", "received_on", "created_by_id", "order_id",
        "partner_id",
    ),
    "channels_receiptline": (
        "id", "received_on", "quantity", "amount", "order_line_id", "partner_id",
        "product_id", "receipt_id",
    ),
    "channels_sellthroughreport": (
        "id", "created_at", "updated_at", "reference", "source", "period_start",
        "period_end", "line_count", "total_quantity", "total_amount", "api_key_id",
        "partner_id", "submitted_by_id", "fingerprint",
    ),
    "channels_sellthroughline": (
        "id", "report_id", "partner_id", "sold_on", "product_id", "quantity", "amount",
        "end_customer_id", "end_customer_name", "region_id",
    ),
    "channels_stockcount": (
        "id", "created_at", "updated_at", "counted_on", "quantity", "partner_id",
        "product_id", "submitted_by_id",
    ),
    "channels_partnertarget": (
        "id", "created_at", "updated_at", "version", "period_kind", "starts_on",
        "ends_on", "sales_amount", "new_customers", "service_level",
        "service_level_actual", "department_id", "owner_id", "partner_id",
    ),
}  # fmt: skip


def _write_flows(ctx, world: World, plans: list[Plan], rng) -> Rows:
    from crm.core.numbering import SEQUENCES

    rows, ids = Rows(), Ids()
    with indexes_dropped(list(FLOW_COLUMNS)):
        copy_rows(
            "channels_sellthroughline",
            FLOW_COLUMNS["channels_sellthroughline"],
            _flows(world, plans, rows, ids, rng),
            total=ctx.scale.sellthrough_lines,
            label="sell-through lines",
        )
        # Purchase order numbers follow the order dates.
        spec = SEQUENCES["channels.purchase_order"]
        rows.orders.sort(key=lambda o: (o[6], o[16], o[0]))
        for i, order in enumerate(rows.orders, start=1):
            order[4] = f"{spec.prefix}{i:0{spec.padding}d}"
        for table, data in (
            ("channels_sellthroughreport", rows.reports),
            ("channels_purchaseorder", rows.orders),
            ("channels_purchaseorderline", rows.order_lines),
            ("channels_receipt", rows.receipts),
            ("channels_receiptline", rows.receipt_lines),
            ("channels_stockcount", rows.counts),
            ("channels_partnertarget", rows.targets),
        ):
            copy_rows(
                table,
                FLOW_COLUMNS[table],
                data,
                total=len(data),
                label=table.removeprefix("channels_"),
            )
    for table in FLOW_COLUMNS:
        reset_sequence(table)
    return rows


# Stock bounds, scores, sequences


def _write_bounds(world: World, plans: list[Plan], rng) -> int:
    """A global default, tighter bounds for a tenth of the products (machines: less
    stock; consumables: more), and a few partner-specific ones."""
    from crm.channels.models import StockBound

    bounds = [StockBound(low_days=7, high_days=90)]
    for product in rng.sample(world.products, max(1, len(world.products) // 10)):
        low, high = (5, 60) if product.cents > 1_000_000 else (10, 120)
        bounds.append(StockBound(product_id=product.id, low_days=low, high_days=high))
    for plan in rng.sample(plans, max(1, len(plans) // 50)):
        if plan.carried:
            bounds.append(
                StockBound(
                    partner_id=plan.id,
                    product_id=plan.carried[0].id,
                    low_days=14,
                    high_days=45,
                )
            )
    StockBound.objects.bulk_create(bounds)
    return len(bounds)


def _score_quarters(world: World) -> int:
    """The last SCORED_QUARTERS complete quarters, scored by the scores service and
    closed (as HQ does at each quarter's end)."""
    from crm.channels.models import PartnerScore, ScorePeriod
    from crm.channels.selectors.scores import period_end, period_name
    from crm.channels.services.scores import score_partners

    today = world.today
    quarter = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    closer = _fetch(
        "SELECT id FROM org_user WHERE is_superuser ORDER BY id LIMIT 1"
    ) or [(None,)]
    made = 0
    for back in range(SCORED_QUARTERS, 0, -1):
        starts = _add_months(quarter, -3 * back)
        if starts < world.months[0]:
            continue
        if ScorePeriod.objects.filter(kind="quarter", starts_on=starts).exists():
            continue
        started = time.monotonic()
        ends = period_end("quarter", starts)
        period = ScorePeriod.objects.create(
            name=period_name("quarter", starts),
            kind="quarter",
            starts_on=starts,
            ends_on=ends,
        )
        scores = score_partners(period)
        PartnerScore.objects.bulk_create(scores, batch_size=500)
        closed = _at(ends + datetime.timedelta(days=10), 17)
        ScorePeriod.objects.filter(pk=period.pk).update(
            status=ScorePeriod.Status.CLOSED,
            computed_at=closed,
            closed_at=closed,
            closed_by_id=closer[0][0],
            created_at=_at(ends + DAY, 9),
            updated_at=closed,
        )
        print(
            f"  scores {period.name}: {len(scores)} partners "
            f"({time.monotonic() - started:.0f}s)",
            flush=True,
        )
        made += 1
    return made


def _advance_sequences(counts: dict[str, int]) -> None:
    """Numbers issued by the app from now on follow the generated ones."""
    from crm.core.numbering import SEQUENCES

    for key, issued in counts.items():
        spec = SEQUENCES[key]
        execute(
            """
            INSERT INTO core_sequence (key, prefix, padding, next_value)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (key) DO UPDATE
            SET next_value = GREATEST(core_sequence.next_value, EXCLUDED.next_value)
            """,
            [key, spec.prefix, spec.padding, issued + 1],
        )


def generate(ctx) -> None:
    rng = random.Random(ctx.rng.getrandbits(64))
    fake = Faker("zh_CN")
    fake.seed_instance(rng.getrandbits(32))
    world = _world(ctx, rng)
    tiers = _tiers()
    plans = _plan_partners(world, rng)
    _plan_flows(ctx, world, plans, rng)
    inside = sum(1 for p in plans if p.province in world.inside_prefixes)
    print(
        f"  {len(plans)} partners ({inside} in the bench manager's tree), "
        f"{len(world.products)} products carried, "
        f"{sum(len(p.carried) for p in plans):,} partner × product pairs",
        flush=True,
    )
    _write_partners(world, plans, tiers, rng, fake)
    _write_portal_users(plans, rng, fake)
    agreements = _write_agreements(world, plans, rng)
    rows = _write_flows(ctx, world, plans, rng)
    bounds = _write_bounds(world, plans, rng)
    execute(
        "ANALYZE channels_partner, channels_sellthroughline, channels_sellthroughreport,"
        " channels_receiptline, channels_stockcount, channels_partnertarget,"
        " channels_agreement"
    )
    periods = _score_quarters(world)
    _advance_sequences(
        {
            "channels.partner": len(plans),
            "channels.agreement": agreements,
            "channels.purchase_order": len(rows.orders),
        }
    )
    print(
        f"  {agreements:,} agreements, {len(rows.orders):,} purchase orders "
        f"({len(rows.order_lines):,} lines), {len(rows.receipts):,} receipts, "
        f"{len(rows.reports):,} sell-through reports, {len(rows.counts):,} stock counts "
        f"({rows.mismatches:,} off), {len(rows.targets):,} targets, {bounds} stock "
        f"bounds, {periods} closed score periods",
        flush=True,
    )
