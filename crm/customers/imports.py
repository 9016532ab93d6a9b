"""C4 customer import: customers with up to three contacts per row, through core's import
machinery (crm/core/imports.py). Every row goes through the customer and contact services,
so numbering, the mnemonic, credit-code uniqueness, the hierarchy check, permissions and
the audit trail apply as in a form.

References are resolved per batch, never per row: regions from one load of the division
table per import, owners and parent companies with one query per batch (RecordLookup).
New customers are written in batches (NewCustomers → CustomerBatch, X6): each row is
checked by the same service rules as customer_create and contact_create, then the batch
is inserted at once; updates of existing customers go through the services row by row.
"""

import datetime
import re
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.errors import DomainError, Invalid
from crm.core.imports import (
    BulkWriter,
    ChildSpec,
    ImportField,
    ImportSpec,
    MatchKey,
    RecordLookup,
    as_choice,
    as_date,
    as_decimal,
    as_text,
    register_import,
)
from crm.core.validators import MOBILE, validate_cn_phone, validate_uscc
from crm.customers.models import Contact, Customer, Region, validate_postcode
from crm.customers.selectors import customer_queryset
from crm.customers.services import (
    CustomerBatch,
    contact_create,
    contact_update,
    customer_create,
    customer_update,
)
from crm.org.models import User

# Cell parsers


_FULL_WIDTH = str.maketrans("０１２３４５６７８９－（）＋　", "0123456789-()+ ")


def parse_phone(value, ctx=None) -> str:
    """A mainland mobile or landline as people type them: "138 0013 8000",
    "+86 13800138000", "(010) 12345678", "0755 1234567 转 801"."""
    text = str(value).strip().translate(_FULL_WIDTH)
    compact = re.sub(r"[\s\-()]", "", text)
    compact = re.sub(r"^\+?86(?=1\d{10}$)", "", compact)
    if MOBILE.match(compact):
        return compact
    text = re.sub(r"\s*(转|ext\.?|分机)\s*", "-", text, flags=re.IGNORECASE)
    text = re.sub(r"^\((0\d{2,3})\)\s*", r"\1-", text)
    text = re.sub(r"^(0\d{2,3})\s+", r"\1-", text)
    text = re.sub(r"\s+", "", text)
    validate_cn_phone(text)
    return text


def parse_credit_code(value, ctx=None) -> str:
    """GB 32100-2015: 18 characters with the right check character (upper-cased)."""
    code = re.sub(r"\s+", "", str(value)).upper()
    validate_uscc(code)
    return code


def parse_postcode(value, ctx=None) -> str:
    """Six digits; a spreadsheet that took 010010 for a number gives it back padded."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6:
        return f"{value:06d}"
    text = str(value).strip()
    validate_postcode(text)
    return text


def parse_email(value, ctx=None) -> str:
    text = str(value).strip()
    validate_email(text)
    return text


def parse_homepage(value, ctx=None) -> str:
    text = str(value).strip()
    if "://" not in text:
        text = f"https://{text}"
    URLValidator()(text)
    return text


def parse_moment(value, ctx=None) -> datetime.datetime:
    """A date or a date and time, in the site's time zone."""
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            day = as_date(text)
            moment = datetime.datetime(day.year, day.month, day.day)  # noqa: DTZ001
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def choice(choices, **extra):
    """A choice by its value, its label in Chinese or English, or a common synonym."""
    words = {}
    for value, synonyms in extra.items():
        for word in synonyms:
            words[word.casefold()] = value
    by_label = as_choice(choices)

    def parse(value, ctx=None):
        word = str(value).strip().casefold()
        if word in words:
            return words[word]
        return by_label(value, ctx)

    return parse


# Regions: "广东省 深圳市 南山区", "广东深圳南山", or separate columns

REGIONS_KEY = "customers:regions"
# Longest first: 广西壮族自治区 is 广西, 内蒙古自治区 is 内蒙古.
REGION_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "新区",
    "林区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)
_REGION_SEPARATORS = re.compile(r"[\s,，/、\\|>＞·\-—]+")
_COUNTRY = {"中国", "中华人民共和国", "china", "prc"}


