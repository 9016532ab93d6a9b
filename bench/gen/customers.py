"""Generator step 2 (X6): N customers (ids 1..N, numbers KH000001…) and two contacts each.

Each customer belongs to a sales rep (ctx.reps) and sits in a district of the rep's
province. Its name is built like a real company's: place (the city or province, or
none) + a two-character trade name (字号) + a trade word of its industry + a legal form
(苏州宏达精密机械有限公司); some are groups with branch subsidiaries
(…集团有限公司杭州分公司, parent set). Registration times grow with the id over the last
eight years, so customer numbers are in registration order and `customers_registered_by`
tells the sales step who existed on a given day.

The derived name columns are the app's (crm/customers/naming.py, crm/core/pinyin.py):
- name_initials and mnemonic: pypinyin's own segmentation and converter, memoised per
  segment, and per part of the name where that is provably the same (NameColumns);
- name_key: the same steps as naming.name_key, with the place-name prefix found by set
  lookups per length instead of a scan of 700 names;
both are checked against the app's functions on a sample of names, so a change there
fails the generator loudly instead of leaving wrong search columns.
"""

import datetime
import random
from array import array
from bisect import bisect_right
from itertools import accumulate

from faker import Faker
from faker.providers.company.zh_CN import Provider as CompanyNames
from pypinyin import Style, lazy_pinyin
from pypinyin.core import _default_pinyin
from pypinyin.seg import mmseg
from pypinyin.seg.simpleseg import seg as pinyin_seg

from bench.copy import NULL, CopyWriter, indexes_dropped, model_tail, reset_sequence
from bench.gen.org import People, province_short
from crm.core.models import Sequence
from crm.core.pinyin import pinyin_initials
from crm.core.validators import USCC_ALPHABET, uscc_check_character
from crm.customers import demo as customers_demo
from crm.customers import naming
from crm.customers.models import Contact, Customer, Region

