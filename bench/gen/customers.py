"""Generator step 2 (X6): N customers (ids 1..N, numbers KH000001…) and two contacts each.

Each customer belongs to a sales rep (ctx.reps) and sits in a district of the rep's
province. Its name is built like a real company's: place (the city or province, or
none) + a two-character trade name (字号) + a trade word of its industry + a legal form
(苏州宏达精密机械有限公司); some are groups with branch subsidiaries
(…集团有限公司杭州分公司, parent set). Registration times grow with the id over the last
eight years, so customer numbers are in registration order and `customers_registered_by`
tells the sales step who existed on a given day.

The derived name columns are the app's (crm/customers/naming.py, crm/core/pinyin.py):
- name_initials and mnemonic: pypinyin's own segmentation of the name, then its
  converter for each segment, memoised per segment (the converter is what is slow);
- name_key: the same steps as naming.name_key, with the place-name prefix found by set
  lookups per length instead of a scan of 700 names;
both are checked against the app's functions on a sample of names, so a change there
fails the generator loudly instead of leaving wrong search columns.
"""

import datetime
import random
from bisect import bisect_right
from itertools import accumulate

from faker import Faker
from faker.providers.company.zh_CN import Provider as CompanyNames
from pypinyin import Style, lazy_pinyin
from pypinyin.core import _default_pinyin
from pypinyin.seg.simpleseg import seg as pinyin_seg

from bench.copy import NULL, CopyWriter, indexes_dropped, model_tail, reset_sequence
from bench.gen.org import People, province_short
from crm.core.models import Sequence
from crm.core.pinyin import pinyin_initials
from crm.core.validators import USCC_ALPHABET, uscc_check_character
from crm.customers import demo as customers_demo
from crm.customers import naming
from crm.customers.models import Contact, Customer, Region

TZ = datetime.timezone(datetime.timedelta(hours=8))  # Asia/Shanghai, no DST since 1991
REGISTRATION_YEARS = 8
GROUP_SHARE = 0.004  # customers that are groups with 2–4 branch subsidiaries
CHECK_EVERY = 997  # one name in so many is checked against the app's own functions
BRAND_CHARS = (
    "宏华德鑫瑞恒盛信达通泰兴隆丰源新金联创博远锦天海明中美嘉安康宇正诚益佳旭凯永昌和汇"
    "利群贵荣祥福润广元亿晶星光辉腾飞翔峰力鼎豪东方远航科百尚优卓越精品"
)
MUNICIPALITY_AREA_CODES = {"110000": "010", "120000": "022", "310000": "021"}
STATUS_WEIGHTS_NEW = [("prospect", 45), ("intention", 35), ("active", 20)]
BUYING = {"active", "dormant", "lost"}
CREDIT_LIMITS = {  # per level: (share with a limit, limits in yuan)
    "a": (0.8, (5_000_000, 8_000_000, 10_000_000, 20_000_000)),
    "b": (0.7, (2_000_000, 3_000_000, 5_000_000)),
    "c": (0.6, (500_000, 800_000, 1_000_000, 2_000_000)),
    "d": (0.5, (200_000, 300_000, 500_000)),
}
NOTES = ("", "", "", "", "", "", "年度框架协议客户", "需定期回访", "对价格敏感")
CUSTOMER_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "owner_id",
    "department_id",
    "number",
    "mnemonic",
    "name",
    "name_initials",
    "name_key",
    "credit_code",
    "address",
    "main_phone",
    "postcode",
    "email",
    "region_id",
    "industry",
    "level",
    "type",
    "status",
    "credit_rating",
    "credit_limit",
    "parent_id",
    "finance_phone",
    "homepage",
    "notes",
    "registered_at",
)
CONTACT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "customer_id",
    "name",
    "gender",
    "age",
    "department_name",
    "position",
    "office_phone",
    "mobile",
    "email",
    "birthday",
    "hobbies",
    "responsible_id",
    "is_primary",
)


# The app's derived name columns, fast


