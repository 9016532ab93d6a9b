"""Demo catalogue (Y6): ~200 products in a category tree, three price lists. Idempotent."""

import random
from decimal import Decimal

from crm.core.trees import tree_place
from crm.org.models import User
from crm.products.models import Category, PriceList, PriceListItem, Product

T = Product.Type
# category path → (code prefix, product type, unit, [(name, spec options, price range)])
CATALOGUE = {
    ("智能装备", "工业控制器"): (
        "KZQ",
        T.OWN,
        "台",
        [
            ("PLC可编程控制器", ["16点", "32点", "64点"], (1800, 9800)),
            ("运动控制器", ["4轴", "8轴"], (6800, 26000)),
            ("边缘计算网关", ["标准版", "工业级"], (3200, 12000)),
        ],
    ),
    ("智能装备", "传感器"): (
        "CGQ",
        T.OWN,
        "个",
        [
            ("温湿度传感器", ["RS485", "4-20mA"], (180, 960)),
            ("压力变送器", ["0-1MPa", "0-10MPa"], (650, 2800)),
            ("光电传感器", ["对射型", "漫反射型"], (120, 680)),
        ],
    ),
    ("智能装备", "伺服与变频"): (
        "SF",
        T.OWN,
        "台",
        [
            ("交流伺服电机", ["400W", "750W", "1.5kW"], (1500, 7800)),
            ("通用变频器", ["2.2kW", "5.5kW", "11kW"], (1200, 8800)),
        ],
    ),
    ("配件耗材", "线缆连接"): (
        "PJ",
        T.OUTSOURCED,
        "米",
        [
            ("屏蔽信号线", ["2芯", "4芯", "8芯"], (6, 38)),
            ("工业以太网线", ["CAT6", "CAT6A"], (8, 45)),
        ],
    ),
    ("配件耗材", "电源模块"): (
        "DY",
        T.OUTSOURCED,
        "个",
        [
            ("开关电源", ["24V 5A", "24V 10A"], (120, 580)),
            ("UPS不间断电源", ["1kVA", "3kVA"], (1600, 6800)),
        ],
    ),
    ("代销商品", "合作品牌"): (
        "DX",
        T.CONSIGNMENT,
        "套",
        [
            ("工业平板电脑", ["10寸", "15寸"], (3800, 9800)),
            ("扫码枪", ["有线", "无线"], (380, 1600)),
        ],
    ),
    ("服务与培训", "培训课程"): (
        "PX",
        T.TRAINING,
        "人天",
        [
            ("PLC编程培训", ["初级", "高级"], (1200, 3600)),
            ("设备维护培训", ["标准"], (900, 2400)),
        ],
    ),
    ("服务与培训", "技术服务"): (
        "FW",
        T.SERVICE,
        "次",
        [
            ("上门安装调试", ["市内", "省内"], (800, 3000)),
            ("年度维保服务", ["标准", "金牌"], (5000, 30000)),
            ("远程技术支持", ["季度", "年度"], (2000, 12000)),
        ],
    ),
    ("其他", "其他"): ("QT", T.OTHER, "件", [("宣传物料包", ["标准"], (50, 300))]),
}


def _category(name, parent):
    category = Category.objects.filter(name=name, parent=parent).first()
    if category is None:
        category = Category.objects.create(name=name, parent=parent)
        tree_place(category)
    return category


def load() -> str:
    rng = random.Random(2026)
    owner = User.objects.filter(username="product").first()
    department = owner.department if owner else None
    products = []
    for (top, leaf), (prefix, ptype, unit, lines) in CATALOGUE.items():
        parent = _category(top, None)
        category = _category(leaf, parent) if leaf != top else parent
        n = 0
        for base, specs, (low, high) in lines:
            for series in ("A", "B", "C", "D", "E", "F", "G")[: 3 + rng.randrange(4)]:
                for spec in specs:
                    n += 1
                    code = f"{prefix}-{n:03d}"
                    price = Decimal(rng.randrange(low, high)).quantize(Decimal("1"))
                    product, _created = Product.objects.get_or_create(
                        code=code,
                        defaults={
                            "name": f"{base} {series}系列",
                            "category": category,
                            "type": ptype,
                            "specification": spec,
                            "unit": unit,
                            "list_price": price,
                            "cost": (price * Decimal(rng.uniform(0.45, 0.75))).quantize(
                                Decimal("0.01")
                            ),
                            "status": Product.Status.ACTIVE
                            if rng.random() > 0.06
                            else Product.Status.INACTIVE,
                            "owner": owner,
                            "department": department,
                        },
                    )
                    products.append(product)
    lists = [
        ("2026年标准价", Decimal("1.00")),
        ("2026年经销商价", Decimal("0.82")),
        ("2026年大客户价", Decimal("0.90")),
    ]
    for name, factor in lists:
        price_list, _created = PriceList.objects.get_or_create(
            name=name,
            defaults={
                "owner": owner,
                "department": department,
                "notes": f"标准价 × {factor}",
            },
        )
        for product in products:
            PriceListItem.objects.get_or_create(
                price_list=price_list,
                product=product,
                min_quantity=Decimal("1"),
                defaults={
                    "price": (product.list_price * factor).quantize(Decimal("0.01"))
                },
            )
    return f"{Category.objects.count()} categories, {Product.objects.count()} products, {PriceList.objects.count()} price lists"