def short_region_name(name: str) -> str:
    for suffix in REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _score(token: str, name: str) -> int:
    """How well a typed word names a region: 3 exactly, 2 without its suffix (广东 for
    广东省), 1 as the start of its name (延边 for 延边朝鲜族自治州), 0 not at all."""
    if token == name:
        return 3
    if token == short_region_name(name):
        return 2
    if len(token) >= 2 and name.startswith(token):
        return 1
    return 0


class RegionIndex:
    """China's divisions in memory for one import (one query), found by their names."""

    def __init__(self):
        regions = list(Region.objects.order_by("code"))
        by_id = {r.pk: r for r in regions}
        self.children: dict = defaultdict(list)
        self.ancestors: dict[int, list[Region]] = {}
        # Every region under each start of its name, in code order: a word can only
        # name a region its name starts with (exactly, without suffix, or as a start),
        # so `find` scores those few instead of all 3,000 (one text: ~50 ms → ~50 µs).
        self.by_start: dict[str, list[Region]] = defaultdict(list)
        for region in regions:
            if region.parent_id:
                region.parent = by_id[region.parent_id]  # full_name without queries
            self.children[region.parent_id].append(region)
            for end in range(1, len(region.name) + 1):
                self.by_start[region.name[:end]].append(region)
        for region in regions:
            chain, node = [], region.parent
            while node is not None:
                chain.append(node)
                node = node.parent
            self.ancestors[region.pk] = list(reversed(chain))
        self.found: dict[tuple, list[Region]] = {}

    def find(self, tokens: tuple[str, ...]) -> list[Region]:
        """Regions named by the last word and under the others, top-down: the best
        matches; a province and its same-named city (北京市) count as one place."""
        if tokens in self.found:
            return self.found[tokens]
        scored = []
        for region in self.by_start.get(tokens[-1], ()):
            score = _score(tokens[-1], region.name)
            if not score:
                continue
            chain, position = self.ancestors[region.pk], 0
            for token in tokens[:-1]:
                while position < len(chain) and not _score(token, chain[position].name):
                    position += 1
                if position == len(chain):
                    break
                score += _score(token, chain[position].name)
                position += 1
            else:
                scored.append((score, region))
        result: list[Region] = []
        if scored:
            best = max(score for score, _region in scored)
            result = sorted((r for s, r in scored if s == best), key=lambda r: r.level)
            top = result[0]
            if all(r is top or top in self.ancestors[r.pk] for r in result):
                result = [top]
        if not result and len(tokens) == 1:
            result = self._segment(tokens[0])
        self.found[tokens] = result
        return result

    def _segment(self, text: str) -> list[Region]:
        """Names written together: 广东省深圳市南山区, 广东深圳南山, 深圳市南山区."""
        found = self._walk(text, None)
        if not found:
            for province in self.children[None]:
                found += self._walk(text, province.pk)
        return list(dict.fromkeys(found))

    def _walk(self, text: str, parent_id) -> list[Region]:
        found: list[Region] = []
        for child in self.children[parent_id]:
            for word in {child.name, short_region_name(child.name)}:
                if len(word) >= 2 and text.startswith(word):
                    rest = text[len(word) :]
                    found += [child] if not rest else self._walk(rest, child.pk)
            if child.parent_id and child.name == child.parent.name:
                found += self._walk(text, child.pk)  # 北京市 北京市 朝阳区
        return found


def _regions(ctx) -> RegionIndex:
    index = ctx.cache.get(REGIONS_KEY)
    if index is None:
        index = ctx.cache[REGIONS_KEY] = RegionIndex()
    return index


def _region_words(text: str) -> tuple[str, ...]:
    words = [w for w in _REGION_SEPARATORS.split(str(text).strip()) if w]
    return tuple(w for w in words if w.casefold() not in _COUNTRY)


def _ambiguous(text: str, found: list[Region]) -> str:
    places = "、".join(r.full_name for r in found[:3])
    return _(
        "“%(value)s” is in several places (%(places)s); add the province or city."
    ) % {
        "value": text,
        "places": places,
    }


