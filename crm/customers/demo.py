"""Demo customers (C1, C2): about 2,000 customers with one to three contacts each, groups
with branch subsidiaries, spread over real provinces, cities and districts and over the
org demo's sales staff. Also grants the demo roles their customer permissions.

Idempotent: the whole set is planned from fixed seeds first, then only customers whose
name is not there yet are created (with their contacts); running it again adds nothing.
"""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.utils import timezone
from faker import Faker

from crm.core.numbering import next_number
from crm.core.validators import USCC_ALPHABET, uscc_check_character
from crm.customers.models import Contact, Customer, Region
from crm.customers.naming import name_initials, name_key
from crm.org.models import Role, User

BASE_CUSTOMERS = 1820  # plus about 180 branch subsidiaries of 45 groups: ~2,000
GROUPS = 45
SEED = 2026

VIEW = ("customers.view_customer", "customers.view_contact")
EDIT = (
    *VIEW,
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
)
ROLE_PERMISSIONS = {
    "销售代表": EDIT,
    "销售经理": (
        *EDIT,
        "customers.delete_contact",
        "core.merge_records",
        "core.export_data",
    ),
    "销售总监": (
        *EDIT,
        "customers.delete_contact",
        "core.merge_records",
        "core.export_data",
    ),
    "系统管理员": (
        "customers.*",
        "core.delete_records",
        "core.merge_records",
        "core.export_data",
    ),
    "总经理": VIEW,
    "客服专员": VIEW,
    "渠道经理": VIEW,
}
SALES_ROLES = ("销售代表", "销售经理")

# Where a sales office's customers mostly are: department name → region code prefix.
OFFICE_REGIONS = {
    "浦东": "310115",
    "闵行": "310112",
    "上海": "3101",
    "宁波": "3302",
    "杭州": "3301",
    "南京": "3201",
    "华东": "3",
    "佛山": "4406",
    "广州": "4401",
    "深圳": "4403",
    "华南": "44",
    "天津": "1201",
    "北京": "1101",
    "济南": "3701",
    "华北": "1",
    "重庆": "5001",
    "成都": "5101",
    "西南": "5",
}
AREA_CODES = {
    "1101": "010",
    "1201": "022",
    "3101": "021",
    "5001": "023",
    "4401": "020",
    "4403": "0755",
    "4406": "0757",
    "3301": "0571",
    "3302": "0574",
    "3201": "025",
    "3701": "0531",
    "5101": "028",
    "3205": "0512",
    "4201": "027",
    "6101": "029",
}
WEIGHTS = {
    "industry": [
        (Customer.Industry.MANUFACTURING, 30),
        (Customer.Industry.TRADE, 14),
        (Customer.Industry.CONSTRUCTION, 9),
        (Customer.Industry.IT, 9),
        (Customer.Industry.LOGISTICS, 6),
        (Customer.Industry.UTILITIES, 5),
        (Customer.Industry.MINING, 3),
        (Customer.Industry.HEALTH, 4),
        (Customer.Industry.EDUCATION, 3),
        (Customer.Industry.REAL_ESTATE, 3),
        (Customer.Industry.BUSINESS_SERVICES, 4),
        (Customer.Industry.RESEARCH, 3),
        (Customer.Industry.AGRICULTURE, 2),
        (Customer.Industry.PUBLIC, 2),
        (Customer.Industry.OTHER, 3),
    ],
    "level": [("a", 10), ("b", 25), ("c", 45), ("d", 20)],
    "type": [
        (Customer.Type.END_USER, 70),
        (Customer.Type.DEALER, 12),
        (Customer.Type.AGENT, 8),
        (Customer.Type.PARTNER, 4),
        (Customer.Type.GOVERNMENT, 4),
        (Customer.Type.OTHER, 2),
    ],
    "status": [
        (Customer.Status.PROSPECT, 25),
        (Customer.Status.INTENTION, 20),
        (Customer.Status.ACTIVE, 40),
        (Customer.Status.DORMANT, 10),
        (Customer.Status.LOST, 5),
    ],
    "credit_rating": [
        ("AAA", 6),
        ("AA", 14),
        ("A", 25),
        ("BBB", 20),
        ("BB", 10),
        ("B", 5),
        ("C", 2),
        ("", 18),
    ],
}
POSITIONS = [
    ("总经办", "总经理"),
    ("采购部", "采购经理"),
    ("采购部", "采购专员"),
    ("技术部", "技术总监"),
    ("设备部", "设备主管"),
    ("工程部", "项目经理"),
    ("财务部", "财务经理"),
    ("生产部", "生产厂长"),
    ("信息部", "IT经理"),
]
# Business words per industry, so that a name says what the company does.
TRADES = {
    Customer.Industry.MANUFACTURING: [
        "机械",
        "精密机械",
        "电子",
        "自动化",
        "智能装备",
        "电气",
        "新材料",
        "模具",
        "汽车零部件",
        "包装",
        "化工",
        "塑胶",
        "五金",
        "仪器仪表",
        "光电",
    ],
    Customer.Industry.TRADE: ["商贸", "贸易", "供应链", "进出口", "实业", "百货"],
    Customer.Industry.CONSTRUCTION: ["建设工程", "建筑安装", "市政工程", "装饰工程"],
    Customer.Industry.IT: ["软件", "信息技术", "网络科技", "数据科技", "智能科技"],
    Customer.Industry.LOGISTICS: ["物流", "运输", "仓储", "快运"],
    Customer.Industry.UTILITIES: ["能源", "电力", "燃气", "水务", "热力"],
    Customer.Industry.MINING: ["矿业", "煤业", "石材"],
    Customer.Industry.HEALTH: ["医疗器械", "医药", "健康科技"],
    Customer.Industry.EDUCATION: ["教育科技", "职业培训"],
    Customer.Industry.REAL_ESTATE: ["置业", "房地产开发", "物业管理"],
    Customer.Industry.BUSINESS_SERVICES: ["企业管理咨询", "人力资源", "租赁"],
    Customer.Industry.RESEARCH: ["检测技术", "研究院", "技术服务"],
    Customer.Industry.AGRICULTURE: ["农业科技", "生态农业", "食品"],
    Customer.Industry.PUBLIC: ["城市建设投资", "公用事业"],
    Customer.Industry.OTHER: ["实业", "科技"],
}
LEGAL_FORMS = [
    "有限公司",
    "有限公司",
    "有限公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
]
DELIBERATE_DUPLICATES = 25  # same company under a second name, for the duplicates page
HOBBIES = [
    "羽毛球",
    "钓鱼",
    "茶道",
    "书法",
    "跑步",
    "高尔夫",
    "摄影",
    "登山",
    "象棋",
    "",
]


