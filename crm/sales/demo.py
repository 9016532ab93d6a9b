"""Demo sales history (S1–S8): a year of leads, opportunities, quotes, contracts, orders,
receipts and commissions up to today, over the demo customers and their owners; six
competitors, commission rules, monthly targets for 2026 and a few company announcements.

The history is planned in memory from a fixed seed, one deal at a time (lead →
opportunity → quote and revisions → contract and payment plan → call-off orders →
receipts, or a direct order for small deals, plus repeat orders of spare parts), then
numbered in date order from the documents' sequences and written with bulk_create.
It is written through the models, not the services, for speed, but it keeps every rule
the services enforce: line and document money from crm.sales.pricing; plans adding up
to the contract total; `Instalment.received` equal to its posted receipts; instalments
open only for active or completed contracts and confirmed or completed direct orders;
call-off quantities within the contract; delivery status matching the delivered
quantities; approvals by someone else than the owner, holding the permission and seeing
the record; an order taking its customer over the credit limit only with a recorded
override; dates in order (quote, contract, order, receipt; closed after created).

Idempotent: competitors, rules and announcements are found by name, targets and
commission periods by their period; the history itself has no natural key (its numbers
come from sequences) and is one consistent whole (credit exposure, commissions), so it
is loaded once, into a database without sales documents, and skipped afterwards.
"""

import datetime
import random
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from faker import Faker

from crm.core.money import round_money
from crm.core.numbering import next_number
from crm.core.params import get_param
from crm.customers.models import Contact, Customer
from crm.customers.naming import name_initials
from crm.org import models as org_models
from crm.org.models import Department, User
from crm.products.models import Category, PriceList, Product
from crm.sales.models import (
    CommissionPeriod,
    CommissionRule,
    Competitor,
    Contract,
    ContractLine,
    Instalment,
    Lead,
    LeadFollowUp,
    Opportunity,
    OpportunityProduct,
    Payment,
    Quote,
    QuoteLine,
    SalesOrder,
    SalesOrderLine,
    SalesTarget,
    Stage,
    StageChange,
)
from crm.sales.pricing import apply_line_amounts, document_totals
from crm.sales.services.commissions import (
    commission_period_close,
    commission_period_compute,
)

SEED = 2026
DAY = datetime.timedelta(days=1)
HUNDRED = Decimal(100)
SALES_ROLES = ("销售代表", "销售经理")
OPPORTUNITIES = 400
CONVERTED_LEADS = 110
# Leads that did not become opportunities, by status.
OTHER_LEADS = {
    Lead.Status.NEW: 45,
    Lead.Status.CONTACTED: 55,
    Lead.Status.QUALIFIED: 35,
    Lead.Status.DISQUALIFIED: 55,
}
UNASSIGNED_LEADS = 8  # new web-form leads nobody has been given yet
REPEAT_ORDERS = 190  # spare parts, consumables, training: direct orders
TERMINATED_CONTRACTS = 4
VOIDED_RECEIPTS = 6
DIRECT_DEAL_LIMIT = Decimal(30000)  # won deals below this go straight to an order

LS, OS, QS, CS = Lead.Status, Opportunity.Status, Quote.Status, Contract.Status
SO, DS, PS = SalesOrder.Status, SalesOrder.Delivery, Payment.Status

# name, website, strengths, weaknesses, notes, themes they compete in
COMPETITORS = [
    (
        "深圳汇智自动化技术有限公司",
        "https://www.huizhi-auto.com.cn",
        "PLC、变频器价格比我们低 10%–15%；华南网点密，交期一周以内；"
        "渠道返点高，经销商积极性强。",
        "高端运动控制和机器视觉产品线薄弱；编程软件生态弱，大项目交付经验少。",
        "华南市场主要对手，常以低价切入中小客户。",
        ("产线自动化改造", "变频节能改造", "伺服系统升级"),
    ),
    (
        "南京埃斯特机器人股份有限公司",
        "https://www.aisite-robot.com",
        "六轴机器人产品线全，焊接、码垛工艺包成熟；上市公司，品牌背书强。",
        "协作机器人起步晚；非标集成项目依赖合作伙伴，售后响应偏慢。",
        "机器人工作站项目的主要对手，常联合本地集成商投标。",
        ("机器人工作站",),
    ),
    (
        "杭州中控捷达科技有限公司",
        "https://www.zkjieda.com",
        "流程行业 DCS 与 MES 案例多，与设计院关系深；软件团队规模大。",
        "离散制造经验少；硬件多为外购，价格不透明；实施周期长。",
        "MES 和数据采集项目常见，化工、水务客户中优势明显。",
        ("MES系统实施", "设备数据采集", "仪表更新改造"),
    ),
    (
        "博远工业自动化（中国）有限公司",
        "https://www.boyuan-automation.cn",
        "德国品牌，可靠性和品牌认可度高；外资客户和汽车行业指定品牌。",
        "价格高 20% 以上；交期 8–12 周；定制需求响应慢，小客户服务覆盖不足。",
        "外资背景客户首选，我们以交期和本地服务取胜。",
        ("产线自动化改造", "伺服系统升级", "机器人工作站", "工业网络升级"),
    ),
    (
        "无锡信捷达电气有限公司",
        "https://www.xinjieda.com",
        "小型 PLC 与触摸屏性价比高，OEM 设备厂商中占有率高；备件便宜。",
        "中大型 PLC 与冗余方案缺失；技术支持以电话为主，现场服务少。",
        "OEM 小批量订单的价格对手。",
        ("产线自动化改造", "工业网络升级", "变频节能改造"),
    ),
    (
        "苏州视觉智联科技有限公司",
        "https://www.vision-link.cn",
        "深度学习缺陷检测算法强，3C 行业案例多；方案演示效果好。",
        "硬件依赖进口相机，交期不稳；公司规模小，大项目资金和交付能力有限。",
        "视觉检测项目中报价灵活，常以试点项目切入。",
        ("机器视觉检测", "仪表更新改造"),
    ),
]