REGISTRATION_YEARS = 8
GROUP_SHARE = 0.004  # customers that are groups with 2–4 branch subsidiaries
CHECK_EVERY = 997  # one name in so many is checked against the app's own functions
BRAND_CHARS = (
    "宏华德鑫瑞恒盛信达通泰兴隆丰源新金联创博远锦天海明中美嘉安康宇正诚益佳旭凯永昌和汇"
    "利群贵荣祥福润广元亿晶星光辉腾飞翔峰力鼎豪东方远航科百尚优卓越精品"
)
MUNICIPALITY_AREA_CODES = {
    "110000": "010",
    "120000": "022",
    "310000": "021",
    "500000": "023",
}
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
    them (crm.customers.naming), at a few microseconds per name.

    pinyin_initials is lazy_pinyin: the text cut into Han runs, each run segmented by
    pypinyin's forward maximum matching (`mmseg.seg.cut`), each segment converted. Here
    the converter's output is memoised per segment, and a name made of parts (place,
    trade name, trade + legal form) is segmented part by part when that gives the same
    segments: the matcher only reads past a part's end while what it has read (from
    some start inside the part) plus the next character is a prefix of a dictionary
    phrase. When no such prefix crosses the boundary, every scan started inside the
    part stops at the boundary as it would before any non-matching character, which is
    `cut(part + sentinel)`; the next part is then segmented from scratch. Otherwise the
    whole name is segmented.
    """

    SENTINEL = "\x00"  # in no phrase, so every scan stops before it

    def __init__(self):
        self._letters: dict[str, str] = {}
        self._cut: dict[str, list[str]] = {}
        self._clean: dict[tuple[str, str], bool] = {}
        self._prefixes = mmseg.seg._prefix_set
        self._places = frozenset(naming.place_names())
        self._place_lengths = sorted({len(p) for p in self._places}, reverse=True)

    def _segment_letters(self, segment: str) -> str:
        letters = self._letters.get(segment)
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
            self._letters[segment] = letters
        return letters

    def initials(self, name: str) -> str:
        """pinyin_initials(name), segmenting the whole name."""
        return "".join(map(self._segment_letters, pinyin_seg(name)))[:64]

    def initials_of_parts(self, parts: tuple[str, ...]) -> str:
        """pinyin_initials of "".join(parts), for names made of all-Han parts."""
        letters = []
        for part, following in zip(parts, (*parts[1:], ""), strict=True):
            if not following:
                segments = self._cut.get(part)
                if segments is None:
                    segments = self._cut[part] = list(mmseg.seg.cut(part))
            elif self._boundary_clean(part, following[0]):
                segments = self._cut.get(part + self.SENTINEL)
                if segments is None:
                    segments = list(mmseg.seg.cut(part + self.SENTINEL))[:-1]
                    self._cut[part + self.SENTINEL] = segments
            else:
                return self.initials("".join(parts))
            letters += map(self._segment_letters, segments)
        return "".join(letters)[:64]

    def _boundary_clean(self, part: str, next_char: str) -> bool:
        """No phrase prefix starts inside `part` and goes on with `next_char`."""
        clean = self._clean.get((part, next_char))
        if clean is None:
            prefixes = self._prefixes
            clean = self._clean[(part, next_char)] = all(
                part[start:] + next_char not in prefixes for start in range(len(part))
            )
        return clean

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
        self.industries = _weights(customers_demo.WEIGHTS["industry"])
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


def _timestamps(start: datetime.date, days: int) -> list[str]:
    """'YYYY-MM-DD ' for each day from `start`: a time of day is appended per row."""
    return [f"{start + datetime.timedelta(days=d)} " for d in range(days + 1)]


class Rows:
    """The COPY lines of one customer and of its two contacts."""

    def __init__(self, ctx, rng: random.Random, material: Material):
        self.ctx, self.material, self.random = ctx, material, rng.random
        self.names = NameColumns()
        self.start = registration_start(ctx)
        self.days = _timestamps(self.start, 365 * REGISTRATION_YEARS)
        self.new_after = (ctx.today - self.start).days - 90  # registered < 90 days ago
        self.rep_cum = list(accumulate(rng.lognormvariate(0, 0.35) for _ in ctx.reps))
        self.group = None  # (id, name, industry, branches to come, their cities)
        self.customer_tail = model_tail(Customer, CUSTOMER_COLUMNS)[1]
        self.contact_tail = model_tail(Contact, CONTACT_COLUMNS)[1]
        self.year = ctx.today.year

    def pick(self, values):
        return values[int(self.random() * len(values))]

    def weighted(self, pair):
        values, cum = pair
        return values[bisect_right(cum, self.random() * cum[-1])]

    def time(self) -> str:
        seconds = 8 * 3600 + int(self.random() * 11 * 3600)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}+08"

    def landline(self, area: str) -> str:
        random_ = self.random
        if len(area) == 3 or random_() < 0.5:
            return f"{area}-{2 + int(random_() * 7)}{int(random_() * 10**7):07d}"
        return f"{area}-{2 + int(random_() * 7)}{int(random_() * 10**6):06d}"

    def name(self, place: str, district_code: str, cid: int) -> tuple[tuple, str, str]:
        """(the parts of the name, industry, parent id or NULL); a group's next
        customers in other cities are its branches."""
        material, random_ = self.material, self.random
        group = self.group
        if group is not None and place and place not in group[4]:
            parent_id, group_name, industry, left, cities = group
            cities.add(place)
            if left == 1:
                self.group = None
            else:
                self.group = (parent_id, group_name, industry, left - 1, cities)
            return (f"{group_name}{place}分公司",), industry, str(parent_id)
        industry = self.weighted(material.industries)
        draw = random_()
        prefix = (
            place
            if draw < 0.55
            else material.province_names[district_code[:2] + "0000"]
            if draw < 0.7
            else ""
        )
        form = "集团有限公司" if random_() < GROUP_SHARE else self.pick(material.forms)
        parts = (
            prefix,
            self.pick(material.brands),
            self.pick(material.trades[industry]) + form,
        )
        if form == "集团有限公司" and place:
            self.group = (
                cid,
                "".join(parts),
                industry,
                2 + int(random_() * 3),
                {place},
            )
        return parts if prefix else parts[1:], industry, NULL

    def customer(self, cid: int, buyers: array) -> tuple[str, tuple, str, str, str]:
        """The customer's line, (id, owner, department), and what its contacts reuse:
        registration time, main phone, mail domain."""
        material, random_, names = self.material, self.random, self.names
        index = bisect_right(self.rep_cum, random_() * self.rep_cum[-1])
        owner, dept = self.ctx.reps[index]
        district_pk, district_code, district_name, place, area = self.pick(
            material.rep_districts[index]
        )
        day = registration_day(self.ctx, cid, random_())
        registered = self.days[day] + self.time()
        parts, industry, parent = self.name(place, district_code, cid)
        name = "".join(parts)
        initials, key = names.initials_of_parts(parts), names.key(name)
        if cid % CHECK_EVERY == 1:
            names.check(name, initials, key)
        level = self.weighted(material.fields["level"])
        status = self.weighted(
            material.new_status if day >= self.new_after else material.fields["status"]
        )
        if status in BUYING:
            buyers.append(cid)
        share, limits = CREDIT_LIMITS[level]
        limit = self.pick(limits) if random_() < share else 0
        domain = initials.lower()[:12] or "corp"
        phone = self.landline(area)
        line = (
            f"{cid}\t{registered}\t{registered}\t1\t{owner}\t{dept}\t"
            f"KH{cid:06d}\t{initials}\t{name}\t{initials}\t{key}\t"
            f"{_credit_code(district_code, cid) if random_() < 0.6 else ''}\t"
            f"{district_name}{self.pick(material.streets)}{1 + int(random_() * 999)}号\t"
            f"{phone}\t{district_code[:3]}{int(random_() * 1000):03d}\t"
            f"info@{domain}.com.cn\t{district_pk}\t{industry}\t{level}\t"
            f"{self.weighted(material.fields['type'])}\t{status}\t"
            f"{self.weighted(material.fields['credit_rating'])}\t{limit}\t{parent}\t"
            f"{self.landline(area) if random_() < 0.4 else ''}\t"
            f"https://www.{domain}.com.cn\t{self.pick(NOTES)}\t{registered}"
            f"{self.customer_tail}\n"
        )
        return line, (cid, owner, dept), registered, phone, domain

    def contact(self, pk, cid, owner, registered, phone, domain, primary) -> str:
        material, random_ = self.material, self.random
        surname, given, female = material.people.parts()
        department_name, position = self.pick(material.positions)
        if random_() < 0.7:
            year = 1965 + int(random_() * 37)
            birthday = (
                f"{year}-{1 + int(random_() * 12):02d}-{1 + int(random_() * 28):02d}"
            )
            age = self.year - year
        else:
            birthday = age = NULL
        office = f"{phone}-{100 + int(random_() * 800)}" if random_() < 0.6 else ""
        return (
            f"{pk}\t{registered}\t{registered}\t1\t{cid}\t{surname}{given}\t"
            f"{'female' if female else 'male'}\t{age}\t{department_name}\t{position}\t"
            f"{office}\t1{3 + int(random_() * 7)}{int(random_() * 10**9):09d}\t"
            f"{material.person_pinyin(given)}.{material.person_pinyin(surname)}"
            f"@{domain}.com.cn\t{birthday}\t{self.pick(material.hobbies)}\t{owner}\t"
            f"{'t' if primary else 'f'}{self.contact_tail}\n"
        )


# The step


def generate(ctx) -> None:
    rng = random.Random(ctx.rng.random())
    n = ctx.scale.customers
    rows = Rows(ctx, rng, Material(ctx, rng))
    customer_extra = model_tail(Customer, CUSTOMER_COLUMNS)[0]
    contact_extra = model_tail(Contact, CONTACT_COLUMNS)[0]
    customers: list[tuple[int, int, int]] = []
    buyers = ctx.buyers
    with (
        indexes_dropped(["customers_customer", "customers_contact"], background=True),
        CopyWriter(
            "customers_customer",
            [*CUSTOMER_COLUMNS, *customer_extra],
            total=n,
            label="customers",
        ) as out,
        CopyWriter(
            "customers_contact",
            [*CONTACT_COLUMNS, *contact_extra],
            label="contacts",
            separate=True,
            verbose=False,
        ) as contacts_out,
    ):
        for cid in range(1, n + 1):
            line, customer, registered, phone, domain = rows.customer(cid, buyers)
            out.write(line)
            customers.append(customer)
            owner = customer[1]
            for pk, primary in ((2 * cid - 1, True), (2 * cid, False)):
                contacts_out.write(
                    rows.contact(pk, cid, owner, registered, phone, domain, primary)
                )

    ctx.customers = customers
    reset_sequence("customers_customer")
    reset_sequence("customers_contact")
    Sequence.objects.update_or_create(
        key="customers.customer",
        defaults={"prefix": "KH", "padding": 6, "next_value": n + 1},
    )
    print(f"  {len(buyers):,} buying customers", flush=True)