def _pick(rng, key):
    values, weights = zip(*WEIGHTS[key], strict=True)
    return rng.choices(values, weights=weights)[0]


def _grant_permissions() -> None:
    for role_name, patterns in ROLE_PERMISSIONS.items():
        role = Role.objects.filter(name=role_name).first()
        if role is None:
            continue
        for pattern in patterns:
            app, code = pattern.split(".", 1)
            perms = Permission.objects.filter(content_type__app_label=app)
            if code != "*":
                perms = perms.filter(codename=code)
            role.permissions.add(*perms)


def _office_prefix(user) -> str:
    department = user.department if user else None
    while department is not None:
        for key, prefix in OFFICE_REGIONS.items():
            if key in department.name:
                return prefix
        department = department.parent
    return ""


def _credit_code(rng, district_code: str, taken: set) -> str:
    while True:
        body = (
            "91" + district_code + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        )
        code = body + uscc_check_character(body)
        if code not in taken:
            taken.add(code)
            return code


def _landline(rng, code: str) -> str:
    area = AREA_CODES.get(code[:4], f"0{rng.randint(350, 939)}")
    digits = 8 if len(area) == 3 else rng.choice((7, 8))
    return (
        f"{area}-{rng.randint(2, 8)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
    )


def _mobile(rng) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _plan(fake, rng, owners, districts) -> list[dict]:
    """Every demo customer as plain values, the same on every run."""
    now = timezone.now()
    by_prefix: dict[str, list[Region]] = {}
    names: set[str] = set()
    credit_codes: set[str] = set()
    plan = []

    def region_for(owner):
        prefix = _office_prefix(owner)
        if prefix and rng.random() < 0.7:
            if prefix not in by_prefix:
                by_prefix[prefix] = [d for d in districts if d.code.startswith(prefix)]
            if by_prefix[prefix]:
                return rng.choice(by_prefix[prefix])
        return rng.choice(districts)

    def customer(name, owner, region, industry, parent_index=None):
        days = rng.randint(0, 3 * 365)
        registered = now - datetime.timedelta(days=days, minutes=rng.randint(0, 1440))
        initials = name_initials(name)
        limit = rng.choice([0, 0, 50, 100, 200, 300, 500, 800, 1000, 2000, 5000])
        phone = _landline(rng, region.code)
        return {
            "name": name,
            "owner": owner,
            "region": region,
            "parent_index": parent_index,
            "registered_at": registered,
            "fields": {
                "mnemonic": initials,
                "name_initials": initials,
                "name_key": name_key(name),
                "credit_code": _credit_code(rng, region.code, credit_codes)
                if rng.random() < 0.6
                else "",
                "address": f"{fake.street_name()}{rng.randint(1, 999)}号",
                "main_phone": phone,
                "postcode": f"{region.code[:2]}{rng.randrange(10**4):04d}",
                "email": f"info@{initials.lower()[:12] or 'corp'}.com.cn",
                "homepage": f"https://www.{initials.lower()[:12] or 'corp'}.com.cn",
                "industry": industry,
                "level": _pick(rng, "level"),
                "type": _pick(rng, "type"),
                "status": _pick(rng, "status"),
                "credit_rating": _pick(rng, "credit_rating"),
                "credit_limit": Decimal(limit * 1000),
                "finance_phone": _landline(rng, region.code)
                if rng.random() < 0.4
                else "",
                "notes": rng.choice(
                    ["", "", "", "年度框架协议客户", "需定期回访", "对价格敏感"]
                ),
            },
            "contacts": [
                _contact(fake, rng, phone, first=(i == 0))
                for i in range(rng.choice((1, 1, 2, 2, 3)))
            ],
        }

    keys: set[str] = set()
    duplicates = 0
    while len(plan) < BASE_CUSTOMERS:
        owner = rng.choice(owners) if owners else None
        region = region_for(owner)
        city = region.parent
        place = ""
        if city and city.name.endswith("市") and rng.random() < 0.4:
            place = city.name.removesuffix("市")
        industry = _pick(rng, "industry")
        name = (
            f"{place}{fake.company_prefix()}{rng.choice(TRADES[industry])}"
            f"{rng.choice(LEGAL_FORMS)}"
        )
        key = name_key(name)
        if name in names:
            continue
        if key in keys:
            if duplicates >= DELIBERATE_DUPLICATES:
                continue
            duplicates += 1
        names.add(name)
        keys.add(key)
        plan.append(customer(name, owner, region, industry))

    group_indexes = rng.sample(range(len(plan)), GROUPS)
    for index in group_indexes:
        group = plan[index]
        cities = rng.sample(districts, 6)
        for district in cities[: rng.randint(2, 6)]:
            place = district.parent.name
            if "行政区划" in place:  # a county-level city directly under the province
                place = district.name
            name = f"{group['name']}{place.removesuffix('市')}分公司"
            if name in names:
                continue
            names.add(name)
            owner = rng.choice(owners) if owners else None
            plan.append(
                customer(name, owner, district, group["fields"]["industry"], index)
            )
    return plan


