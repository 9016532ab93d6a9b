"""Demo organisation (Y3, Y4, Y5): a group with HQ, factories, subsidiaries, branches, offices;
~30 employees with roles. Idempotent."""

import random

from django.contrib.auth.models import Permission
from faker import Faker

from crm.core.numbering import next_number
from crm.core.scopes import DOMAINS, DataScope
from crm.core.trees import tree_place
from crm.org.models import Department, Role, User

DEMO_PASSWORD = "Demo@2026"
K = Department.Kind

# (name, kind, children)
TREE = (
    "华夏智造集团",
    K.GROUP,
    [
        (
            "集团总部",
            K.HQ,
            [
                ("销售管理部", K.OTHER, []),
                ("渠道管理部", K.OTHER, []),
                ("市场部", K.OTHER, []),
                ("客户服务部", K.OTHER, []),
                ("财务部", K.OTHER, []),
                ("信息技术部", K.OTHER, []),
            ],
        ),
        (
            "苏州智能装备工厂",
            K.FACTORY,
            [
                (
                    "总装车间",
                    K.WORKSHOP,
                    [
                        ("总装一组", K.WORKSHOP_GROUP, []),
                        ("总装二组", K.WORKSHOP_GROUP, []),
                    ],
                ),
                ("质检车间", K.WORKSHOP, []),
            ],
        ),
        (
            "华东销售有限公司",
            K.SUBSIDIARY,
            [
                (
                    "上海分公司",
                    K.BRANCH,
                    [("浦东办事处", K.OFFICE, []), ("闵行办事处", K.OFFICE, [])],
                ),
                ("杭州分公司", K.BRANCH, [("宁波办事处", K.OFFICE, [])]),
                ("南京智造服务有限公司", K.SUB_SUBSIDIARY, []),
            ],
        ),
        (
            "华南销售有限公司",
            K.SUBSIDIARY,
            [
                ("广州分公司", K.BRANCH, [("佛山办事处", K.OFFICE, [])]),
                ("深圳分公司", K.BRANCH, []),
            ],
        ),
        (
            "华北销售有限公司",
            K.SUBSIDIARY,
            [
                ("北京分公司", K.BRANCH, [("天津办事处", K.OFFICE, [])]),
                ("济南分公司", K.BRANCH, []),
            ],
        ),
        (
            "西南销售有限公司",
            K.SUBSIDIARY,
            [
                ("成都分公司", K.BRANCH, [("重庆办事处", K.OFFICE, [])]),
            ],
        ),
    ],
)

ALL = {d: DataScope.ALL for d in DOMAINS}


def _scopes(default, **overrides):
    return {d: overrides.get(d, default) for d in DOMAINS}


def _perms(*patterns):
    """Permissions by 'app.codename', 'app.*' (every permission of the app) or
    'app.prefix*' ('sales.view_*': every view permission of the app)."""
    result = []
    for pattern in patterns:
        app, code = pattern.split(".", 1)
        qs = Permission.objects.filter(content_type__app_label=app)
        if code.endswith("*"):
            qs = qs.filter(codename__startswith=code[:-1])
        else:
            qs = qs.filter(codename=code)
        result.extend(qs)
    return result