class NameColumns:
    """name_initials (= the generated mnemonic) and name_key exactly as the app derives
    them (crm.customers.naming), at a few microseconds per name."""

    def __init__(self):
        self._segments: dict[str, str] = {}
        self._places = frozenset(naming.place_names())
        self._place_lengths = sorted({len(p) for p in self._places}, reverse=True)

    def initials(self, name: str) -> str:
        """pinyin_initials(name): lazy_pinyin is seg() then the converter per segment;
        the converter's output per segment is memoised."""
        out = []
        for segment in pinyin_seg(name):
            letters = self._segments.get(segment)
            if letters is None:
                converted = _default_pinyin._converter.convert(
                    segment, Style.FIRST_LETTER, False, "default", strict=True
                )
                letters = "".join(
                    ch
                    for item in converted
                    for part in item
                    for ch in part
                    if ch.isascii() and ch.isalnum()
                ).upper()
                self._segments[segment] = letters
            out.append(letters)
        return "".join(out)[:64]

    def key(self, name: str) -> str:
        """naming.name_key(name); the longest place-name prefix that leaves at least
        MIN_REMAINDER characters is what its longest-first scan strips."""
        key = naming.BRACKETS.sub("", (name or "").strip().lower())
        key = naming.NOISE.sub("", key)
        stripped = True
        while stripped:
            stripped = False
            for form in naming.LEGAL_FORMS:
                if key.endswith(form) and len(key) > len(form):
                    key, stripped = key[: -len(form)], True
                    break
        stripped = True
        while stripped:
            stripped = False
            for length in self._place_lengths:
                if (
                    len(key) - length >= naming.MIN_REMAINDER
                    and key[:length] in self._places
                ):
                    key, stripped = key[length:], True
                    break
        return key[:200]

    def check(self, name: str, initials: str, key: str) -> None:
        expected = (pinyin_initials(name, max_length=64), naming.name_key(name))
        if (initials, key) != expected:
            raise AssertionError(
                f"derived name columns of {name!r} differ from the app's: "
                f"{(initials, key)} != {expected}"
            )


# Registration schedule, shared with the sales step


def registration_start(ctx) -> datetime.date:
    return ctx.today - datetime.timedelta(days=365 * REGISTRATION_YEARS)


def registration_day(ctx, customer_id: int, fraction: float) -> int:
    """Days after registration_start on which customer `customer_id` registered."""
    span = 365 * REGISTRATION_YEARS
    return int(span * (customer_id - 1 + fraction) / ctx.scale.customers)