def parse_region(value, ctx) -> Region:
    """A province, city or district by its names, top-down: "广东省 深圳市 南山区"."""
    text = str(value).strip()
    words = _region_words(text)
    found = _regions(ctx).find(words) if words else []
    if not found:
        raise ValueError(_("No region “%(value)s”.") % {"value": text})
    if len(found) > 1:
        raise ValueError(_ambiguous(text, found))
    return found[0]


REGION_PARTS = ("province", "city", "district")


def _region_from_parts(data: dict, ctx) -> None:
    """Separate province, city and district columns make one region; the first column
    that names no place under the ones before it is the row's error."""
    parts = [(name, data.pop(name)) for name in REGION_PARTS if data.get(name)]
    if not parts or data.get("region") is not None:
        return
    index = _regions(ctx)
    words: tuple[str, ...] = ()
    found: list[Region] = []
    for name, value in parts:
        words += _region_words(value)
        found = index.find(words) if words else []
        if not found:
            raise Invalid(
                _("No region “%(value)s”.") % {"value": " ".join(words)},
                fields={name: [_("No region “%(value)s”.") % {"value": value}]},
            )
    if len(found) > 1:
        message = _ambiguous(" ".join(words), found)
        raise Invalid(message, fields={parts[-1][0]: [message]})
    data["region"] = found[0]


# References to employees and customers, resolved per batch


class Lookup(RecordLookup):
    """A RecordLookup with messages that say what to type instead."""

    def __init__(self, queryset, fields, *, missing, many):
        super().__init__(queryset, fields)
        self.missing, self.many = missing, many

    def found(self, value, ctx):
        value = str(value).strip()
        self.prefetch(ctx, {value})
        return value, ctx.cache[self._key()][value]

    def __call__(self, value, ctx):
        value, result = self.found(value, ctx)
        if result is None:
            raise ValueError(self.missing % {"value": value})
        if result == "many":
            raise ValueError(self.many % {"value": value})
        return result


class Pending(str):
    """A parent company not known when the batch was read: perhaps an earlier row of
    the same file creates it; `prepare_row` looks again."""


class ParentLookup(Lookup):
    def __call__(self, value, ctx):
        value, result = self.found(value, ctx)
        if result is None:
            return Pending(value)
        return super().__call__(value, ctx)


owner_lookup = Lookup(
    lambda actor: User.objects.filter(is_active=True).select_related("department"),
    ("username", "name"),
    missing=gettext_lazy("No active employee has the user name or name “%(value)s”."),
    many=gettext_lazy("Several employees are called “%(value)s”; use the user name."),
)
parent_lookup = ParentLookup(
    lambda actor: customer_queryset(actor=actor),
    ("number", "name"),
    missing=gettext_lazy("No customer you can see has the number or name “%(value)s”."),
    many=gettext_lazy(
        "Several customers are called “%(value)s”; use the customer number."
    ),
)


def _resolve_parent(*, actor, value: str) -> Customer:
    hits = list(
        customer_queryset(actor=actor).filter(
            Q(number__iexact=value) | Q(name__iexact=value)
        )[:3]
    )
    by_number = [c for c in hits if c.number.casefold() == value.casefold()]
    hits = by_number or hits
    if len(hits) == 1:
        return hits[0]
    template = parent_lookup.many if hits else parent_lookup.missing
    message = str(template % {"value": value})
    raise Invalid(message, fields={"parent": [message]})


# Fields