LEGAL_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "公司")
# theme (opportunity name suffix), product categories, weight
THEMES = [
    ("产线自动化改造", ("可编程控制器", "人机界面", "变频器"), 14),
    ("伺服系统升级", ("伺服系统", "运动控制器"), 12),
    ("机器人工作站", ("机器人本体", "机器人配件"), 7),
    ("机器视觉检测", ("机器视觉", "传感器"), 8),
    ("设备数据采集", ("边缘计算", "仪器仪表"), 8),
    ("MES系统实施", ("技术服务", "边缘计算"), 3),
    ("年度维保服务", ("维保合同",), 6),
    ("仪表更新改造", ("仪器仪表", "传感器"), 8),
    ("变频节能改造", ("变频器", "电源与低压电器"), 8),
    ("工业网络升级", ("合作品牌设备", "线缆", "连接器与端子"), 6),
]
ADD_ONS = ("培训课程", "技术服务")
REPEAT_CATEGORIES = (
    ("易损备件", 6),
    ("连接器与端子", 4),
    ("线缆", 3),
    ("电源与低压电器", 5),
    ("传感器", 5),
    ("培训课程", 2),
    ("技术服务", 2),
    ("合作品牌设备", 3),
)
REPEAT_NOTES = ("年度备件补货", "产线检修备件", "设备大修用料", "", "", "")
STAGE_STEPS = (
    "安排技术交流，了解现场工况",
    "提交技术方案，约客户技术负责人评审",
    "报价已发，跟进客户反馈",
    "商务谈判，确认付款条件与交期",
)
WON_REASONS = (
    "技术方案领先，客户认可",
    "性价比高，综合成本低",
    "本地服务响应快",
    "老客户复购，合作基础好",
    "交期有保障",
    "样板线案例打动客户",
)
# reason, whether a competitor won it
LOST_REASONS = (
    ("价格高于竞争对手", True),
    ("客户预算削减，项目取消", False),
    ("技术方案未通过客户评审", True),
    ("交期无法满足客户要求", True),
    ("客户选择了原有供应商", True),
    ("项目延期至明年", False),
)
DISQUALIFY_REASONS = (
    "无实际采购需求",
    "预算不足，项目搁置",
    "联系方式无效，多次联系不上",
    "同行询价",
    "重复线索",
    "已选定其他供应商",
)
CAMPAIGNS = (
    "2026中国国际工业博览会（上海）",
    "华南智能制造展（深圳）",
    "伺服系统新品发布会",
    "机器视觉应用线上研讨会",
    "老客户答谢会",
)
PARTNERS = ("苏州恒远系统集成", "广州博控自动化", "成都蜀能电气", "济南泉城工控")
FOLLOW_UPS = (
    ("call", "电话沟通，客户正在评估{theme}方案，约下周详谈。"),
    ("visit", "上门拜访，查看现场设备，记录了改造需求。"),
    ("email", "发送产品资料和成功案例。"),
    ("wechat", "微信沟通，客户关心交期和售后服务。"),
    ("meeting", "与客户技术部开会，初步确认{theme}的技术要求。"),
)
JOB_TITLES = ("设备经理", "采购经理", "技术总监", "生产厂长", "项目经理", "总经理")
REJECT_NOTES = (
    "折扣超出权限，请控制在 10% 以内后重新提交",
    "毛利过低，请调整方案",
)
APPROVE_NOTES = ("同意，重点客户", "同意，注意回款", "", "同意")
CONTRACT_REJECT_NOTES = ("付款条件需调整为 30% 预付款", "请补充质保条款")
TERMINATION_REASONS = (
    "客户项目取消，双方协商解除合同",
    "客户经营困难，无法按期付款",
    "客户需求变更，另行签约",
    "客户资金链紧张，协商终止",
)
CANCEL_REASONS = (
    "客户取消采购计划",
    "下单重复，作废",
    "客户改为分批采购，重新下单",
    "规格选错，重新下单",
)
OVERRIDE_REASONS = (
    "老客户，历史回款及时，总经理同意放行",
    "客户已承诺月底前回款，特批发货",
    "战略客户，额度调整申请审批中",
)
VOID_REASONS = (
    "金额录入错误，已重新登记",
    "付款单位录错，已重新登记",
)
PAY_METHODS = (
    (Payment.Method.BANK, 70),
    (Payment.Method.ACCEPTANCE, 12),
    (Payment.Method.ONLINE, 8),
    (Payment.Method.CHEQUE, 5),
    (Payment.Method.CASH, 3),
    (Payment.Method.OTHER, 2),
)
QUOTE_TERMS = (
    "1. 报价含增值税（货物 13%，服务 6%）。\n2. 报价有效期 30 天。\n"
    "3. 交货期：合同签订后 2–4 周。\n4. 运费由我方承担。"
)
CONTRACT_TERMS = (
    "1. 交货：合同生效后 30 日内发货，分批交货以订单为准。\n"
    "2. 付款：按付款计划执行，逾期按日万分之五计付违约金。\n"
    "3. 质保：验收合格后 12 个月。\n4. 争议：协商不成的，提交甲方所在地人民法院诉讼解决。"
)
# name, [(note, percent, days after signing)], for contract totals from (inclusive)
PLANS = {
    "full": [("全款", 100, 30)],
    "two": [("预付款", 30, 7), ("发货款", 70, 45)],
    "three": [("预付款", 30, 7), ("到货款", 60, 60), ("验收款", 10, 120)],
    "retention": [("预付款", 30, 7), ("到货款", 60, 60), ("质保金", 10, 365)],
    "quarterly": [
        ("第一季度服务费", 25, 7),
        ("第二季度服务费", 25, 97),
        ("第三季度服务费", 25, 187),
        ("第四季度服务费", 25, 277),
    ],
}
ANNOUNCEMENTS = [
    (
        "2026年度销售冲刺动员：四季度目标与激励政策",
        "各销售单位：四季度是全年冲刺的关键时期。集团对四季度新签合同额超额完成目标的"
        "个人，在标准提成基础上另加 1% 奖励；工业机器人产品按 4% 计提提成。请各分公司"
        "按周跟进商机推进与回款情况。",
        True,
        20,
    ),
    (
        "关于加强应收账款管理的通知",
        "财务部每周一发布应收账款账龄表。逾期 60 天以上的款项，由销售经理牵头制定催收"
        "计划；超过信用额度的客户，新订单须经销售经理审批并注明原因。",
        False,
        45,
    ),
    (
        "HX-R6 六轴机器人新规格上市",
        "负载 50kg 的 HX-R6 六轴工业机器人即日起接受订货，交期 6 周，首批客户赠送一次"
        "上门调试服务。价格见 2026 年标准价表。",
        False,
        75,
    ),
    (
        "2026年中国国际工业博览会参展安排",
        "集团将于 9 月参加中国国际工业博览会（上海），展位号 5.1H-A012。展会期间收集的"
        "线索将统一录入系统并按区域分配，请各办事处提前预约重点客户参观。",
        False,
        100,
    ),
]


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _short_name(name: str) -> str:
    """A company name without its legal form, as a project title uses it."""
    for form in LEGAL_FORMS:
        if name.endswith(form) and len(name) > len(form) + 1:
            return name.removesuffix(form)
    return name


def _months(first: datetime.date, last: datetime.date):
    """The first day of every month from `first`'s to `last`'s."""
    day = first.replace(day=1)
    while day <= last:
        yield day
        day = (day + datetime.timedelta(days=32)).replace(day=1)


def _month_end(first: datetime.date) -> datetime.date:
    return (first + datetime.timedelta(days=32)).replace(day=1) - DAY