VIEW_CATALOGUE = (
    "products.view_product",
    "products.view_category",
    "products.view_pricelist",
    "org.view_department",
    "org.view_user",
)
# Sales (S1–S8): reps work their own documents; managers also approve discounts and
# contracts, override the credit check and settle commissions; finance collects.
SALES_DOCUMENTS = (
    "lead",
    "leadfollowup",
    "opportunity",
    "quote",
    "contract",
    "salesorder",
)
SALES_REP = (
    *(f"sales.{a}_{m}" for m in SALES_DOCUMENTS for a in ("view", "add", "change")),
    "sales.view_instalment",
    "sales.view_payment",
    "sales.view_competitor",
    "sales.view_salestarget",
    "sales.view_commissionperiod",
)
SALES_MANAGER = (
    *SALES_REP,
    "sales.assign_lead",
    "sales.view_assignmentrule",
    "sales.add_assignmentrule",
    "sales.change_assignmentrule",
    "sales.approve_contract",
    "sales.override_credit",
    "sales.add_competitor",
    "sales.change_competitor",
    "sales.add_salestarget",
    "sales.change_salestarget",
    "sales.view_commissionrule",
    "sales.add_commissionperiod",
    "sales.change_commissionperiod",
    "sales.close_commissionperiod",
)
# Channels (D1–D11): channel managers work their own partners' records and decide their
# purchase orders, fund requests and deal conflicts; the channel director sees every
# partner and closes score periods and publishes promotions.
CHANNEL_MODELS = (
    "partner",
    "territory",
    "partneruser",
    "agreement",
    "agreementterm",
    "purchaseorder",
    "receipt",
    "sellthroughreport",
    "stockcount",
    "stockbound",
    "partnertarget",
    "kpi",
    "scoreperiod",
    "partnerscore",
    "promotion",
    "partnerplan",
    "fundrequest",
    "executionreport",
    "dealregistration",
    "tier",
)
CHANNEL_MANAGER = (
    *(f"channels.{a}_{m}" for m in CHANNEL_MODELS for a in ("view", "add", "change")),
    "channels.approve_purchaseorder",
    "channels.approve_fundrequest",
    "channels.decide_dealregistration",
    "channels.manage_partnerusers",
    # D5: end customers reported by their partners become customer records they own.
    "customers.view_customer",
    "customers.add_customer",
)
ROLES = {
    "系统管理员": (
        "系统管理员:全部功能,含系统设置",
        ALL,
        ("core.*", "org.*", "products.*", "sales.*", "channels.*"),
        {},
    ),
    "总经理": (
        "总经理:查看全公司数据",
        ALL,
        (
            *VIEW_CATALOGUE,
            "core.export_data",
            "products.view_cost",
            "core.approve_discount",
            "sales.view_*",
            "sales.approve_contract",
            "channels.view_*",
        ),
        {},
    ),
    "销售总监": (
        "销售总监:本公司及下属单位",
        _scopes(
            DataScope.DEPARTMENT_TREE,
            products=DataScope.ALL,
            org=DataScope.ALL,
            customers=DataScope.ALL,
            sales=DataScope.ALL,
        ),
        (
            *VIEW_CATALOGUE,
            "core.export_data",
            "core.approve_discount",
            "core.merge_records",
            *SALES_MANAGER,
            "sales.add_commissionrule",
            "sales.change_commissionrule",
        ),
        {},
    ),
    "销售经理": (
        "销售经理:本部门及下级部门",
        _scopes(
            DataScope.DEPARTMENT_TREE,
            products=DataScope.ALL,
            org=DataScope.DEPARTMENT_TREE,
        ),
        (*VIEW_CATALOGUE, "core.export_data", "core.approve_discount", *SALES_MANAGER),
        {},
    ),
    "销售代表": (
        "销售代表:仅本人的记录",
        _scopes(DataScope.OWN, products=DataScope.ALL, org=DataScope.DEPARTMENT),
        (*VIEW_CATALOGUE, *SALES_REP),
        {"products.product": {"list_price": "readonly"}},
    ),
    "渠道经理": (
        "渠道经理:本人负责的渠道商",
        _scopes(
            DataScope.SUBORDINATES,
            products=DataScope.ALL,
            org=DataScope.DEPARTMENT,
            channels=DataScope.OWN,
        ),
        (*VIEW_CATALOGUE, "core.export_data", *CHANNEL_MANAGER),
        {},
    ),
    "渠道总监": (
        "渠道总监:全部渠道商、考核与营销推广",
        _scopes(
            DataScope.DEPARTMENT_TREE,
            products=DataScope.ALL,
            org=DataScope.ALL,
            customers=DataScope.ALL,
            channels=DataScope.ALL,
        ),
        (
            *VIEW_CATALOGUE,
            "core.export_data",
            "channels.*",
            "customers.view_customer",
            "customers.add_customer",
        ),
        {},
    ),
    "客服专员": (
        "客服专员:本部门的服务记录",
        _scopes(DataScope.DEPARTMENT, products=DataScope.ALL),
        VIEW_CATALOGUE,
        {"org.user": {"mobile": "hidden"}},
    ),
    "财务专员": (
        "财务专员:全部销售数据与产品成本",
        _scopes(DataScope.ALL),
        (
            *VIEW_CATALOGUE,
            "core.export_data",
            "products.view_cost",
            "sales.view_*",
            "sales.add_payment",
            "sales.void_payment",
            "channels.view_*",
        ),
        {},
    ),
    "产品经理": (
        "产品经理:维护产品目录与价格表",
        _scopes(DataScope.ALL),
        (*VIEW_CATALOGUE, "products.*", "core.export_data"),
        {},
    ),
}