def _contact(fake, rng, main_phone: str, first: bool) -> dict:
    gender = rng.choice((Contact.Gender.MALE, Contact.Gender.FEMALE))
    name = fake.name_male() if gender == Contact.Gender.MALE else fake.name_female()
    department, position = rng.choice(POSITIONS)
    birthday = None
    if rng.random() < 0.7:
        birthday = datetime.date(
            rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28)
        )
    return {
        "name": name,
        "gender": gender,
        "age": (timezone.localdate().year - birthday.year) if birthday else None,
        "department_name": department,
        "position": position,
        "mobile": _mobile(rng),
        "office_phone": f"{main_phone}-{rng.randint(100, 899)}"
        if rng.random() < 0.6
        else "",
        "email": f"{name_initials(name).lower()}{rng.randint(1, 99)}@example.cn",
        "birthday": birthday,
        "hobbies": rng.choice(HOBBIES),
        "is_primary": first,
    }


def load() -> str:
    _grant_permissions()
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    rng = random.Random(SEED)
    owners = list(
        User.objects.filter(groups__name__in=SALES_ROLES, is_active=True)
        .select_related("department__parent__parent")
        .distinct()
        .order_by("username")
    )
    districts = list(
        Region.objects.filter(level=Region.Level.DISTRICT)
        .select_related("parent")
        .order_by("code")
    )
    if not districts:
        return "no regions loaded"
    plan = _plan(fake, rng, owners, districts)
    existing = dict(
        Customer.objects.filter(name__in=[p["name"] for p in plan]).values_list(
            "name", "pk"
        )
    )
    new = [p for p in plan if p["name"] not in existing]
    customers = []
    for item in new:
        owner = item["owner"]
        customers.append(
            Customer(
                number=next_number("customers.customer"),
                name=item["name"],
                owner=owner,
                department=owner.department if owner else None,
                region=item["region"],
                registered_at=item["registered_at"],
                **item["fields"],
            )
        )
    Customer.objects.bulk_create(customers, batch_size=500)
    # Spread the creation dates like the registration times (for charts of new customers).
    for customer, item in zip(customers, new, strict=True):
        customer.created_at = item["registered_at"]
    Customer.objects.bulk_update(customers, ["created_at"], batch_size=500)

    pk_by_name = {**existing, **{c.name: c.pk for c in customers}}
    children = []
    for item, customer in zip(new, customers, strict=True):
        if item["parent_index"] is not None:
            customer.parent_id = pk_by_name[plan[item["parent_index"]]["name"]]
            children.append(customer)
    Customer.objects.bulk_update(children, ["parent"], batch_size=500)

    contacts = [
        Contact(customer=customer, responsible=customer.owner, **values)
        for item, customer in zip(new, customers, strict=True)
        for values in item["contacts"]
    ]
    Contact.objects.bulk_create(contacts, batch_size=1000)
    from crm.customers import demo_care  # follow-ups and the public pool (C6, C8)

    return (
        f"{Customer.objects.count()} customers, {Contact.objects.count()} contacts, "
        f"{Region.objects.count()} regions, {demo_care.load()}"
    )