def customers_registered_by(ctx, day: datetime.date) -> int:
    """How many customers (ids 1..k) had registered on or before `day`."""
    span, n = 365 * REGISTRATION_YEARS, ctx.scale.customers
    days = (day - registration_start(ctx)).days
    k = -(-(days + 1) * n // span) - 1  # ids below (days + 1)·n/span registered by then
    return max(0, min(n, k))


# Material


def _weights(pairs):
    values, weights = zip(*pairs, strict=True)
    return list(values), list(accumulate(weights))


class Material:
    """Everything a customer row is drawn from, prepared once."""

    def __init__(self, ctx, rng: random.Random):
        self.rng = rng
        fake = Faker("zh_CN")
        fake.seed_instance(rng.random())
        self.streets = sorted({fake.street_name() for _ in range(600)})
        chars = list(dict.fromkeys(BRAND_CHARS))
        self.brands = [a + b for a in chars for b in chars if a != b]
        self.brands += [p for p in CompanyNames.company_prefixes if len(p) == 2]
        self.industries, self.industry_cum = _weights(
            customers_demo.WEIGHTS["industry"]
        )
        self.trades = {k: list(v) for k, v in customers_demo.TRADES.items()}
        self.forms = list(customers_demo.LEGAL_FORMS)
        self.fields = {
            key: _weights(customers_demo.WEIGHTS[key])
            for key in ("level", "type", "status", "credit_rating")
        }
        self.new_status = _weights(STATUS_WEIGHTS_NEW)
        self.positions = customers_demo.POSITIONS
        self.hobbies = customers_demo.HOBBIES
        self.people = People(rng)
        self.pinyin: dict[str, str] = {}
        self._districts(ctx)

    def _districts(self, ctx) -> None:
        """Per rep: the districts of their province, with city names and area codes."""
        rng = self.rng
        info = {}
        area_codes = {}
        for pk, code, name, city_pk, city, province in Region.objects.filter(
            level=Region.Level.DISTRICT
        ).values_list(
            "pk", "code", "name", "parent_id", "parent__name", "parent__parent__code"
        ):
            if city_pk not in area_codes:
                area = MUNICIPALITY_AREA_CODES.get(
                    province
                ) or customers_demo.AREA_CODES.get(code[:4])
                area_codes[city_pk] = area or f"0{rng.randint(310, 939)}"
            place = city[:-1] if city.endswith("市") and len(city) > 2 else ""
            info[pk] = (pk, code, name, place, area_codes[city_pk])
        provinces = dict(
            Region.objects.filter(level=Region.Level.PROVINCE).values_list(
                "code", "name"
            )
        )
        self.province_names = {c: province_short(n) for c, n in provinces.items()}
        self.rep_districts = []
        for _user, dept in ctx.reps:
            self.rep_districts.append(
                [info[pk] for pk in ctx.department_districts[dept]]
            )

    def person_pinyin(self, text: str) -> str:
        value = self.pinyin.get(text)
        if value is None:
            value = self.pinyin[text] = "".join(lazy_pinyin(text))
        return value


def _credit_code(district_code: str, customer_id: int) -> str:
    """A valid unified social credit code (GB 32100-2015), unique per customer: the
    nine-character organisation part is a bijection of the id (an odd multiplier
    modulo 31⁹), so it looks random but never repeats."""
    value = customer_id * 2_654_435_761 % 31**9
    chars = []
    for _ in range(9):
        value, digit = divmod(value, 31)
        chars.append(USCC_ALPHABET[digit])
    body = "91" + district_code + "".join(chars)
    return body + uscc_check_character(body)


def _landline(rng: random.Random, area: str) -> str:
    digits = 8 if len(area) == 3 else rng.choice((7, 8))
    return (
        f"{area}-{rng.randint(2, 8)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
    )


def _timestamp(day: datetime.date, seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{day} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}+08"


# The step


def generate(ctx) -> None:
    rng = random.Random(ctx.rng.random())
    n = ctx.scale.customers
    material = Material(ctx, rng)
    names = NameColumns()
    customer_extra, customer_tail = model_tail(Customer, CUSTOMER_COLUMNS)
    contact_extra, contact_tail = model_tail(Contact, CONTACT_COLUMNS)
    reps = ctx.reps
    rep_cum = list(accumulate(rng.lognormvariate(0, 0.35) for _ in reps))
    start = registration_start(ctx)
    today = ctx.today
    customers: list[tuple[int, int, int]] = []
    buyers = ctx.buyers
    level_values, level_cum = material.fields["level"]
    type_values, type_cum = material.fields["type"]
    status_values, status_cum = material.fields["status"]
    rating_values, rating_cum = material.fields["credit_rating"]
    new_values, new_cum = material.new_status
    industries, industry_cum = material.industries, material.industry_cum
    brands, forms, streets = material.brands, material.forms, material.streets
    people = material.people
    choice, random_ = rng.choice, rng.random
    group = None  # (id, name, industry, branches left, cities used)

    with (
        indexes_dropped(["customers_customer", "customers_contact"]),
        CopyWriter(
            "customers_customer",
            [*CUSTOMER_COLUMNS, *customer_extra],
            total=n,
            label="customers",
        ) as out,
        CopyWriter(
            "customers_contact",
            [*CONTACT_COLUMNS, *contact_extra],
            total=2 * n,
            label="contacts",
            separate=True,
            verbose=False,
        ) as contacts_out,
    ):
        for cid in range(1, n + 1):
            index = bisect_right(rep_cum, random_() * rep_cum[-1])
            owner, dept = reps[index]
            district_pk, district_code, district_name, place, area = choice(
                material.rep_districts[index]
            )
            day = start + datetime.timedelta(days=registration_day(ctx, cid, random_()))
            registered = _timestamp(day, rng.randrange(8 * 3600, 19 * 3600))
            age_days = (today - day).days

            parent = ""
            if group is not None and place and place not in group[4]:
                parent_id, group_name, industry, left, cities = group
                name = f"{group_name}{place}分公司"
                parent = str(parent_id)
                cities.add(place)
                group = (
                    (parent_id, group_name, industry, left - 1, cities)
                    if left > 1
                    else None
                )
            else:
                industry = industries[
                    bisect_right(industry_cum, random_() * industry_cum[-1])
                ]
                draw = random_()
                prefix = (
                    place
                    if draw < 0.55
                    else material.province_names[district_code[:2] + "0000"]
                    if draw < 0.7
                    else ""
                )
                form = "集团有限公司" if random_() < GROUP_SHARE else choice(forms)
                name = (
                    f"{prefix}{choice(brands)}{choice(material.trades[industry])}{form}"
                )
                if form == "集团有限公司" and place:
                    group = (cid, name, industry, rng.randint(2, 4), {place})
            initials = names.initials(name)
            key = names.key(name)
            if cid % CHECK_EVERY == 1:
                names.check(name, initials, key)

            level = level_values[bisect_right(level_cum, random_() * level_cum[-1])]
            if age_days < 90:
                status = new_values[bisect_right(new_cum, random_() * new_cum[-1])]
            else:
                status = status_values[
                    bisect_right(status_cum, random_() * status_cum[-1])
                ]
            if status in BUYING:
                buyers.append(cid)
            share, limits = CREDIT_LIMITS[level]
            limit = choice(limits) if random_() < share else 0
            domain = initials.lower()[:12] or "corp"
            main_phone = _landline(rng, area)
            out.write(
                f"{cid}\t{registered}\t{registered}\t1\t{owner}\t{dept}\t"
                f"KH{cid:06d}\t{initials}\t{name}\t{initials}\t{key}\t"
                f"{_credit_code(district_code, cid) if random_() < 0.6 else ''}\t"
                f"{district_name}{choice(streets)}{rng.randint(1, 999)}号\t{main_phone}\t"
                f"{district_code[:3]}{rng.randrange(1000):03d}\tinfo@{domain}.com.cn\t"
                f"{district_pk}\t{industry}\t{level}\t"
                f"{type_values[bisect_right(type_cum, random_() * type_cum[-1])]}\t"
                f"{status}\t"
                f"{rating_values[bisect_right(rating_cum, random_() * rating_cum[-1])]}\t"
                f"{limit}\t{parent or NULL}\t"
                f"{_landline(rng, area) if random_() < 0.4 else ''}\t"
                f"https://www.{domain}.com.cn\t{choice(NOTES)}\t{registered}"
                f"{customer_tail}\n"
            )
            customers.append((cid, owner, dept))

            for primary in (True, False):
                contact_name, female = people.name()
                surname_py = material.person_pinyin(contact_name[0])
                given_py = material.person_pinyin(contact_name[1:])
                department_name, position = choice(material.positions)
                if random_() < 0.7:
                    birth_year = rng.randint(1965, 2001)
                    birthday = f"{birth_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    age = str(today.year - birth_year)
                else:
                    birthday = age = NULL
                office = (
                    f"{main_phone}-{rng.randint(100, 899)}" if random_() < 0.6 else ""
                )
                contacts_out.write(
                    f"{2 * cid - (1 if primary else 0)}\t{registered}\t{registered}\t1\t"
                    f"{cid}\t{contact_name}\t{'female' if female else 'male'}\t{age}\t"
                    f"{department_name}\t{position}\t{office}\t"
                    f"1{choice('3456789')}{rng.randrange(10**9):09d}\t"
                    f"{given_py}.{surname_py}@{domain}.com.cn\t{birthday}\t"
                    f"{choice(material.hobbies)}\t{owner}\t{'t' if primary else 'f'}"
                    f"{contact_tail}\n"
                )

    ctx.customers = customers
    reset_sequence("customers_customer")
    reset_sequence("customers_contact")
    Sequence.objects.update_or_create(
        key="customers.customer",
        defaults={"prefix": "KH", "padding": 6, "next_value": n + 1},
    )
    print(f"  {len(buyers):,} buying customers", flush=True)
