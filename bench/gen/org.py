"""Generator step 1 (X6): the organisation, the roles, the catalogue and the benchmark login.

A group HQ (集团总部) with its sales, channel and finance departments, seven regional sales
companies (华东 … 西北), one branch (分公司) per province under them and sales teams
(销售一部 …) under each branch; about one sales rep per 2,500 customers (at least 20),
a manager per branch and a head per regional company, and channel managers in the
regional companies. The benchmark login (bench.conf.USERNAME) heads 华东, which holds
about a fifth of the reps and so of the data.

Roles are the demo's (crm/org/demo.py plus the customer permissions of
crm/customers/demo.py and demo_care.py), and one more for the login: 区域总经理, whose
data scope is its department tree and whose permissions open every page the benchmark
drives. The catalogue is the demo's (crm/products/demo.py, about 200 products).
Everything here is a few hundred rows: written through the ORM.
"""

import math
import random
from bisect import bisect_right
from itertools import accumulate

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from faker.providers.person.zh_CN import Provider as PersonNames

from bench import conf
from crm.core.models import Sequence
from crm.core.scopes import DOMAINS, DataScope
from crm.core.trees import tree_place
from crm.customers import demo as customers_demo
from crm.customers import demo_care
from crm.customers.models import Region
from crm.org import demo as org_demo
from crm.org.models import Department, Role, User
from crm.products import demo as products_demo
from crm.products.models import Product

K = Department.Kind
BENCH_ROLE = "区域总经理"
TEAM_SIZE = 6  # reps per sales team
REPS_PER_CUSTOMERS = 2_500
MIN_REPS = 20
# Regional company: (name, share of the reps and so of the customers, provinces)
REGIONS = [
    ("华东销售有限公司", 20, ("310000", "320000", "330000", "340000")),
    (
        "华北销售有限公司",
        18,
        ("110000", "120000", "130000", "140000", "150000", "370000"),
    ),
    ("华南销售有限公司", 18, ("440000", "450000", "460000", "350000")),
    ("华中销售有限公司", 16, ("410000", "420000", "430000", "360000")),
    ("西南销售有限公司", 14, ("500000", "510000", "520000", "530000", "540000")),
    ("东北销售有限公司", 7, ("210000", "220000", "230000")),
    ("西北销售有限公司", 7, ("610000", "620000", "630000", "640000", "650000")),
]
BENCH_REGION = "华东销售有限公司"
# Rough economic weight of each province within its region (where the reps sit).
PROVINCE_WEIGHTS = {
    "310000": 8,
    "320000": 20,
    "330000": 14,
    "340000": 8,
    "110000": 8,
    "120000": 3,
    "130000": 7,
    "140000": 4,
    "150000": 3,
    "370000": 15,
    "440000": 22,
    "450000": 5,
    "460000": 1.5,
    "350000": 9,
    "410000": 10,
    "420000": 9,
    "430000": 8,
    "360000": 5,
    "500000": 5,
    "510000": 10,
    "520000": 3.5,
    "530000": 4,
    "540000": 0.4,
    "210000": 5,
    "220000": 2.5,
    "230000": 3,
    "610000": 5,
    "620000": 2,
    "630000": 0.6,
    "640000": 0.8,
    "650000": 3,
}
HQ_DEPARTMENTS = ("销售管理部", "渠道管理部", "财务部", "信息技术部")
TEAM_NAMES = "一二三四五六七八九十"
PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _share(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """`total` split by `weights` (largest remainder), each part at least `minimum`."""
    parts = [minimum] * len(weights)
    rest = total - minimum * len(weights)
    whole = sum(weights)
    exact = [rest * w / whole for w in weights]
    for i, value in enumerate(exact):
        parts[i] += int(value)
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: exact[i] - int(exact[i]))
    for i in reversed(order[-left:] if left else []):
        parts[i] += 1
    return parts


def province_short(name: str) -> str:
    """广西壮族自治区 → 广西, 江苏省 → 江苏, 上海市 → 上海."""
    for suffix in PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