class _History:
    """Plans one consistent year of sales documents in memory, then writes them."""

    def __init__(self, rng: random.Random, fake: Faker, competitors: list):
        self.rng, self.fake = rng, fake
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.start = self.today - datetime.timedelta(days=365)
        self.threshold = Decimal(get_param("quote_discount_approval_percent"))
        self.competitors = competitors
        self._reference()
        self.leads, self.follow_ups = [], []
        self.opportunities, self.opportunity_products = [], []
        self.stage_changes, self.opportunity_competitors = [], []
        self.quotes, self.contracts, self.orders = [], [], []
        self.instalments, self.payments = [], []

    # Reference data

    def _reference(self) -> None:
        stages = list(Stage.objects.filter(is_active=True).order_by("sort_order", "pk"))
        self.open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
        self.won_stage = next(s for s in stages if s.kind == Stage.Kind.WON)
        self.lost_stage = next(s for s in stages if s.kind == Stage.Kind.LOST)
        roles = defaultdict(set)
        through = User.groups.through
        for user_id, name in through.objects.values_list("user_id", "group__name"):
            roles[user_id].add(name)
        self.roles = roles
        users = {
            u.username: u
            for u in User.objects.filter(is_active=True).select_related("department")
        }
        self.users_by_id = {u.pk: u for u in users.values()}
        self.director = users.get("sales_director")
        self.finance = users.get("finance") or users.get("admin")
        self.staff = {
            u.pk: u
            for u in users.values()
            if roles[u.pk] & set(SALES_ROLES) and u.department_id
        }
        self.customers = list(
            Customer.objects.filter(
                owner_id__in=list(self.staff),
                deleted_at__isnull=True,
                merged_into__isnull=True,
            ).order_by("pk")
        )
        for customer in self.customers:
            customer.since = timezone.localdate(customer.created_at)
        self.contacts = defaultdict(list)
        for contact in (
            Contact.objects.filter(customer__in=self.customers)
            .only("pk", "customer_id", "name", "mobile")
            .order_by("-is_primary", "pk")
        ):
            self.contacts[contact.customer_id].append(contact)
        self.regions = defaultdict(list)
        for customer in self.customers:
            if customer.region_id:
                self.regions[customer.owner_id].append(customer.region_id)
        self.customer_names = {c.name for c in self.customers}
        self.products = defaultdict(list)
        for product in Product.objects.filter(
            status=Product.Status.ACTIVE, list_price__gt=0
        ).select_related("category__parent__parent"):
            category = product.category
            while category is not None:
                self.products[category.name].append(product)
                category = category.parent
        for items in self.products.values():
            items.sort(key=lambda p: p.code)
        self.standard_prices = PriceList.objects.filter(name="2026年标准价").first()
        self.profiles = {}

    def is_manager(self, user) -> bool:
        return "销售经理" in self.roles[user.pk]

    def approver(self, owner):
        """Who approves the owner's discounts and contracts: their manager when the
        manager's department tree holds the owner, else the sales director."""
        boss = self.users_by_id.get(owner.supervisor_id)
        if (
            boss is not None
            and boss.pk != owner.pk
            and self.is_manager(boss)
            and boss.department_id
            and owner.department.path.startswith(boss.department.path)
        ):
            return boss
        return self.director or owner

    # Helpers

    def at(self, day: datetime.date, after=None) -> datetime.datetime:
        """A working-hours moment of `day`, later than `after`, never in the future."""
        moment = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(9))
        ) + datetime.timedelta(minutes=self.rng.randrange(0, 540))
        if after is not None and moment <= after:
            moment = after + datetime.timedelta(minutes=self.rng.randint(10, 90))
        return min(moment, self.now - datetime.timedelta(minutes=1))

    def day_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        if last <= first:
            return first
        return first + datetime.timedelta(days=self.rng.randint(0, (last - first).days))

    def customer(self, profile: dict, before: datetime.date):
        """A customer (weighted by status) registered before `before`."""
        key = tuple(sorted(profile.items()))
        if key not in self.profiles:
            self.profiles[key] = [profile.get(c.status, 0) for c in self.customers]
        weights = self.profiles[key]
        for _attempt in range(60):
            customer = self.rng.choices(self.customers, weights=weights)[0]
            if customer.since < before:
                return customer
        return None

    def contact(self, customer):
        contacts = self.contacts.get(customer.pk)
        return contacts[0] if contacts else None

    def quantity(self, product) -> Decimal:
        price = product.list_price
        if product.type in (Product.Type.SERVICE, Product.Type.TRAINING):
            units = self.rng.randint(1, 4) if price < 20000 else 1
        elif product.unit == "米":
            units = self.rng.choice((100, 200, 300, 500, 1000))
        elif price >= 50000:
            units = self.rng.randint(1, 3)
        elif price >= 5000:
            units = self.rng.randint(1, 8)
        elif price >= 500:
            units = self.rng.randint(2, 30)
        else:
            units = self.rng.randint(10, 200)
        return Decimal(units)

    def pick_products(self, categories, count) -> list:
        pool = sorted(
            {p for name in categories for p in self.products.get(name, [])},
            key=lambda p: p.code,
        )
        return self.rng.sample(pool, min(count, len(pool))) if pool else []

    def fit_to_credit(self, items: list, customer, share: Decimal) -> None:
        """Scale quantities down so the deal stays within `share` of the credit limit
        (a limit of 0 is no limit)."""
        limit = customer.credit_limit
        if not limit:
            return
        estimate = sum(q * p.list_price for p, q in items) * Decimal("1.13")
        if estimate <= limit * share:
            return
        factor = limit * share / estimate
        for index, (product, quantity) in enumerate(items):
            scaled = (quantity * factor).to_integral_value(rounding=ROUND_DOWN)
            items[index] = (product, max(Decimal(1), scaled))

    def tax_rate(self, product) -> Decimal:
        if product.type in (Product.Type.SERVICE, Product.Type.TRAINING):
            return Decimal(6)
        return Decimal(13)

    # Opportunities and leads

    def plan_opportunities(self) -> None:
        rng = self.rng
        lead_flags = [True] * CONVERTED_LEADS + [False] * (
            OPPORTUNITIES - CONVERTED_LEADS
        )
        rng.shuffle(lead_flags)
        themes = [(t, w) for t, _c, w in THEMES]
        categories = {t: c for t, c, _w in THEMES}
        for from_lead in lead_flags:
            day = self.start + datetime.timedelta(days=rng.randint(20, 362))
            age = (self.today - day).days
            if age < 45:
                outcome = _pick(rng, ((OS.OPEN, 90), (OS.WON, 5), (OS.LOST, 5)))
            else:
                outcome = _pick(rng, ((OS.OPEN, 18), (OS.WON, 48), (OS.LOST, 34)))
            profile = (
                {"prospect": 4, "intention": 4, "active": 2}
                if from_lead
                else {
                    "active": 8,
                    "intention": 4,
                    "prospect": 1,
                    "dormant": 1,
                    "lost": 1,
                }
            )
            customer = self.customer(profile, day)
            if customer is None:
                continue
            owner = self.staff[customer.owner_id]
            theme = _pick(rng, themes)
            items = [
                (p, self.quantity(p))
                for p in self.pick_products(categories[theme], rng.randint(1, 3))
            ]
            if rng.random() < 0.35 and theme != "年度维保服务":
                items += [(p, self.quantity(p)) for p in self.pick_products(ADD_ONS, 1)]
            if not items:
                continue
            self.fit_to_credit(items, customer, Decimal("0.5"))
            opportunity = Opportunity(
                name=f"{_short_name(customer.name)}{theme}项目"[:200],
                customer=customer,
                contact=self.contact(customer),
                stage=self.open_stages[0],
                status=OS.OPEN,
                source="",
                description=(
                    f"客户计划{theme}，关注"
                    + "、".join(p.name for p, _q in items[:3])
                    + "。"
                ),
                owner=owner,
                department_id=owner.department_id,
            )
            opportunity.created_at = self.at(day)
            opportunity.theme, opportunity.items = theme, items
            opportunity.from_lead = from_lead
            self._stage_path(opportunity, outcome)
            opportunity.amount = round_money(
                sum((q * p.list_price for p, q in items), Decimal(0)), "quote"
            )
            self.opportunities.append(opportunity)
            for product, quantity in items:
                self.opportunity_products.append(
                    OpportunityProduct(
                        opportunity=opportunity,
                        product=product,
                        quantity=quantity,
                        unit_price=product.list_price,
                    )
                )
            self._competition(opportunity)

    def _stage_path(self, opportunity, outcome) -> None:
        """The stages the opportunity went through, with their days."""
        rng = self.rng
        day = opportunity.created_at.date()
        age = (self.today - day).days
        if outcome == OS.OPEN:
            reached = rng.choice((0, 0, 1, 1, 2, 2, 3))
            reached = min(3, reached + (age > 150 and rng.random() < 0.5))
            path = list(range(reached + 1))
            end = day + datetime.timedelta(days=int(age * rng.uniform(0.3, 0.9)))
        else:
            cycle = rng.randint(min(20, age - 2), min(150, age - 2))
            end = day + datetime.timedelta(days=max(cycle, 1))
            if outcome == OS.WON:
                path = [0, 2, 3] if rng.random() < 0.2 else [0, 1, 2, 3]
            else:
                path = list(range(_pick(rng, ((0, 3), (1, 3), (2, 3), (3, 1))) + 1))
            if outcome == OS.WON and (end - day).days < 8:
                outcome, path = OS.OPEN, [0, 1, 2]
        end = min(end, self.today - DAY)
        gaps = [rng.uniform(0.4, 1.0) for _step in path[1:]] + [rng.uniform(0.2, 0.6)]
        total, passed = sum(gaps), 0.0
        span = max((end - day).days, 0)
        days = [day]
        for gap in gaps[:-1]:
            passed += gap
            days.append(day + datetime.timedelta(days=int(span * passed / total)))
        opportunity.path = path
        opportunity.stage_days = dict(zip(path, days, strict=True))
        opportunity.outcome = outcome
        opportunity.end_day = end if outcome != OS.OPEN else days[-1]
        opportunity.stage = self.open_stages[path[-1]]
        if outcome == OS.OPEN:
            draw = rng.random()
            if draw < 0.12:  # overdue: the rep has not updated it
                close = self.today - datetime.timedelta(days=rng.randint(3, 25))
            elif draw < 0.35:
                close = self.today + datetime.timedelta(days=rng.randint(0, 30))
            else:
                close = self.today + datetime.timedelta(days=rng.randint(31, 150))
            opportunity.expected_close_on = close
            opportunity.next_step = STAGE_STEPS[path[-1]]
        previous, moment = None, opportunity.created_at
        opportunity.changes = []
        for index in path:
            moment = (
                opportunity.created_at
                if previous is None
                else self.at(opportunity.stage_days[index], after=moment)
            )
            change = StageChange(
                opportunity=opportunity,
                from_stage=previous,
                to_stage=self.open_stages[index],
                changed_by=opportunity.owner,
            )
            change.changed_at = moment
            opportunity.changes.append(change)
            previous = self.open_stages[index]
        opportunity.stage_changed_at = moment

    def _competition(self, opportunity) -> None:
        rng = self.rng
        rivals = [c for c in self.competitors if opportunity.theme in c.themes]
        chosen = []
        if rivals and rng.random() < 0.55:
            chosen = rng.sample(rivals, min(len(rivals), rng.choice((1, 1, 2))))
        opportunity.rivals = chosen
        for competitor in chosen:
            self.opportunity_competitors.append((opportunity, competitor))

    def close(self, opportunity, moment, *, won: bool) -> None:
        """Won when its contract is approved (or its order confirmed); lost after its
        last quote."""
        rng = self.rng
        moment = max(moment, opportunity.stage_changed_at) + datetime.timedelta(
            minutes=rng.randint(5, 120)
        )
        moment = min(moment, self.now - datetime.timedelta(minutes=1))
        stage = self.won_stage if won else self.lost_stage
        change = StageChange(
            opportunity=opportunity,
            from_stage=opportunity.stage,
            to_stage=stage,
            changed_by=opportunity.owner,
        )
        change.changed_at = moment
        opportunity.changes.append(change)
        opportunity.stage, opportunity.stage_changed_at = stage, moment
        opportunity.status = OS.WON if won else OS.LOST
        opportunity.closed_at = moment
        opportunity.expected_close_on = timezone.localdate(moment)
        opportunity.next_step = ""
        if won:
            opportunity.close_reason = rng.choice(WON_REASONS)
        else:
            reason, to_rival = rng.choice(LOST_REASONS)
            opportunity.close_reason = reason
            if to_rival:
                rivals = opportunity.rivals or [
                    c for c in self.competitors if opportunity.theme in c.themes
                ]
                if rivals:
                    opportunity.lost_to = rng.choice(rivals)
                    if opportunity.lost_to not in opportunity.rivals:
                        opportunity.rivals.append(opportunity.lost_to)
                        self.opportunity_competitors.append(
                            (opportunity, opportunity.lost_to)
                        )

    def plan_leads(self) -> None:
        rng, fake = self.rng, self.fake
        sources = (
            (Lead.Source.CAMPAIGN, 25),
            (Lead.Source.WEB_FORM, 25),
            (Lead.Source.IMPORT, 15),
            (Lead.Source.PARTNER, 12),
            (Lead.Source.REFERRAL, 15),
            (Lead.Source.OTHER, 8),
        )
        for opportunity in self.opportunities:
            if not opportunity.from_lead:
                opportunity.source = _pick(
                    rng, (("referral", 3), ("campaign", 2), ("other", 4), ("", 4))
                )
                continue
            customer, contact = opportunity.customer, opportunity.contact
            source = _pick(rng, sources)
            opportunity.source = source
            created = opportunity.created_at - datetime.timedelta(
                days=rng.randint(3, 30), minutes=rng.randint(0, 600)
            )
            lead = self._lead(source, opportunity.owner, created, opportunity.theme)
            lead.name = contact.name if contact else fake.name()
            lead.mobile = contact.mobile if contact and contact.mobile else lead.mobile
            lead.company = customer.name
            lead.status = LS.CONVERTED
            lead.converted_at = opportunity.created_at
            lead.converted_by = opportunity.owner
            lead.customer, lead.contact, lead.opportunity = (
                customer,
                contact,
                opportunity,
            )
            lead.region_id = customer.region_id
            lead.industry = customer.industry
            lead.next_follow_up_on = None
            lead.updated_at = lead.converted_at
            self._follow_ups(lead, rng.randint(2, 4), lead.converted_at)
        for status, count in OTHER_LEADS.items():
            for index in range(count):
                if status == LS.NEW:
                    created = self.at(
                        self.today - datetime.timedelta(rng.randint(0, 20))
                    )
                else:
                    created = self.at(
                        self.day_between(self.start, self.today - 5 * DAY)
                    )
                source = _pick(rng, sources)
                owner = rng.choice(list(self.staff.values()))
                if status == LS.NEW and index < UNASSIGNED_LEADS:
                    source, owner = Lead.Source.WEB_FORM, None
                theme = _pick(rng, [(t, w) for t, _c, w in THEMES])
                lead = self._lead(source, owner, created, theme)
                lead.status = status
                company = ""
                while not company or company in self.customer_names:
                    company = fake.company()
                lead.company = company
                if status == LS.DISQUALIFIED:
                    lead.disqualify_reason = rng.choice(DISQUALIFY_REASONS)
                    lead.next_follow_up_on = None
                    done = min(
                        self.now, created + datetime.timedelta(days=rng.randint(2, 20))
                    )
                    self._follow_ups(lead, rng.randint(1, 2), done)
                    lead.updated_at = done
                elif status in (LS.CONTACTED, LS.QUALIFIED):
                    count_ = 1 if status == LS.CONTACTED else rng.randint(2, 3)
                    self._follow_ups(lead, count_, self.now)
                    ahead = rng.randint(-5, 14)
                    lead.next_follow_up_on = self.today + datetime.timedelta(ahead)

    def _lead(self, source, owner, created, theme) -> Lead:
        rng, fake = self.rng, self.fake
        name = fake.name()
        lead = Lead(
            name=name,
            job_title=rng.choice(JOB_TITLES),
            mobile=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            email=f"{name_initials(name).lower() or 'info'}{rng.randint(1, 99)}"
            "@example.cn",
            industry=_pick(
                rng,
                (
                    (Customer.Industry.MANUFACTURING, 6),
                    (Customer.Industry.UTILITIES, 1),
                    (Customer.Industry.LOGISTICS, 1),
                    (Customer.Industry.IT, 1),
                    (Customer.Industry.CONSTRUCTION, 1),
                ),
            ),
            source=source,
            source_detail=(
                rng.choice(CAMPAIGNS)
                if source == Lead.Source.CAMPAIGN
                else rng.choice(PARTNERS)
                if source == Lead.Source.PARTNER
                else "官网“联系我们”表单"
                if source == Lead.Source.WEB_FORM
                else ""
            ),
            status=LS.NEW,
            requirement=f"咨询{theme}相关产品与方案，希望了解价格和交期。",
            owner=owner,
            department_id=owner.department_id if owner else None,
            next_follow_up_on=self.today + datetime.timedelta(rng.randint(0, 7)),
        )
        if owner is not None and self.regions[owner.pk]:
            lead.region_id = rng.choice(self.regions[owner.pk])
        if source == Lead.Source.WEB_FORM:
            lead.submitted_ip = (
                f"{rng.choice((116, 117, 183, 221))}.{rng.randint(1, 254)}."
                f"{rng.randint(1, 254)}.{rng.randint(1, 254)}"
            )
        lead.created_at = created
        lead.updated_at = created
        lead.theme = theme
        if owner is not None:
            lead.assigned_at = created + datetime.timedelta(minutes=rng.randint(1, 240))
            lead.assigned_at = min(lead.assigned_at, self.now)
        self.leads.append(lead)
        return lead

    def _follow_ups(self, lead, count: int, until) -> None:
        if lead.owner is None:
            return
        moment = lead.created_at
        span = max((until - moment).total_seconds(), 3600)
        for step in range(count):
            kind, text = self.rng.choice(FOLLOW_UPS)
            moment = lead.created_at + datetime.timedelta(
                seconds=span * (step + self.rng.uniform(0.2, 0.9)) / (count + 1)
            )
            follow_up = LeadFollowUp(
                lead=lead,
                kind=kind,
                occurred_at=moment,
                content=text.format(theme=lead.theme),
                recorded_by=lead.owner,
            )
            follow_up.created_at = moment
            self.follow_ups.append(follow_up)

    # Quotes

    def plan_deals(self) -> None:
        """Quotes for opportunities past 方案报价, and what followed them."""
        rng = self.rng
        open_quote_statuses = [
            QS.DRAFT,
            QS.PENDING_APPROVAL,
            QS.APPROVED,
            QS.SENT,
            QS.REJECTED,
            QS.SENT,
            QS.PENDING_APPROVAL,
            QS.CANCELLED,
        ]
        terminated = 0
        open_index = 0
        for opportunity in sorted(self.opportunities, key=lambda o: o.created_at):
            reached = max(opportunity.path)
            if opportunity.outcome == OS.LOST:
                if reached >= 2:
                    final = _pick(
                        rng, ((QS.DECLINED, 55), (QS.SENT, 30), (QS.CANCELLED, 15))
                    )
                    quote = self._quotes(opportunity, final)
                    moment = self.at(opportunity.end_day, after=quote.updated_at)
                    self.close(opportunity, moment, won=False)
                else:
                    last = opportunity.changes[-1].changed_at
                    moment = self.at(opportunity.end_day, after=last)
                    self.close(opportunity, moment, won=False)
                continue
            if opportunity.outcome == OS.OPEN:
                if reached == 2:
                    status = open_quote_statuses[open_index % len(open_quote_statuses)]
                    open_index += 1
                    self._quotes(opportunity, status)
                elif reached == 3:
                    status = rng.choice((QS.SENT, QS.ACCEPTED))
                    quote = self._quotes(opportunity, status)
                    if status == QS.ACCEPTED:
                        self._draft_contract(quote)
                continue
            quote = self._quotes(opportunity, QS.ACCEPTED)
            if quote.total < DIRECT_DEAL_LIMIT:
                order = self._direct_order_from_quote(quote)
                opportunity.amount = order.amount
                self.close(opportunity, order.confirmed_at, won=True)
                continue
            end_day = opportunity.end_day
            terminate = (
                terminated < TERMINATED_CONTRACTS
                and (self.today - end_day).days > 90
                and rng.random() < 0.15
            )
            terminated += terminate
            contract = self._won_contract(quote, terminate)
            opportunity.amount = contract.amount
            self.close(opportunity, contract.approved_at, won=True)

    def _quote_lines(self, quote, items, discounts) -> list:
        lines = []
        for index, ((product, quantity), discount) in enumerate(
            zip(items, discounts, strict=True), start=1
        ):
            line = QuoteLine(
                quote=quote,
                product=product,
                description=product.specification,
                quantity=quantity,
                unit_price=product.list_price,
                discount_percent=discount,
                tax_rate=self.tax_rate(product),
                sort_order=index,
            )
            apply_line_amounts(line, "quote")
            lines.append(line)
        totals = document_totals(lines)
        quote.amount, quote.tax_amount, quote.total = (
            totals.amount,
            totals.tax_amount,
            totals.total,
        )
        quote.lines_ = lines
        return lines

    def _discounts(self, count: int, *, needs_approval: bool) -> list:
        """Up to the approval threshold; above it on one line when it needs approval."""
        rng = self.rng
        weights = ((0, 20), (2, 10), (3, 15), (5, 25), (8, 15), (10, 15))
        base = min(Decimal(_pick(rng, weights)), self.threshold)
        discounts = [base] * count
        if needs_approval:
            above = self.threshold + rng.choice((2, 5, 8, 10))
            discounts[rng.randrange(count)] = min(above, HUNDRED)
        return discounts

    def _quotes(self, opportunity, final: str):
        """The opportunity's quote, now and then with an earlier revision that was
        superseded; returns the last revision, in status `final`."""
        rng = self.rng
        items = opportunity.items
        quoted_on = opportunity.stage_days[2]
        last_day = (
            opportunity.end_day
            if opportunity.outcome != OS.OPEN
            else max(self.today - DAY, quoted_on)
        )
        days = [quoted_on]
        if (
            final not in (QS.DRAFT, QS.CANCELLED)
            and (last_day - quoted_on).days >= 6
            and rng.random() < 0.12
        ):
            days.append(self.day_between(quoted_on + 3 * DAY, last_day - 2 * DAY))
        if opportunity.outcome == OS.OPEN:
            # What still waits on someone (an approval, the customer, a contract being
            # drafted) is recent; a quote does not wait for months.
            waiting = 10 if final in (QS.DRAFT, QS.PENDING_APPROVAL) else 25
            days[-1] = max(
                days[-1], self.day_between(self.today - waiting * DAY, last_day)
            )
        needs_approval = final in (QS.PENDING_APPROVAL, QS.REJECTED) or (
            rng.random() < 0.2
        )
        after = next(
            c.changed_at
            for c in opportunity.changes
            if c.to_stage == self.open_stages[2]
        )
        quote = previous = None
        for revision, day in enumerate(days, start=1):
            last = revision == len(days)
            quote = Quote(
                title=opportunity.name,
                customer=opportunity.customer,
                contact=opportunity.contact,
                opportunity=opportunity,
                price_list=self.standard_prices if day.year == 2026 else None,
                quoted_on=day,
                valid_until=day + datetime.timedelta(days=30),
                terms=QUOTE_TERMS,
                owner=opportunity.owner,
                department_id=opportunity.department_id,
                revision=revision,
                previous=previous,
            )
            quote.created_at = self.at(day, after=after)
            if previous is None:
                approval = needs_approval if last else rng.random() < 0.3
                discounts = self._discounts(len(items), needs_approval=approval)
            else:  # the revision offers a better price
                discounts = [
                    min(line.discount_percent + rng.choice((0, 2, 3)), self.threshold)
                    if line.discount_percent <= self.threshold
                    else line.discount_percent
                    for line in previous.lines_
                ]
                if needs_approval and max(discounts) <= self.threshold:
                    discounts[0] = self.threshold + 2
                if not needs_approval:
                    discounts = [min(d, self.threshold) for d in discounts]
            self._quote_lines(quote, items, discounts)
            if last:
                self._quote_flow(quote, final, last_day)
            else:
                pending = max(discounts) > self.threshold
                status = rng.choice((QS.SENT, QS.DECLINED) + ((QS.REJECTED,) * pending))
                self._quote_flow(quote, status, days[revision] - DAY)
                quote.status = QS.SUPERSEDED
                quote.version += 1
            self.quotes.append(quote)
            previous, after = quote, quote.updated_at
        return quote

    def _quote_flow(self, quote, status: str, last_day) -> None:
        """Submission, approval, sending and the customer's answer, as far as `status`
        (events no later than `last_day` unless they cannot be)."""
        rng = self.rng
        quote.status = status

        def step(moment, days: int = 0):
            day = timezone.localdate(moment)
            target = day + DAY * days
            if target > last_day:  # what is left of the time, not all on its last day
                target = self.day_between(day, last_day)
            return self.at(target, after=moment)

        moment, version = quote.created_at, 1
        if status == QS.DRAFT or (status == QS.CANCELLED and rng.random() < 0.5):
            if status == QS.CANCELLED:  # cancelled before it was ever submitted
                moment, version = step(moment, rng.randint(0, 5)), 2
            quote.updated_at, quote.version = moment, version
            return
        pending = any(line.discount_percent > self.threshold for line in quote.lines_)
        quote.submitted_by = quote.owner
        moment = quote.submitted_at = step(moment)
        version += 1
        if status != QS.PENDING_APPROVAL:
            if pending:
                moment = step(moment, rng.randint(0, 2))
                quote.decided_by = self.approver(quote.owner)
                quote.decided_at = moment
                version += 1
                if status == QS.REJECTED:
                    quote.decision_note = rng.choice(REJECT_NOTES)
                else:
                    quote.decision_note = rng.choice(APPROVE_NOTES)
            else:  # nothing above the threshold: approved on submission
                quote.decided_at = quote.submitted_at
            if status not in (QS.APPROVED, QS.REJECTED):
                moment = step(moment, rng.randint(0, 2))  # sent
                version += 1
                if status != QS.SENT:  # accepted, declined or cancelled
                    moment = step(moment, rng.randint(1, 20))
                    version += 1
        quote.updated_at, quote.version = moment, version

    # Contracts

    def _contract(self, quote, created) -> Contract:
        contract = Contract(
            title=quote.title,
            customer=quote.customer,
            contact=quote.contact,
            quote=quote,
            opportunity=quote.opportunity,
            currency=quote.currency,
            terms=CONTRACT_TERMS,
            owner=quote.owner,
            department_id=quote.department_id,
            status=CS.DRAFT,
        )
        contract.created_at = created
        contract.updated_at = created
        contract.lines_ = []
        for line in quote.lines_:
            copy = ContractLine(
                contract=contract,
                product=line.product,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
                sort_order=line.sort_order,
            )
            apply_line_amounts(copy, "contract")
            contract.lines_.append(copy)
        totals = document_totals(contract.lines_)
        contract.amount, contract.tax_amount, contract.total = (
            totals.amount,
            totals.tax_amount,
            totals.total,
        )
        contract.instalments_ = []
        contract.orders_ = []
        self.contracts.append(contract)
        return contract

    def _plan(self, contract, signed_on, *, short: bool) -> None:
        """The payment plan: parts of the total by percentage, the last taking the
        remainder, so the plan adds up to the total exactly."""
        total = contract.total
        theme = contract.opportunity.theme if contract.opportunity else ""
        if theme == "年度维保服务" and not short:
            kind = "quarterly"
        elif total < 50000:
            kind = "full"
        elif total < 300000:
            kind = "two"
        elif total < 600000 or short:
            kind = "three"
        else:
            kind = "retention"
        parts = PLANS[kind]
        given = Decimal(0)
        for sequence, (note, percent, days) in enumerate(parts, start=1):
            if sequence == len(parts):
                amount = total - given
            else:
                amount = round_money(total * percent / HUNDRED, "contract")
                given += amount
            instalment = Instalment(
                contract=contract,
                customer=contract.customer,
                owner=contract.owner,
                department_id=contract.department_id,
                sequence=sequence,
                due_on=signed_on + datetime.timedelta(days=days),
                amount=amount,
                note=note,
            )
            instalment.created_at = contract.created_at
            instalment.payments_ = []
            contract.instalments_.append(instalment)
            self.instalments.append(instalment)

    def _draft_contract(self, quote) -> None:
        """An accepted quote of an open deal: a contract being drafted or approved."""
        rng = self.rng
        accepted = timezone.localdate(quote.updated_at)
        day = self.day_between(accepted, min(accepted + 5 * DAY, self.today - DAY))
        contract = self._contract(quote, self.at(day, after=quote.updated_at))
        pending = rng.random() < 0.5
        if pending or rng.random() < 0.6:
            self._plan(contract, day + 3 * DAY, short=False)
        if pending:
            contract.status = CS.PENDING_APPROVAL
            contract.submitted_by = contract.owner
            contract.submitted_at = self.at(day, after=contract.created_at)
            contract.updated_at = contract.submitted_at
            contract.version = 2
        elif rng.random() < 0.3 and contract.instalments_:
            contract.decision_note = rng.choice(CONTRACT_REJECT_NOTES)
            contract.version = 3
            contract.updated_at = self.at(day, after=contract.created_at)

    def _won_contract(self, quote, terminate: bool) -> Contract:
        """The contract of a won deal: approved on the day the deal was won, then
        called off, collected, and completed when everything is delivered and paid."""
        rng = self.rng
        opportunity = quote.opportunity
        accepted = timezone.localdate(quote.updated_at)
        won_day = max(opportunity.end_day, accepted + DAY)
        created_day = self.day_between(accepted, won_day)
        contract = self._contract(quote, self.at(created_day, after=quote.updated_at))
        contract.submitted_by = contract.owner
        contract.submitted_at = self.at(created_day, after=contract.created_at)
        contract.approved_by = self.approver(contract.owner)
        contract.approved_at = self.at(won_day, after=contract.submitted_at)
        contract.decision_note = rng.choice(APPROVE_NOTES)
        signed = timezone.localdate(contract.approved_at)
        contract.signed_on = contract.start_on = signed
        contract.end_on = signed + datetime.timedelta(days=364)
        contract.status = CS.ACTIVE
        contract.version = 3
        contract.updated_at = contract.approved_at
        can_complete = (self.today - signed).days > 75 and rng.random() < 0.8
        self._plan(contract, signed, short=can_complete)
        for instalment in contract.instalments_:
            instalment.open_at = contract.approved_at
            instalment.is_open = True
        if terminate:
            self._terminate(contract)
            return contract
        if can_complete and all(
            i.due_on <= self.today - 12 * DAY for i in contract.instalments_
        ):
            self._complete(contract)
        else:
            self._call_off(contract)
            for instalment in contract.instalments_:
                self.collect(instalment, timezone.localdate(contract.approved_at))
        return contract

    def _terminate(self, contract) -> None:
        """Terminated after a few weeks: nothing of its plan received in full, so no
        instalment is a receivable any more."""
        rng = self.rng
        approved = timezone.localdate(contract.approved_at)
        ended = self.day_between(
            approved + 20 * DAY, min(approved + 60 * DAY, self.today - DAY)
        )
        first = contract.instalments_[0]
        if rng.random() < 0.5:
            part = (first.amount * rng.randint(30, 60) / HUNDRED).quantize(
                Decimal(100), rounding=ROUND_DOWN
            )
            if 0 < part < first.amount:
                day = self.day_between(approved, ended - DAY)
                self.receipt(first, part, day)
        contract.status = CS.TERMINATED
        contract.termination_reason = rng.choice(TERMINATION_REASONS)
        contract.ended_at = self.at(
            ended, after=max([contract.approved_at, *self._paid_times(contract)])
        )
        contract.updated_at = contract.ended_at
        contract.version += 1
        for instalment in contract.instalments_:
            instalment.is_open = False
            instalment.closed_at = contract.ended_at

    def _paid_times(self, contract) -> list:
        return [p.created_at for i in contract.instalments_ for p in i.payments_]

    def _complete(self, contract) -> None:
        """Everything ordered, delivered and paid; completed a few days after the last
        of it, else still active."""
        rng = self.rng
        approved = timezone.localdate(contract.approved_at)
        parts = 1 if rng.random() < 0.6 else 2
        last = approved
        for index in range(parts):
            ordered = self.day_between(
                last + DAY, min(last + 25 * DAY, self.today - 20 * DAY)
            )
            ordered = max(ordered, approved)
            share = [
                (line, self._portion(line.quantity, index, parts))
                for line in contract.lines_
            ]
            order = self._contract_order(contract, ordered, share)
            if order is None:
                continue
            self._order_status(order, SO.COMPLETED, latest=self.today - 5 * DAY)
            last = order.delivered_on or ordered
        for instalment in contract.instalments_:
            day = instalment.due_on + datetime.timedelta(days=rng.randint(-5, 15))
            day = min(max(day, approved), self.today - 3 * DAY)
            self.receipt(instalment, instalment.amount, day)
        moments = [
            *self._paid_times(contract),
            *(
                self.at(o.delivered_on, after=o.confirmed_at)
                for o in contract.orders_
                if o.delivered_on
            ),
        ]
        ended = max(timezone.localdate(m) for m in moments) + datetime.timedelta(
            days=rng.randint(1, 7)
        )
        if ended >= self.today:
            return
        contract.status = CS.COMPLETED
        contract.ended_at = self.at(ended, after=max(moments))
        contract.updated_at = contract.ended_at
        contract.version += 1

    def _portion(self, quantity: Decimal, index: int, parts: int) -> Decimal:
        """Call-off `index` of `parts` of a line quantity (integers, adding up)."""
        units = int(quantity)
        base, rest = divmod(units, parts)
        return Decimal(base + (1 if index < rest else 0))

    def _call_off(self, contract) -> None:
        """An active contract's orders: some of it delivered, some still to come."""
        rng = self.rng
        approved = timezone.localdate(contract.approved_at)
        if (self.today - approved).days < 4:
            return
        share = rng.choice((Decimal(1), Decimal(1), Decimal("0.6"), Decimal("0.4")))
        parts = rng.choice((1, 1, 2, 3))
        wanted = [
            (line, (line.quantity * share).to_integral_value(rounding=ROUND_DOWN))
            for line in contract.lines_
        ]
        day = approved
        for index in range(parts):
            ordered = self.day_between(day + DAY, min(day + 30 * DAY, self.today - DAY))
            ordered = max(ordered, approved)
            portions = [
                (line, self._portion(quantity, index, parts))
                for line, quantity in wanted
            ]
            order = self._contract_order(contract, ordered, portions)
            if order is None:
                continue
            age = (self.today - ordered).days
            if index == parts - 1 and age < 40:
                status = _pick(
                    rng,
                    ((SO.DRAFT, 2), (SO.CONFIRMED, 5), (SO.COMPLETED, 3)),
                )
            else:
                status = SO.COMPLETED if age > 20 else SO.CONFIRMED
            self._order_status(order, status)
            day = ordered
        if rng.random() < 0.08 and contract.orders_:  # a call-off cancelled, redone
            first = contract.orders_[0]
            portions = [(line.contract_line, line.quantity) for line in first.lines_]
            order = self._contract_order(contract, first.ordered_on, portions)
            if order is not None:
                self._order_status(order, SO.CANCELLED)

    # Orders

    def _order(self, customer, owner, ordered: datetime.date, contract=None):
        order = SalesOrder(
            customer=customer,
            contact=self.contact(customer),
            contract=contract,
            ordered_on=ordered,
            delivery_due_on=ordered + datetime.timedelta(days=self.rng.randint(7, 30)),
            shipping_address=customer.address,
            owner=owner,
            department_id=owner.department_id,
        )
        order.created_at = self.at(
            ordered, after=contract.approved_at if contract else None
        )
        order.updated_at = order.created_at
        order.lines_ = []
        order.instalment_ = None
        self.orders.append(order)
        return order

    def _price_order(self, order) -> None:
        for line in order.lines_:
            apply_line_amounts(line, "order")
        totals = document_totals(order.lines_)
        order.amount, order.tax_amount, order.total = (
            totals.amount,
            totals.tax_amount,
            totals.total,
        )

    def _contract_order(self, contract, ordered, portions: list):
        """A call-off order of (contract line, quantity) pairs."""
        lines = [(line, q) for line, q in portions if q > 0]
        if not lines:
            return None
        order = self._order(contract.customer, contract.owner, ordered, contract)
        for index, (line, quantity) in enumerate(lines, start=1):
            order.lines_.append(
                SalesOrderLine(
                    order=order,
                    contract_line=line,
                    product=line.product,
                    description=line.description,
                    quantity=quantity,
                    unit_price=line.unit_price,
                    discount_percent=line.discount_percent,
                    tax_rate=line.tax_rate,
                    sort_order=index,
                )
            )
        self._price_order(order)
        contract.orders_.append(order)
        return order

    def _direct_order(self, customer, owner, ordered, items) -> SalesOrder:
        order = self._order(customer, owner, ordered)
        order.payment_due_on = ordered + datetime.timedelta(
            days=self.rng.choice((15, 30, 30, 30, 45, 60))
        )
        for index, (product, quantity, discount, tax) in enumerate(items, start=1):
            order.lines_.append(
                SalesOrderLine(
                    order=order,
                    product=product,
                    description=product.specification,
                    quantity=quantity,
                    unit_price=product.list_price,
                    discount_percent=discount,
                    tax_rate=tax,
                    sort_order=index,
                )
            )
        self._price_order(order)
        return order

    def _direct_order_from_quote(self, quote) -> SalesOrder:
        """A small won deal: the accepted quote becomes a direct order."""
        accepted = timezone.localdate(quote.updated_at)
        day = self.day_between(accepted, min(accepted + 5 * DAY, self.today - DAY))
        items = [
            (line.product, line.quantity, line.discount_percent, line.tax_rate)
            for line in quote.lines_
        ]
        order = self._direct_order(quote.customer, quote.owner, day, items)
        order.created_at = order.updated_at = self.at(day, after=quote.updated_at)
        order.notes = f"根据报价单 {quote.title} 下单"
        age = (self.today - day).days
        status = SO.COMPLETED if age > 25 else rng_status(self.rng, age)
        if status in (SO.DRAFT, SO.CANCELLED):
            status = SO.CONFIRMED
        self._order_status(order, status)
        return order

    def plan_repeat_orders(self) -> None:
        """Spare parts, consumables and training bought without a quote."""
        rng = self.rng
        profile = {"active": 10, "dormant": 1, "intention": 1}
        for _index in range(REPEAT_ORDERS):
            # From before the year, so that its first months have receipts too.
            day = self.day_between(self.start - 45 * DAY, self.today)
            customer = self.customer(profile, day)
            if customer is None:
                continue
            owner = self.staff[customer.owner_id]
            category = _pick(rng, REPEAT_CATEGORIES)
            products = self.pick_products((category,), rng.randint(1, 4))
            items = [(p, self.quantity(p)) for p in products]
            self.fit_to_credit(items, customer, Decimal("0.25"))
            discount = Decimal(rng.choice((0, 0, 3, 5)))
            order = self._direct_order(
                customer,
                owner,
                day,
                [(p, q, discount, self.tax_rate(p)) for p, q in items],
            )
            order.notes = rng.choice(REPEAT_NOTES)
            self._order_status(order, rng_status(rng, (self.today - day).days))

    def _order_status(self, order, status, latest=None) -> None:
        """Confirmation, deliveries (line quantities and the delivery status agree),
        cancellation; a direct order's instalment from its confirmation."""
        rng = self.rng
        latest = latest or self.today
        order.status, order.delivery_status = status, DS.PENDING
        order.version = 1
        if status == SO.DRAFT:
            return
        confirmed = rng.random() < 0.5 if status == SO.CANCELLED else True
        if confirmed:
            order.confirmed_at = self.at(order.ordered_on, after=order.created_at)
            order.updated_at = order.confirmed_at
            order.version = 2
            if order.contract is None:
                self._order_instalment(order)
        if status == SO.CANCELLED:
            order.cancel_reason = rng.choice(CANCEL_REASONS)
            order.updated_at = self.at(
                self.day_between(
                    order.ordered_on, min(order.ordered_on + 5 * DAY, latest)
                ),
                after=order.updated_at,
            )
            order.version += 1
            if order.instalment_ is not None:
                order.instalment_.is_open = False
                order.instalment_.closed_at = order.updated_at
            return
        if status == SO.COMPLETED:
            day = self.day_between(
                order.ordered_on + 2 * DAY,
                min(order.ordered_on + 20 * DAY, latest),
            )
            day = max(min(day, latest), order.ordered_on)
            for line in order.lines_:
                line.delivered_quantity = line.quantity
            order.delivery_status, order.delivered_on = DS.DELIVERED, day
            order.updated_at = self.at(day, after=order.confirmed_at)
            order.version += 1
        elif rng.random() < 0.4:  # confirmed, partly delivered
            first = order.lines_[0]
            if len(order.lines_) > 1:
                first.delivered_quantity = first.quantity
            elif first.quantity > 1:
                first.delivered_quantity = (first.quantity / 2).to_integral_value(
                    rounding=ROUND_DOWN
                )
            if first.delivered_quantity:
                order.delivery_status = DS.PARTIAL
                order.version += 1
        if order.contract is None:
            self.collect(order.instalment_, order.ordered_on)

    def _order_instalment(self, order) -> None:
        instalment = Instalment(
            order=order,
            customer=order.customer,
            owner=order.owner,
            department_id=order.department_id,
            sequence=1,
            due_on=order.payment_due_on,
            amount=order.total,
            is_open=True,
        )
        instalment.created_at = order.confirmed_at
        instalment.open_at = order.confirmed_at
        instalment.payments_ = []
        order.instalment_ = instalment
        self.instalments.append(instalment)

    # Receipts

    def receipt(self, instalment, amount: Decimal, day: datetime.date):
        rng = self.rng
        day = min(day, self.today)
        payment = Payment(
            instalment=instalment,
            customer=instalment.customer,
            owner=instalment.owner,
            department_id=instalment.department_id,
            amount=amount,
            received_on=day,
            method=_pick(rng, PAY_METHODS),
            recorded_by=self.finance,
            status=PS.POSTED,
        )
        if payment.method in (Payment.Method.BANK, Payment.Method.ACCEPTANCE):
            payment.reference = f"{day:%Y%m%d}{rng.randrange(10**10):010d}"
        payment.created_at = self.at(day, after=getattr(instalment, "open_at", None))
        payment.updated_at = payment.created_at
        instalment.payments_.append(payment)
        instalment.received = sum(
            (p.amount for p in instalment.payments_ if p.status == PS.POSTED),
            Decimal(0),
        )
        self.payments.append(payment)
        return payment

    def collect(self, instalment, open_day: datetime.date) -> None:
        """Most instalments are paid about when due; some partly, some not at all,
        so the receivables, aging and reminders have something to show."""
        rng = self.rng
        due, amount = instalment.due_on, instalment.amount
        latest = self.today - DAY
        if latest < open_day:
            return
        draw = rng.random()
        if due <= latest:
            full, partial = draw < 0.78, 0.78 <= draw < 0.86
            day = due + datetime.timedelta(days=rng.randint(-7, 25))
        else:
            full, partial = draw < 0.12, 0.12 <= draw < 0.17
            day = self.day_between(open_day, latest)
        day = min(max(day, open_day), latest)
        if full:
            if amount > 200000 and rng.random() < 0.4:
                first = round_money(amount / 2, "contract").quantize(
                    Decimal(1), rounding=ROUND_DOWN
                )
                self.receipt(instalment, first, day)
                second = min(day + datetime.timedelta(days=rng.randint(3, 20)), latest)
                self.receipt(instalment, amount - first, second)
            else:
                self.receipt(instalment, amount, day)
        elif partial:
            part = (amount * rng.randint(30, 70) / HUNDRED).quantize(
                Decimal(100), rounding=ROUND_DOWN
            )
            if 0 < part < amount:
                self.receipt(instalment, part, day)

    def void_some(self) -> None:
        """A few receipts were first entered wrongly, voided within days by finance,
        then entered again: the voided one does not count."""
        rng = self.rng
        candidates = [
            p
            for p in self.payments
            if p.received_on <= self.today - 4 * DAY and p.amount >= 1000
        ]
        rng.shuffle(candidates)
        voided = 0
        for payment in candidates:
            opened = getattr(payment.instalment, "open_at", None)
            if voided == VOIDED_RECEIPTS or (
                opened and payment.created_at - datetime.timedelta(hours=2) <= opened
            ):
                continue
            voided += 1
            wrong = Payment(
                instalment=payment.instalment,
                customer=payment.customer,
                owner=payment.owner,
                department_id=payment.department_id,
                amount=(payment.amount / 10).quantize(Decimal("0.01")),
                received_on=payment.received_on,
                method=payment.method,
                reference=payment.reference,
                recorded_by=self.finance,
                status=PS.VOIDED,
                voided_by=self.finance,
                void_reason=rng.choice(VOID_REASONS),
            )
            wrong.created_at = payment.created_at - datetime.timedelta(hours=2)
            wrong.voided_at = payment.created_at - datetime.timedelta(minutes=30)
            wrong.updated_at = wrong.voided_at
            payment.instalment.payments_.append(wrong)
            self.payments.append(wrong)

    # Credit check

    def credit_overrides(self) -> int:
        """An order confirmed over its customer's credit limit (open receivables, plus
        the order itself when direct) carries the override of a manager."""
        by_customer = defaultdict(list)
        for instalment in self.instalments:
            if getattr(instalment, "open_at", None) is not None:
                by_customer[instalment.customer.pk].append(instalment)
        count = 0
        for order in sorted(self.orders, key=lambda o: o.created_at):
            moment = order.confirmed_at
            limit = order.customer.credit_limit
            if moment is None or not limit:
                continue
            exposure = Decimal(0) if order.contract is not None else order.total
            for instalment in by_customer[order.customer.pk]:
                closed = getattr(instalment, "closed_at", None)
                if instalment.open_at >= moment or (closed and closed <= moment):
                    continue
                paid = sum(
                    (
                        p.amount
                        for p in instalment.payments_
                        if p.created_at < moment
                        and (p.status == PS.POSTED or p.voided_at > moment)
                    ),
                    Decimal(0),
                )
                exposure += instalment.amount - paid
            if exposure <= limit:
                continue
            owner = order.owner
            order.credit_override_by = (
                owner if self.is_manager(owner) else self.approver(owner)
            )
            order.credit_override_at = moment
            order.credit_override_reason = self.rng.choice(OVERRIDE_REASONS)
            count += 1
        return count

    # Writing

    def number_and_save(self) -> None:
        def chronological(items):
            return sorted(items, key=lambda d: d.created_at)

        opportunities = chronological(self.opportunities)
        for opportunity in opportunities:
            opportunity.number = next_number("sales.opportunity")
            opportunity.version = len(opportunity.changes)
            opportunity.updated_at = opportunity.stage_changed_at
        _save(Opportunity, opportunities)
        OpportunityProduct.objects.bulk_create(self.opportunity_products, 1000)
        changes = [c for o in opportunities for c in o.changes]
        _save(StageChange, changes, ("changed_at",))
        through = Opportunity.competitors.through
        through.objects.bulk_create(
            {
                (o.pk, c.pk): through(opportunity_id=o.pk, competitor_id=c.pk)
                for o, c in self.opportunity_competitors
            }.values(),
            1000,
        )
        leads = chronological(self.leads)
        for lead in leads:
            lead.number = next_number("sales.lead")
        _save(Lead, leads)
        _save(LeadFollowUp, self.follow_ups)

        quotes = chronological(self.quotes)
        for quote in quotes:
            if quote.previous is None:
                quote.number = next_number("sales.quote")
        for quote in quotes:
            if quote.previous is not None:
                quote.number = f"{quote.previous.number}-{quote.revision}"
        for revision in sorted({q.revision for q in quotes}):
            _save(Quote, [q for q in quotes if q.revision == revision])
        QuoteLine.objects.bulk_create([line for q in quotes for line in q.lines_], 1000)

        contracts = chronological(self.contracts)
        for contract in contracts:
            contract.number = next_number("sales.contract")
        _save(Contract, contracts)
        ContractLine.objects.bulk_create(
            [line for c in contracts for line in c.lines_], 1000
        )
        orders = chronological(self.orders)
        for order in orders:
            order.number = next_number("sales.order")
        _save(SalesOrder, orders)
        SalesOrderLine.objects.bulk_create(
            [line for o in orders for line in o.lines_], 1000
        )
        for instalment in self.instalments:
            instalment.updated_at = max(
                [instalment.created_at, *(p.created_at for p in instalment.payments_)]
            )
        _save(Instalment, self.instalments)
        payments = chronological(self.payments)
        for payment in payments:
            payment.number = next_number("sales.payment")
        _save(Payment, payments)