LEVEL_WORDS = {
    Customer.Level.KEY: ("A类", "A级", "重点", "重点客户", "key"),
    Customer.Level.IMPORTANT: ("B类", "B级", "重要", "重要客户", "important"),
    Customer.Level.NORMAL: (
        "C类",
        "C级",
        "普通",
        "普通客户",
        "一般",
        "一般客户",
        "normal",
    ),
    Customer.Level.MINOR: ("D类", "D级", "次要", "次要客户", "minor"),
}
TYPE_WORDS = {
    Customer.Type.END_USER: ("终端", "直客", "最终用户", "end user"),
    Customer.Type.DEALER: ("经销", "分销商", "经销商"),
    Customer.Type.AGENT: ("代理", "代理商"),
    Customer.Type.PARTNER: ("伙伴", "合作伙伴"),
    Customer.Type.GOVERNMENT: ("政府", "事业单位", "政府机关", "机关事业单位"),
    Customer.Type.INDIVIDUAL: ("个人", "个人客户"),
}
STATUS_WORDS = {
    Customer.Status.PROSPECT: ("潜在",),
    Customer.Status.INTENTION: ("意向",),
    Customer.Status.ACTIVE: ("成交", "成交客户", "正式客户", "合作中", "active"),
    Customer.Status.DORMANT: ("休眠",),
    Customer.Status.LOST: ("流失", "流失客户"),
}
INDUSTRY_WORDS = {
    Customer.Industry.AGRICULTURE: ("农业", "农林牧渔", "农林牧渔业"),
    Customer.Industry.MINING: ("采矿", "采矿业", "矿业"),
    Customer.Industry.MANUFACTURING: ("制造", "工业"),
    Customer.Industry.UTILITIES: ("能源", "电力", "公用事业"),
    Customer.Industry.CONSTRUCTION: ("建筑", "建筑业", "建设"),
    Customer.Industry.TRADE: (
        "批发",
        "零售",
        "贸易",
        "商贸",
        "批发零售",
        "批发和零售业",
    ),
    Customer.Industry.LOGISTICS: ("物流", "运输", "交通运输", "仓储", "快递"),
    Customer.Industry.HOSPITALITY: ("酒店", "餐饮", "住宿和餐饮业"),
    Customer.Industry.IT: ("IT", "互联网", "软件", "信息技术", "通信", "电信"),
    Customer.Industry.FINANCE: ("金融", "金融业", "银行", "保险", "证券"),
    Customer.Industry.REAL_ESTATE: ("房地产", "房地产业", "地产"),
    Customer.Industry.BUSINESS_SERVICES: ("租赁", "商务服务", "租赁和商务服务业"),
    Customer.Industry.RESEARCH: ("科研", "技术服务", "科学研究"),
    Customer.Industry.ENVIRONMENT: ("环保", "水利", "环境"),
    Customer.Industry.RESIDENT_SERVICES: ("居民服务", "维修"),
    Customer.Industry.EDUCATION: ("教育", "学校", "培训"),
    Customer.Industry.HEALTH: ("医疗", "卫生", "医院", "医疗卫生", "社会工作"),
    Customer.Industry.CULTURE: ("文化", "体育", "娱乐", "传媒", "文体娱乐"),
    Customer.Industry.PUBLIC: ("政府", "公共管理", "政府机关"),
    Customer.Industry.OTHER: ("其他", "其它"),
}
GENDER_WORDS = {
    Contact.Gender.MALE: ("男性", "先生", "m"),
    Contact.Gender.FEMALE: ("女性", "女士", "f"),
}