class People:
    """Chinese personal names from the material the demo's Faker uses (zh_CN)."""

    def __init__(self, rng: random.Random):
        self.random = rng.random
        self.surnames = list(PersonNames.last_names)
        self.surname_cum = list(accumulate(PersonNames.last_names.values()))
        self.male = PersonNames.first_names_male
        self.female = PersonNames.first_names_female

    def name(self) -> tuple[str, bool]:
        """A name and whether it is a woman's."""
        surname, given, female = self.parts()
        return surname + given, female

    def parts(self) -> tuple[str, str, bool]:
        """Surname (by frequency), one or two given characters, and whether it is a
        woman's name."""
        random_ = self.random
        female = random_() < 0.5
        chars = self.female if female else self.male
        given = chars[int(random_() * len(chars))]
        if len(given) == 1 and random_() < 0.55:
            given = chars[int(random_() * len(chars))][0] + given
        surname = self.surnames[
            bisect_right(self.surname_cum, random_() * self.surname_cum[-1])
        ]
        return surname, given, female


def _perms(patterns) -> list[Permission]:
    return org_demo._perms(*patterns)  # the demo roles' own pattern reader


def _roles() -> dict[str, Role]:
    """The demo roles the benchmark organisation uses, and the benchmark login's role."""
    wanted = (
        "系统管理员",
        "销售总监",
        "销售经理",
        "销售代表",
        "渠道经理",
        "财务专员",
        "产品经理",
    )
    roles = {}
    for name in wanted:
        description, scopes, patterns, rights = org_demo.ROLES[name]
        role = Role.objects.create(
            name=name, description=description, data_scopes=scopes, field_rights=rights
        )
        perms = _perms(patterns)
        perms += _customer_perms(name)
        role.permissions.set(perms)
        roles[name] = role
    _description, _scopes, patterns, _rights = org_demo.ROLES["销售经理"]
    role = Role.objects.create(
        name=BENCH_ROLE,
        description="区域总经理：本区域公司及下属分公司的客户、销售与渠道",
        data_scopes={
            domain: DataScope.ALL if domain == "products" else DataScope.DEPARTMENT_TREE
            for domain in DOMAINS
        },
    )
    role.permissions.set(
        {
            *_perms(patterns),
            *_customer_perms("销售经理"),
            *_perms(("customers.view_*", "channels.view_*", "core.merge_records")),
        }
    )
    roles[BENCH_ROLE] = role
    return roles


def _customer_perms(role_name: str) -> list[Permission]:
    """What crm/customers/demo.py and demo_care.py grant the demo role of this name."""
    perms = _perms(customers_demo.ROLE_PERMISSIONS.get(role_name, ()))
    codes = demo_care.ROLE_PERMISSIONS.get(role_name, ())
    if codes:
        perms += Permission.objects.filter(
            content_type__app_label="customers", codename__in=codes
        )
    return perms


def _department(name: str, kind: str, parent: Department | None, order: int = 0):
    dept = Department.objects.create(
        name=name, kind=kind, parent=parent, sort_order=order
    )
    tree_place(dept)
    return dept