def rng_status(rng, age: int) -> str:
    """The status of a direct order `age` days old."""
    if age > 25:
        return _pick(
            rng,
            ((SO.COMPLETED, 85), (SO.CONFIRMED, 9), (SO.CANCELLED, 6)),
        )
    if age > 7:
        return _pick(
            rng,
            ((SO.COMPLETED, 50), (SO.CONFIRMED, 40), (SO.CANCELLED, 5), (SO.DRAFT, 5)),
        )
    return _pick(
        rng,
        ((SO.DRAFT, 30), (SO.CONFIRMED, 60), (SO.CANCELLED, 5), (SO.COMPLETED, 5)),
    )


def _save(model, objects: list, stamps=("created_at", "updated_at")) -> None:
    """Insert, then put back the planned times that auto_now_add and auto_now replaced,
    on the instances and in the rows (one executemany: bulk_update's CASE per row is
    many times slower)."""
    planned = [[getattr(obj, name) for name in stamps] for obj in objects]
    model.objects.bulk_create(objects, 500)
    fields = [model._meta.get_field(name) for name in stamps]
    rows = []
    for obj, values in zip(objects, planned, strict=True):
        values = [value or values[0] for value in values]
        for name, value in zip(stamps, values, strict=True):
            setattr(obj, name, value)
        rows.append(
            [
                *(
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(fields, values, strict=True)
                ),
                obj.pk,
            ]
        )
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