# username, name-or-None (None: Faker), department, position, role, supervisor username
PEOPLE = [
    ("admin", "系统管理员", "信息技术部", "系统管理员", "系统管理员", None),
    ("ceo", "王建国", "集团总部", "总经理", "总经理", None),
    ("sales_director", "李思远", "销售管理部", "销售总监", "销售总监", "ceo"),
    (
        "manager",
        "张伟",
        "华东销售有限公司",
        "华东区销售经理",
        "销售经理",
        "sales_director",
    ),
    ("rep", "刘洋", "上海分公司", "销售代表", "销售代表", "manager"),
    ("channel", "陈静", "渠道管理部", "渠道经理", "渠道经理", "sales_director"),
    ("finance", "赵敏", "财务部", "财务专员", "财务专员", "ceo"),
    ("product", "孙浩", "销售管理部", "产品经理", "产品经理", "sales_director"),
    ("service", "周婷", "客户服务部", "客服专员", "客服专员", "ceo"),
]
BRANCH_STAFF = [
    ("华南销售有限公司", "销售经理"),
    ("华北销售有限公司", "销售经理"),
    ("西南销售有限公司", "销售经理"),
    ("上海分公司", "销售代表"),
    ("浦东办事处", "销售代表"),
    ("闵行办事处", "销售代表"),
    ("杭州分公司", "销售代表"),
    ("宁波办事处", "销售代表"),
    ("广州分公司", "销售代表"),
    ("佛山办事处", "销售代表"),
    ("深圳分公司", "销售代表"),
    ("北京分公司", "销售代表"),
    ("天津办事处", "销售代表"),
    ("济南分公司", "销售代表"),
    ("成都分公司", "销售代表"),
    ("重庆办事处", "销售代表"),
    ("渠道管理部", "渠道经理"),
    ("渠道管理部", "渠道经理"),
    ("客户服务部", "客服专员"),
    ("南京智造服务有限公司", "客服专员"),
    ("市场部", "销售代表"),
]


def _department(name, kind, parent):
    dept = Department.objects.filter(name=name, parent=parent).first()
    if dept is None:
        dept = Department.objects.create(name=name, kind=kind, parent=parent)
        tree_place(dept)
    return dept


def _build(node, parent, index):
    name, kind, children = node
    dept = _department(name, kind, parent)
    index[name] = dept
    for child in children:
        _build(child, dept, index)


def load() -> str:
    fake = Faker("zh_CN")
    Faker.seed(2026)
    rng = random.Random(2026)
    depts: dict[str, Department] = {}
    _build(TREE, None, depts)

    roles = {}
    for name, (description, scopes, perm_patterns, rights) in ROLES.items():
        role, _created = Role.objects.get_or_create(
            name=name, defaults={"description": description}
        )
        role.description, role.data_scopes, role.field_rights = (
            description,
            scopes,
            rights,
        )
        role.save()
        role.permissions.set(_perms(*perm_patterns))
        roles[name] = role

    users = {}

    def person(username, name, dept, position, role, supervisor):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                name=name,
                department=depts[dept],
                position=position,
                mobile=f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                phone=f"021-{rng.randrange(5000_0000, 6999_9999)}",
                email=f"{username}@huaxia-demo.cn",
                employee_no=next_number("org.employee"),
                supervisor=users.get(supervisor),
                is_superuser=(username == "admin"),
                is_staff=(username == "admin"),
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.set([roles[role]])
        users[username] = user
        return user

    for args in PEOPLE:
        person(*args)
    managers = {"华东销售有限公司": "manager"}
    for i, (dept, role) in enumerate(BRANCH_STAFF, start=1):
        name = fake.name()
        subsidiary = next(
            (
                d
                for d in (
                    "华南销售有限公司",
                    "华北销售有限公司",
                    "西南销售有限公司",
                    "华东销售有限公司",
                )
                if depts[dept].path.startswith(depts[d].path)
            ),
            None,
        )
        supervisor = (
            "channel"
            if role == "渠道经理"
            else (
                "sales_director"
                if role == "销售经理"
                else managers.get(subsidiary, "manager")
            )
        )
        user = person(f"emp{i:02d}", name, dept, role, role, supervisor)
        if role == "销售经理":
            managers[dept] = user.username
    # After the others, so their demo details stay as they were.
    person("channel_director", "黄志强", "渠道管理部", "渠道总监", "渠道总监", "ceo")
    return f"{Department.objects.count()} departments, {User.objects.count()} employees, {Role.objects.count()} roles"
