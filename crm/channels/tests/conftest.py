"""Fixtures the channel tests share; each area keeps its own in tests/<area>_fixtures.py.

`channel_org`: the shared org, plus
- mgr_a (east, channel manager of partner_a and partner_a2), mgr_c (south, of partner_c),
  each with a channel-manager role scoped to their own partners;
- partner_a / partner_c with portal users pa_admin / pa_user and pc_admin;
- products p1, p2 (category "挖掘机" under "整机"), and a price list."""

from decimal import Decimal

import pytest

from crm.channels.models import Partner, PartnerUser, Tier
from crm.core.scopes import DataScope
from crm.core.trees import tree_place
from crm.org.tests.factories import UserFactory, make_role
from crm.products.models import Category, PriceList, PriceListItem, Product

CHANNEL_MODELS = (
    "partner",
    "territory",
    "partneruser",
    "apikey",
    "agreement",
    "purchaseorder",
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
    "dealregistration",
)


def channel_perms(*actions: str) -> list[str]:
    """'channels.view_partner', … for every channel model and the actions."""
    return [f"channels.{a}_{m}" for m in CHANNEL_MODELS for a in actions]


def make_partner(owner, name, number, *, parent=None, **fields) -> Partner:
    partner = Partner.objects.create(
        owner=owner,
        department=owner.department if owner else None,
        name=name,
        number=number,
        parent=parent,
        **fields,
    )
    tree_place(partner)
    return partner


def make_partner_user(partner, username, *, admin=False, **fields):
    user = UserFactory(username=username, department=None, **fields)
    PartnerUser.objects.create(user=user, partner=partner, is_admin=admin)
    return user


@pytest.fixture
def channel_role(db):
    """A channel manager's role (every channel model, view/add/change, and reading
    customers and products); call with a scope and extra permissions."""

    def make(scope=DataScope.OWN, *extra):
        return make_role(
            f"渠道-{scope}",
            *channel_perms("view", "add", "change"),
            "customers.view_customer",
            "customers.add_customer",
            "products.view_product",
            "products.view_pricelist",
            *extra,
            scope=scope,
        )

    return make


@pytest.fixture
def catalogue(db):
    root = Category.objects.create(name="整机", code="M")
    tree_place(root)
    excavators = Category.objects.create(name="挖掘机", code="M-EX", parent=root)
    tree_place(excavators)
    parts = Category.objects.create(name="配件", code="P")
    tree_place(parts)
    p1 = Product.objects.create(
        code="EX-200",
        name="小型挖掘机 EX200",
        category=excavators,
        list_price=Decimal("100000"),
    )
    p2 = Product.objects.create(
        code="EX-350",
        name="中型挖掘机 EX350",
        category=excavators,
        list_price=Decimal("250000"),
    )
    p3 = Product.objects.create(
        code="FL-01",
        name="机油滤芯",
        category=parts,
        list_price=Decimal("80"),
    )
    price_list = PriceList.objects.create(name="2026 渠道价")
    for product, price in ((p1, "90000"), (p2, "220000"), (p3, "60")):
        PriceListItem.objects.create(
            price_list=price_list, product=product, price=Decimal(price)
        )
    return type(
        "Catalogue",
        (),
        dict(
            root=root,
            excavators=excavators,
            parts=parts,
            p1=p1,
            p2=p2,
            p3=p3,
            price_list=price_list,
        ),
    )


@pytest.fixture
def channel_org(org, channel_role, catalogue):
    own = channel_role(DataScope.OWN)
    mgr_a = UserFactory(
        username="mgr_a", name="周渠道", department=org.east, supervisor=org.manager
    )
    mgr_c = UserFactory(username="mgr_c", name="吴渠道", department=org.south)
    for user in (mgr_a, mgr_c):
        user.groups.add(own)
    org.manager.groups.add(channel_role(DataScope.DEPARTMENT_TREE))
    gold = Tier.objects.create(name="一级经销商", rank=1)
    silver = Tier.objects.create(name="二级经销商", rank=2)
    partner_a = make_partner(mgr_a, "杭州恒通机械有限公司", "QD000001", tier=gold)
    partner_a2 = make_partner(
        mgr_a, "宁波力拓工程机械有限公司", "QD000002", tier=silver, parent=partner_a
    )
    partner_c = make_partner(mgr_c, "广州粤达机械设备有限公司", "QD000003", tier=gold)
    org.mgr_a, org.mgr_c = mgr_a, mgr_c
    org.gold, org.silver = gold, silver
    org.partner_a, org.partner_a2, org.partner_c = partner_a, partner_a2, partner_c
    org.pa_admin = make_partner_user(
        partner_a, "pa_admin", admin=True, name="恒通管理员"
    )
    org.pa_user = make_partner_user(partner_a, "pa_user", name="恒通业务员")
    org.pc_admin = make_partner_user(
        partner_c, "pc_admin", admin=True, name="粤达管理员"
    )
    org.catalogue = catalogue
    return org