# The parts that are not the history


def _competitors() -> list:
    found = {
        c.name: c
        for c in Competitor.objects.filter(name__in=[c[0] for c in COMPETITORS])
    }
    result = []
    for name, website, strengths, weaknesses, notes, themes in COMPETITORS:
        competitor = found.get(name)
        if competitor is None:
            competitor = Competitor.objects.create(
                name=name,
                website=website,
                strengths=strengths,
                weaknesses=weaknesses,
                notes=notes,
            )
        competitor.themes = themes
        result.append(competitor)
    return result


def _commission_rules() -> int:
    roles = dict(
        org_models.Role.objects.filter(name__in=SALES_ROLES).values_list("name", "pk")
    )
    categories = dict(
        Category.objects.filter(name__in=("服务与培训", "工业机器人"))
        .order_by("-path")
        .values_list("name", "pk")
    )
    rep = User.objects.filter(username="rep").first()
    rules = [
        ("销售代表标准提成", {"role_id": roles.get("销售代表")}, "3"),
        ("销售经理提成", {"role_id": roles.get("销售经理")}, "1.5"),
        (
            "服务与培训产品提成",
            {
                "role_id": roles.get("销售代表"),
                "category_id": categories.get("服务与培训"),
            },
            "5",
        ),
        (
            "工业机器人推广激励",
            {
                "role_id": roles.get("销售代表"),
                "category_id": categories.get("工业机器人"),
            },
            "4",
        ),
        ("大客户经理专项提成", {"employee_id": rep.pk if rep else None}, "3.5"),
    ]
    existing = set(CommissionRule.objects.values_list("name", flat=True))
    created = 0
    for name, subject, rate in rules:
        if name in existing or not any(subject.values()):
            continue
        CommissionRule.objects.create(name=name, rate=Decimal(rate), **subject)
        created += 1
    return created