CUSTOMER_FIELDS = (
    ImportField(
        "number",
        gettext_lazy("customer number"),
        ("客户编号", "客户编码", "客户代码", "客户号", "编号", "number", "customer no"),
        parse=as_text(32),
        help=gettext_lazy(
            "Only to find customers to update: a new customer gets the next number."
        ),
    ),
    ImportField(
        "name",
        gettext_lazy("customer name"),
        (
            "客户名称",
            "客户",
            "客户全称",
            "公司名称",
            "单位名称",
            "企业名称",
            "名称",
            "name",
            "customer",
            "company",
            "company name",
        ),
        required=True,
        parse=as_text(200),
    ),
    ImportField(
        "mnemonic",
        gettext_lazy("mnemonic code"),
        ("助记码", "简码", "拼音码", "mnemonic"),
        parse=as_text(64),
        help=gettext_lazy("Generated from the name when left empty."),
    ),
    ImportField(
        "credit_code",
        gettext_lazy("unified social credit code"),
        (
            "统一社会信用代码",
            "社会信用代码",
            "信用代码",
            "税号",
            "纳税人识别号",
            "credit code",
            "USCC",
            "tax id",
        ),
        parse=parse_credit_code,
    ),
    ImportField(
        "main_phone",
        gettext_lazy("main phone"),
        (
            "电话",
            "主电话",
            "联系电话",
            "公司电话",
            "总机",
            "座机",
            "phone",
            "tel",
            "telephone",
        ),
        parse=parse_phone,
    ),
    ImportField(
        "finance_phone",
        gettext_lazy("finance phone"),
        ("财务电话", "财务联系电话", "finance phone"),
        parse=parse_phone,
    ),
    ImportField(
        "email",
        gettext_lazy("email"),
        ("邮箱", "电子邮箱", "电子邮件", "公司邮箱", "email", "e-mail", "mail"),
        parse=parse_email,
    ),
    ImportField(
        "homepage",
        gettext_lazy("homepage"),
        (
            "网址",
            "主页",
            "网站",
            "公司网址",
            "官网",
            "homepage",
            "website",
            "web",
            "url",
        ),
        parse=parse_homepage,
    ),
    ImportField(
        "region",
        gettext_lazy("region"),
        (
            "所属地区",
            "地区",
            "所在地区",
            "区域",
            "所属区域",
            "省市区",
            "region",
            "area",
            "location",
        ),
        parse=parse_region,
        help=gettext_lazy("Province, city and district: 广东省 深圳市 南山区."),
    ),
    ImportField(
        "province",
        gettext_lazy("province"),
        ("省", "省份", "所属省份", "省市", "province"),
        parse=as_text(50),
    ),
    ImportField(
        "city",
        gettext_lazy("city"),
        ("市", "城市", "地市", "所属城市", "city"),
        parse=as_text(50),
    ),
    ImportField(
        "district",
        gettext_lazy("district"),
        ("区", "区县", "县", "县区", "所属区县", "district", "county"),
        parse=as_text(50),
    ),
    ImportField(
        "address",
        gettext_lazy("office address"),
        ("地址", "办公地址", "公司地址", "详细地址", "通讯地址", "address"),
        parse=as_text(255),
    ),
    ImportField(
        "postcode",
        gettext_lazy("postcode"),
        ("邮编", "邮政编码", "postcode", "zip", "zip code", "postal code"),
        parse=parse_postcode,
    ),
    ImportField(
        "industry",
        gettext_lazy("industry"),
        ("行业", "所属行业", "行业类别", "industry"),
        parse=choice(Customer.Industry, **INDUSTRY_WORDS),
    ),
    ImportField(
        "level",
        gettext_lazy("level"),
        ("级别", "客户级别", "客户等级", "等级", "level", "grade"),
        parse=choice(Customer.Level, **LEVEL_WORDS),
    ),
    ImportField(
        "type",
        gettext_lazy("type"),
        ("类型", "客户类型", "客户类别", "类别", "type"),
        parse=choice(Customer.Type, **TYPE_WORDS),
    ),
    ImportField(
        "status",
        gettext_lazy("status"),
        ("状态", "客户状态", "status"),
        parse=choice(Customer.Status, **STATUS_WORDS),
    ),
    ImportField(
        "credit_rating",
        gettext_lazy("credit rating"),
        ("信用等级", "信用评级", "资信等级", "credit rating", "rating"),
        parse=choice(Customer.CreditRating),
    ),
    ImportField(
        "credit_limit",
        gettext_lazy("credit limit"),
        ("信用额度", "授信额度", "额度", "credit limit"),
        parse=as_decimal,
    ),
    ImportField(
        "owner",
        gettext_lazy("owner"),
        (
            "负责人",
            "客户负责人",
            "所属人",
            "归属人",
            "业务员",
            "销售代表",
            "客户经理",
            "owner",
            "sales rep",
        ),
        parse=owner_lookup,
        help=gettext_lazy(
            "An active employee's user name or name; you, when left empty."
        ),
    ),
    ImportField(
        "parent",
        gettext_lazy("parent company"),
        (
            "上级单位",
            "上级客户",
            "上级公司",
            "母公司",
            "总公司",
            "parent",
            "parent company",
        ),
        parse=parent_lookup,
        help=gettext_lazy("The parent customer's number or name."),
    ),
    ImportField(
        "registered_at",
        gettext_lazy("registration time"),
        ("登记时间", "登记日期", "建档日期", "registered", "registration date"),
        parse=parse_moment,
    ),
    ImportField(
        "notes",
        gettext_lazy("notes"),
        ("备注", "说明", "备注信息", "notes", "note", "remarks", "remark", "memo"),
        parse=as_text(),
    ),
)