def generate(ctx) -> None:
    rng = ctx.rng
    people = People(random.Random(rng.random()))
    scale = ctx.scale.customers
    provinces = {r.code: r for r in Region.objects.filter(level=Region.Level.PROVINCE)}
    districts_by_province: dict[str, list[int]] = {}
    for pk, path in Region.objects.filter(level=Region.Level.DISTRICT).values_list(
        "pk", "path"
    ):
        districts_by_province.setdefault(path.split("/")[1], []).append(pk)

    roles = _roles()
    password = make_password(conf.PASSWORD)  # one real hash, shared by every account
    users: list[tuple[User, Role]] = []

    def employee(username, dept, position, role, supervisor=None, name=None):
        user = User(
            username=username,
            name=name or people.name()[0],
            department=dept,
            position=position,
            supervisor=supervisor,
            password=password,
            email=f"{username}@huaxia-bench.cn",
            mobile=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            employee_no=f"E{len(users) + 1:04d}",
        )
        user.save()
        users.append((user, roles[role]))
        return user

    root = _department("华夏智造集团总部", K.HQ, None)
    hq = {
        name: _department(name, K.OTHER, root, i)
        for i, name in enumerate(HQ_DEPARTMENTS)
    }
    admin = employee("bench_admin", hq["信息技术部"], "系统管理员", "系统管理员")
    admin.is_superuser = admin.is_staff = True
    admin.save(update_fields=["is_superuser", "is_staff"])
    director = employee("bench_director", hq["销售管理部"], "销售总监", "销售总监")
    employee("bench_finance", hq["财务部"], "财务专员", "财务专员", director)
    # The catalogue's owner (crm/products/demo.py looks it up by this username).
    employee("product", hq["销售管理部"], "产品经理", "产品经理", director)

    total_reps = max(MIN_REPS, scale // REPS_PER_CUSTOMERS)
    region_reps = _share(total_reps, [share for _n, share, _p in REGIONS], minimum=1)
    channel_count = 10 if scale < 100_000 else 15
    region_channel = _share(
        channel_count, [share for _n, share, _p in REGIONS], minimum=1
    )
    departments_districts: dict[int, list[int]] = {}
    reps: list[tuple[int, int]] = []
    channel_managers: list[tuple[int, int]] = []
    manager = None
    for index, (company_name, _share_pct, codes) in enumerate(REGIONS):
        company = _department(company_name, K.SUBSIDIARY, root, index)
        if company_name == BENCH_REGION:
            head = employee(
                conf.USERNAME, company, "区域总经理", BENCH_ROLE, director, "周建华"
            )
            manager = (head.pk, company.pk)
        else:
            head = employee(
                f"gm{index + 1:02d}", company, "区域总经理", BENCH_ROLE, director
            )
        for c in range(region_channel[index]):
            user = employee(
                f"channel{index + 1}_{c + 1}", company, "渠道经理", "渠道经理", head
            )
            channel_managers.append((user.pk, company.pk))
        company_districts = []
        counts = _share(region_reps[index], [PROVINCE_WEIGHTS[c] for c in codes])
        for order, (code, count) in enumerate(zip(codes, counts, strict=True)):
            province = provinces[code]
            branch = _department(
                f"{province_short(province.name)}分公司", K.BRANCH, company, order
            )
            branch_districts = districts_by_province.get(code, [])
            departments_districts[branch.pk] = branch_districts
            company_districts += branch_districts
            boss = employee(
                f"mgr{branch.pk:03d}", branch, "分公司经理", "销售经理", head
            )
            teams = [
                _department(f"销售{TEAM_NAMES[t]}部", K.OTHER, branch, t)
                for t in range(math.ceil(count / TEAM_SIZE))
            ]
            for r in range(count):
                team = teams[r % len(teams)]
                departments_districts[team.pk] = branch_districts
                user = employee(
                    f"rep{len(reps) + 1:04d}", team, "销售代表", "销售代表", boss
                )
                reps.append((user.pk, team.pk))
        departments_districts[company.pk] = company_districts

    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=role.pk) for u, role in users]
    )
    Sequence.objects.update_or_create(
        key="org.employee",
        defaults={"prefix": "E", "padding": 4, "next_value": len(users) + 1},
    )
    products_demo.load()

    ctx.departments = list(Department.objects.values_list("pk", flat=True))
    ctx.reps = reps
    ctx.channel_managers = channel_managers
    ctx.manager = manager
    ctx.department_districts = departments_districts
    ctx.districts = sorted(
        pk
        for code, ids in districts_by_province.items()
        if code in PROVINCE_WEIGHTS
        for pk in ids
    )
    ctx.products = list(
        Product.objects.filter(status=Product.Status.ACTIVE, list_price__gt=0)
        .order_by("pk")
        .values_list("pk", "list_price")
    )
    print(
        f"  {len(ctx.departments)} departments, {len(users)} employees "
        f"({len(reps)} reps, {len(channel_managers)} channel managers), "
        f"{len(roles)} roles, {len(ctx.products)} products",
        flush=True,
    )