def _commission_periods(today: datetime.date) -> int:
    """A period per month of the past year: closed (computed from the receipts) up to
    last month, the current one open and computed."""
    director = User.objects.filter(username="sales_director").first()
    actor = (
        director
        if director is not None and director.has_perm("sales.close_commissionperiod")
        else User.objects.filter(is_superuser=True).order_by("pk").first()
    )
    if actor is None:
        return 0
    existing = set(CommissionPeriod.objects.values_list("start_on", "end_on"))
    first = (today - datetime.timedelta(days=365)).replace(day=1) + datetime.timedelta(
        days=32
    )
    created = 0
    for start in _months(first, today):
        end = _month_end(start)
        if (start, end) in existing:
            continue
        clash = CommissionPeriod.objects.filter(start_on__lte=end, end_on__gte=start)
        if clash.exists():
            continue
        period = CommissionPeriod.objects.create(
            name=f"{start.year}年{start.month}月", start_on=start, end_on=end
        )
        opened = timezone.make_aware(datetime.datetime.combine(start, datetime.time(9)))
        if end < today:
            commission_period_close(actor=actor, period=period)
            closed = timezone.make_aware(
                datetime.datetime.combine(end + 5 * DAY, datetime.time(10))
            )
            closed = min(closed, timezone.now())
            CommissionPeriod.objects.filter(pk=period.pk).update(
                created_at=opened,
                computed_at=closed,
                closed_at=closed,
                updated_at=closed,
            )
        else:
            commission_period_compute(actor=actor, period=period)
            CommissionPeriod.objects.filter(pk=period.pk).update(created_at=opened)
        created += 1
    return created