CONTACT_FIELDS = (
    # "" makes the bare prefix a header too: "联系人", "联系人2", "Contact 3".
    ImportField(
        "name",
        gettext_lazy("name"),
        ("", "姓名", "名字", "name"),
        required=True,
        parse=as_text(50),
    ),
    ImportField(
        "gender",
        gettext_lazy("gender"),
        ("性别", "gender", "sex"),
        parse=choice(Contact.Gender, **GENDER_WORDS),
    ),
    ImportField(
        "mobile",
        gettext_lazy("mobile"),
        ("手机", "手机号", "手机号码", "移动电话", "mobile", "cell", "mobile phone"),
        parse=parse_phone,
    ),
    ImportField(
        "office_phone",
        gettext_lazy("office phone"),
        ("电话", "办公电话", "座机", "固话", "phone", "tel", "office phone"),
        parse=parse_phone,
    ),
    ImportField(
        "email",
        gettext_lazy("email"),
        ("邮箱", "电子邮箱", "邮件", "email", "e-mail"),
        parse=parse_email,
    ),
    ImportField(
        "position",
        gettext_lazy("position"),
        ("职位", "职务", "岗位", "头衔", "position", "title", "job title"),
        parse=as_text(100),
    ),
    ImportField(
        "department_name",
        gettext_lazy("department"),
        ("部门", "所在部门", "department"),
        parse=as_text(100),
    ),
    ImportField(
        "birthday",
        gettext_lazy("birthday"),
        ("生日", "出生日期", "birthday", "date of birth"),
        parse=as_date,
    ),
)


# Contacts of a row: matched by name and mobile, else added


def match_contact(pool: list[Contact], item: dict) -> Contact | None:
    """The contact a row's contact is: same name and mobile; a row without a mobile, or
    a contact without one, matches by the name alone when only one has it."""
    same_name = [c for c in pool if c.name == item["name"]]
    mobile = item.get("mobile")
    if mobile:
        same = [c for c in same_name if c.mobile == mobile]
        if same:
            return same[0]
        same_name = [c for c in same_name if not c.mobile]
    return same_name[0] if len(same_name) == 1 else None


def contact_changes(contact: Contact, item: dict) -> dict:
    return {k: v for k, v in item.items() if getattr(contact, k) != v}


@register_import
class CustomerImport(ImportSpec):
    key = "customers.customer"
    model = Customer
    title = gettext_lazy("Customers")
    fields = CUSTOMER_FIELDS
    children = (
        ChildSpec(
            "contacts",
            gettext_lazy("contact"),
            CONTACT_FIELDS,
            count=3,
            prefixes=("联系人{n}", "contact{n}", "contact person{n}"),
            model=Contact,
        ),
    )
    match_keys = (
        MatchKey(
            "number", gettext_lazy("customer number"), "number", ignore_case=False
        ),
        MatchKey(
            "credit_code",
            gettext_lazy("unified social credit code"),
            "credit_code",
            ignore_case=False,  # upper-cased by its parser; the unique index is used
        ),
        MatchKey("name", gettext_lazy("customer name"), "name"),
    )
    add_perm = "customers.add_customer"
    change_perm = "customers.change_customer"
    list_url_name = "customers:customer-list"
    detail_url_name = "customers:customer-detail"

    def queryset(self, actor):
        """Customers the user may update: live ones in their data scope, with their
        contacts (one query per batch)."""
        return customer_queryset(actor=actor).prefetch_related("contacts")

    def match_queryset(self):
        """Merged customers (tombstones) and those in the recycle bin are not matched:
        a name shared with a tombstone is not ambiguous."""
        return Customer.objects.filter(
            merged_into__isnull=True, deleted_at__isnull=True
        )

    def bulk_writer(self, *, actor):
        return NewCustomers(actor=actor)

    def reads_earlier_rows(self, data: dict) -> bool:
        return isinstance(data.get("parent"), Pending)

    def prepare_row(self, *, actor, data: dict, existing, ctx) -> None:
        _region_from_parts(data, ctx)
        if isinstance(data.get("parent"), Pending):
            data["parent"] = _resolve_parent(actor=actor, value=str(data["parent"]))
        number = data.get("number")
        if existing is None and number:
            message = _number_problem(number)
            raise Invalid(message, fields={"number": [message]})
        if existing is not None and number and number != existing.number:
            message = _("The matched customer has the number %(number)s.") % {
                "number": existing.number
            }
            raise Invalid(message, fields={"number": [message]})

    def is_unchanged(self, existing, data: dict) -> bool:
        record = {k: v for k, v in data.items() if k != "contacts"}
        if not super().is_unchanged(existing, record):
            return False
        pool = list(existing.contacts.all())
        for item in data.get("contacts", []):
            contact = match_contact(pool, item)
            if contact is None or contact_changes(contact, item):
                return False
        return True

    def row_service(self, *, actor, data: dict, existing):
        items = data.pop("contacts", [])
        data.pop("number", None)
        if existing is None:
            customer, pool = customer_create(actor=actor, data=data), []
        else:
            customer, pool = existing, list(existing.contacts.all())
            if not super().is_unchanged(existing, data):
                customer = customer_update(
                    actor=actor, obj=existing, data=data, version=existing.version
                )
        for position, item in enumerate(items, start=1):
            contact = match_contact(pool, item)
            try:
                if contact is None:
                    pool.append(
                        contact_create(actor=actor, data={**item, "customer": customer})
                    )
                elif changes := contact_changes(contact, item):
                    contact_update(
                        actor=actor, obj=contact, data=changes, version=contact.version
                    )
            except (DomainError, ValidationError) as exc:
                raise _contact_error(exc, position) from None
        return customer