SEASON = {
    1: "1.0",
    2: "0.6",
    3: "0.9",
    4: "1.0",
    5: "1.0",
    6: "1.1",
    7: "0.9",
    8: "0.9",
    9: "1.1",
    10: "1.0",
    11: "1.2",
    12: "1.3",
}


def _targets(today: datetime.date) -> int:
    """Monthly 2026 order and collection targets per sales employee (from the past
    year's orders, with a season) and per sales department (its people's sum)."""
    year = 2026
    people = list(
        User.objects.filter(groups__name__in=SALES_ROLES, is_active=True)
        .exclude(department__isnull=True)
        .select_related("department")
        .distinct()
        .order_by("username")
    )
    since = today - datetime.timedelta(days=365)
    ordered = dict(
        SalesOrder.objects.filter(
            status__in=(SO.CONFIRMED, SO.COMPLETED), ordered_on__gte=since
        )
        .values_list("owner")
        .annotate(total=Sum("total"))
        .order_by()
    )
    existing_people = set(
        SalesTarget.objects.filter(
            period_type=SalesTarget.PeriodType.MONTH, year=year, owner__isnull=False
        ).values_list("owner_id", "period")
    )
    existing_departments = set(
        SalesTarget.objects.filter(
            period_type=SalesTarget.PeriodType.MONTH, year=year, owner__isnull=True
        ).values_list("department_id", "period")
    )
    created_at = timezone.make_aware(
        datetime.datetime.combine(datetime.date(year - 1, 12, 20), datetime.time(10))
    )
    new, by_department = [], defaultdict(lambda: defaultdict(Decimal))
    departments = {d.pk: d for d in Department.objects.all()}
    for user in people:
        monthly = max(
            Decimal(ordered.get(user.pk) or 0) / 12 * Decimal("1.1"), Decimal(80000)
        )
        for month in range(1, 13):
            target = (monthly * Decimal(SEASON[month]) / 10000).quantize(
                Decimal(1)
            ) * 10000
            collection = (target * Decimal("0.9") / 10000).quantize(Decimal(1)) * 10000
            department = user.department
            while department is not None:
                by_department[department.pk][month] += target
                department = departments.get(department.parent_id)
            if (user.pk, month) in existing_people:
                continue
            new.append(
                SalesTarget(
                    period_type=SalesTarget.PeriodType.MONTH,
                    year=year,
                    period=month,
                    owner=user,
                    department_id=user.department_id,
                    order_target=target,
                    collection_target=collection,
                    notes="2026年度经营计划分解",
                )
            )
    for pk, months in by_department.items():
        for month, target in months.items():
            if (pk, month) in existing_departments:
                continue
            new.append(
                SalesTarget(
                    period_type=SalesTarget.PeriodType.MONTH,
                    year=year,
                    period=month,
                    department_id=pk,
                    order_target=target,
                    collection_target=(target * Decimal("0.9")).quantize(Decimal(1)),
                    notes="部门目标：本部门及下级人员目标之和",
                )
            )
    for target in new:
        target.created_at = target.updated_at = created_at
    _save(SalesTarget, new)
    return len(new)


def _announcements() -> int:
    """Company news (S10), when the organisation app has announcements."""
    model = getattr(org_models, "Announcement", None)
    if model is None:
        return 0
    author = User.objects.filter(username="sales_director").first()
    existing = set(model.objects.values_list("title", flat=True))
    created = 0
    now = timezone.now()
    for title, body, pinned, days_ago in ANNOUNCEMENTS:
        if title in existing:
            continue
        published = now - datetime.timedelta(days=days_ago, hours=3)
        announcement = model.objects.create(
            title=title,
            body=body,
            is_pinned=pinned,
            is_published=True,
            published_at=published,
            author=author,
        )
        model.objects.filter(pk=announcement.pk).update(
            created_at=published, updated_at=published
        )
        created += 1
    return created


HISTORY_MODELS = (Lead, Opportunity, Quote, Contract, SalesOrder, Payment)


def load() -> str:
    today = timezone.localdate()
    competitors = _competitors()
    rules = _commission_rules()
    fresh = not any(model.objects.exists() for model in HISTORY_MODELS)
    if fresh and Customer.objects.filter(owner__isnull=False).exists():
        rng = random.Random(SEED)
        fake = Faker("zh_CN")
        fake.seed_instance(SEED)
        history = _History(rng, fake, competitors)
        if history.staff and history.products and history.open_stages:
            history.plan_opportunities()
            history.plan_leads()
            history.plan_deals()
            history.plan_repeat_orders()
            history.void_some()
            history.credit_overrides()
            history.number_and_save()
    # Periods are closed from the receipts: without them they would close empty and
    # refuse the receipts of a later load.
    periods = _commission_periods(today) if Payment.objects.exists() else 0
    targets = _targets(today)
    news = _announcements()
    overridden = SalesOrder.objects.filter(credit_override_by__isnull=False).count()
    return (
        f"{Lead.objects.count()} leads, {Opportunity.objects.count()} opportunities, "
        f"{Quote.objects.count()} quotes, {Contract.objects.count()} contracts, "
        f"{SalesOrder.objects.count()} orders "
        f"({overridden} confirmed over the credit limit by a manager), "
        f"{Instalment.objects.count()} instalments, {Payment.objects.count()} receipts, "
        f"{Competitor.objects.count()} competitors, {rules} new commission rules, "
        f"{periods} new commission periods, {targets} new targets, "
        f"{news} new announcements"
    )