class NewCustomers(BulkWriter):
    """New customers of an import in batches (CustomerBatch): each row is checked as
    row_service checks a new customer and its contacts, with the same errors."""

    def __init__(self, *, actor):
        self.batch = CustomerBatch(actor=actor)

    def prefetch(self, rows: list[dict]) -> None:
        self.batch.prefetch(row.get("credit_code") for row in rows)

    def accepts(self, data: dict) -> bool:
        """A row naming the same contact twice updates the one it just created: that
        goes through row_service."""
        items = data.get("contacts", [])
        if len(items) < 2:
            return True
        pool: list = []
        for item in items:
            if match_contact(pool, item) is not None:
                return False
            pool.append(Contact(name=item.get("name"), mobile=item.get("mobile", "")))
        return True

    def add(self, data: dict) -> None:
        data = dict(data)  # kept as it is, for row_service if the batch is refused
        items = data.pop("contacts", [])
        data.pop("number", None)
        customer = self.batch.customer(data)
        contacts: list[Contact] = []
        for position, item in enumerate(items, start=1):
            try:
                contacts.append(
                    self.batch.contact(customer, item, has_primary=bool(contacts))
                )
            except (DomainError, ValidationError) as exc:
                raise _contact_error(exc, position) from None
        self.batch.add(customer, contacts)

    def write(self) -> list[Customer]:
        return self.batch.write()

    def forget(self) -> None:
        self.batch.forget()


def _number_problem(number: str) -> str:
    clash = Customer.objects.filter(number=number).first()
    if clash is None:
        return _(
            "No customer has the number %(number)s; leave it empty for a new customer "
            "(it gets the next number)."
        ) % {"number": number}
    if clash.is_deleted:
        return _("Customer %(number)s is in the recycle bin.") % {"number": number}
    return _(
        "Customer number %(number)s belongs to another customer; match on the customer "
        "number to update it."
    ) % {"number": number}


def _contact_error(exc, position: int) -> DomainError:
    """A contact service's error named after the row's columns ("contact 2: mobile")."""
    if isinstance(exc, ValidationError):
        exc = Invalid(
            "; ".join(exc.messages), fields=getattr(exc, "message_dict", None)
        )
    names = {f.name for f in CONTACT_FIELDS}
    group = f"{_('contact')} {position}"
    fields: dict[str, list[str]] = {}
    for name, messages in (exc.fields or {"": [exc.message]}).items():
        key = f"contacts.{position}.{name}" if name in names else group
        fields.setdefault(key, []).extend(str(m) for m in messages)
    return type(exc)(exc.message, fields=fields)
