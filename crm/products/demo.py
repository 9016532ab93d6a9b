"""Demo catalogue (Y6): about 200 products in a three-level category tree, three price lists.

Idempotent: categories are found by name under their parent, products by code, price lines
by (price list, product, minimum quantity); running it again adds nothing and changes nothing.
"""

import datetime
import random
from decimal import Decimal

from crm.core.money import round_money
from crm.core.trees import tree_place
from crm.org.models import User
from crm.products.models import Category, PriceList, PriceListItem, Product

T = Product.Type

# (category path, code prefix, type, unit,
#  [(product name, [series…] or [""], [specification…], (price from, price to))])
CATALOGUE = [
    (
        ("智能装备", "工业控制", "可编程控制器"),
        "PLC",
        T.OWN,
        "台",
        [
            (
                "小型PLC主机",
                ["HX-100", "HX-200", "HX-300"],
                ["14点 晶体管输出", "24点 继电器输出", "40点 晶体管输出"],
                (980, 3800),
            ),
            ("中型PLC主机", ["HX-500"], ["512KB", "1MB", "冗余型"], (6800, 26000)),
            (
                "PLC扩展模块",
                ["HX-EM"],
                [
                    "8路数字量输入",
                    "8路数字量输出",
                    "4路模拟量输入",
                    "2路模拟量输出",
                    "RS485通讯",
                ],
                (380, 1600),
            ),
        ],
    ),
    (
        ("智能装备", "工业控制", "人机界面"),
        "HMI",
        T.OWN,
        "台",
        [
            ("触摸屏", ["HX-T"], ["7英寸", "10英寸", "15英寸"], (1200, 5200)),
            (
                "工业平板电脑",
                ["HX-P"],
                ["12英寸 i3", "15英寸 i5", "21英寸 i7"],
                (4800, 12800),
            ),
        ],
    ),
    (
        ("智能装备", "工业控制", "边缘计算"),
        "BY",
        T.OWN,
        "台",
        [
            (
                "边缘计算网关",
                ["HX-G100", "HX-G300"],
                ["4G全网通", "5G", "千兆以太网"],
                (2600, 12000),
            ),
            ("数据采集终端", ["HX-D"], ["8通道", "16通道"], (1800, 5600)),
        ],
    ),
    (
        ("智能装备", "运动控制", "伺服系统"),
        "SF",
        T.OWN,
        "台",
        [
            (
                "交流伺服电机",
                ["HX-SM"],
                ["100W", "400W", "750W", "1.5kW", "3kW"],
                (860, 7800),
            ),
            (
                "伺服驱动器",
                ["HX-SD"],
                ["100W", "400W", "750W", "1.5kW", "3kW"],
                (1200, 8600),
            ),
            ("伺服编码器线缆", ["HX-SC"], ["3米", "5米", "10米"], (120, 420)),
        ],
    ),
    (
        ("智能装备", "运动控制", "变频器"),
        "BP",
        T.OWN,
        "台",
        [
            (
                "通用变频器",
                ["HX-V10", "HX-V20", "HX-V30"],
                ["0.75kW", "2.2kW", "5.5kW", "11kW", "22kW"],
                (880, 9800),
            ),
            (
                "高性能矢量变频器",
                ["HX-V80"],
                ["7.5kW", "15kW", "30kW", "55kW"],
                (3600, 26000),
            ),
        ],
    ),
    (
        ("智能装备", "运动控制", "运动控制器"),
        "YK",
        T.OWN,
        "台",
        [
            ("多轴运动控制器", ["HX-MC"], ["4轴", "8轴", "16轴"], (5800, 26000)),
            ("步进电机驱动器", ["HX-ST"], ["两相", "三相"], (260, 980)),
        ],
    ),
    (
        ("智能装备", "传感与检测", "传感器"),
        "CGQ",
        T.OWN,
        "个",
        [
            (
                "温湿度变送器",
                ["HX-TH"],
                ["RS485", "4-20mA", "壁挂式"],
                (180, 960),
            ),
            (
                "压力变送器",
                ["HX-PT"],
                ["0-1MPa", "0-10MPa", "0-40MPa"],
                (650, 2800),
            ),
            ("光电开关", ["HX-PE"], ["对射型", "漫反射型", "镜面反射型"], (120, 680)),
            (
                "接近开关",
                ["HX-PX"],
                ["M12 电感式", "M18 电感式", "M30 电容式"],
                (68, 360),
            ),
            ("液位变送器", ["HX-LT"], ["投入式", "超声波", "雷达式"], (980, 6800)),
        ],
    ),
    (
        ("智能装备", "传感与检测", "机器视觉"),
        "SJ",
        T.OWN,
        "台",
        [
            (
                "工业相机",
                ["HX-CAM"],
                ["130万像素", "500万像素", "1200万像素"],
                (1800, 9800),
            ),
            ("视觉控制器", ["HX-VC"], ["标准版", "深度学习版"], (8800, 36000)),
            ("条码读码器", ["HX-BR"], ["固定式", "手持式"], (1600, 6800)),
        ],
    ),
    (
        ("智能装备", "传感与检测", "仪器仪表"),
        "YB",
        T.OWN,
        "台",
        [
            ("数显温控仪", ["HX-TC"], ["48×48", "72×72", "96×96"], (120, 560)),
            (
                "电磁流量计",
                ["HX-FM"],
                ["DN25", "DN50", "DN100", "DN200"],
                (2800, 12800),
            ),
            ("无纸记录仪", ["HX-R"], ["8通道", "16通道", "32通道"], (2200, 8800)),
        ],
    ),
    (
        ("智能装备", "工业机器人", "机器人本体"),
        "JQR",
        T.OWN,
        "台",
        [
            (
                "六轴工业机器人",
                ["HX-R6"],
                ["负载6kg", "负载12kg", "负载20kg", "负载50kg"],
                (68000, 268000),
            ),
            ("SCARA机器人", ["HX-SR"], ["臂展400mm", "臂展600mm"], (42000, 86000)),
            ("协作机器人", ["HX-CR"], ["负载5kg", "负载10kg"], (78000, 138000)),
        ],
    ),
    (
        ("智能装备", "工业机器人", "机器人配件"),
        "JPJ",
        T.OWN,
        "套",
        [
            ("气动夹爪", ["HX-GR"], ["两指", "三指"], (680, 3200)),
            ("电动夹爪", ["HX-EG"], ["行程20mm", "行程50mm"], (2800, 8800)),
            ("机器人底座", ["HX-BS"], ["标准型", "加高型"], (1800, 4600)),
        ],
    ),
    (
        ("配件耗材", "线缆"),
        "XL",
        T.OUTSOURCED,
        "米",
        [
            ("屏蔽信号电缆", ["RVVP"], ["2×0.5", "4×0.75", "8×1.0"], (3, 28)),
            ("工业以太网线", ["CAT6", "CAT6A"], ["屏蔽", "非屏蔽"], (5, 32)),
            ("高柔性拖链电缆", ["TRVV"], ["4×1.5", "7×1.0", "12×0.75"], (12, 68)),
        ],
    ),
    (
        ("配件耗材", "连接器与端子"),
        "LJ",
        T.OUTSOURCED,
        "个",
        [
            ("航空插头", ["GX16", "GX20"], ["4芯", "7芯"], (12, 68)),
            ("M12连接器", [""], ["A编码 4芯", "D编码 4芯", "X编码 8芯"], (45, 180)),
            ("接线端子", ["UK"], ["2.5平方", "6平方"], (2, 18)),
        ],
    ),
    (
        ("配件耗材", "电源与低压电器"),
        "DY",
        T.OUTSOURCED,
        "个",
        [
            (
                "开关电源",
                ["HX-PS"],
                ["24V 2.5A", "24V 5A", "24V 10A", "24V 20A"],
                (90, 680),
            ),
            ("UPS不间断电源", ["HX-UPS"], ["1kVA", "3kVA", "6kVA"], (1600, 9800)),
            ("小型断路器", ["HX-MB"], ["1P 16A", "2P 32A", "3P 63A"], (18, 160)),
            ("中间继电器", ["HX-RL"], ["DC24V 2组触点", "AC220V 4组触点"], (22, 86)),
        ],
    ),
    (
        ("配件耗材", "易损备件"),
        "BJ",
        T.OUTSOURCED,
        "件",
        [
            ("伺服电机油封", ["HX-OS"], ["Φ14", "Φ19", "Φ24"], (15, 60)),
            ("散热风扇", ["HX-FN"], ["80mm", "120mm"], (35, 120)),
            ("触摸屏保护膜", ["HX-FL"], ["7英寸", "10英寸", "15英寸"], (20, 80)),
        ],
    ),
    (
        ("代销商品", "合作品牌设备"),
        "DX",
        T.CONSIGNMENT,
        "台",
        [
            (
                "工业路由器",
                ["宏电H8922", "有人USR-G806"],
                ["4G全网通", "双卡"],
                (680, 2600),
            ),
            (
                "工业交换机",
                ["东土SICOM", "三旺IES"],
                ["8口百兆", "8口千兆", "16口千兆"],
                (680, 5800),
            ),
            ("智能电表", ["正泰DTSU666", "德力西DTSY"], ["三相", "单相"], (260, 980)),
            ("扫码枪", ["霍尼韦尔1900", "新大陆NLS"], ["有线", "无线"], (380, 1600)),
        ],
    ),
    (
        ("服务与培训", "培训课程"),
        "PX",
        T.TRAINING,
        "人天",
        [
            ("PLC编程培训", [""], ["初级", "中级", "高级"], (1200, 3600)),
            ("伺服调试培训", [""], ["初级", "高级"], (1500, 3800)),
            ("机器视觉应用培训", [""], ["入门", "项目实战"], (2400, 6800)),
            ("设备维护保养培训", [""], ["标准课程", "企业定制"], (900, 2800)),
            ("工业网络培训", [""], ["入门", "进阶"], (1200, 3200)),
        ],
    ),
    (
        ("服务与培训", "技术服务"),
        "FW",
        T.SERVICE,
        "次",
        [
            ("上门安装调试", [""], ["市内", "省内", "省外"], (800, 3600)),
            ("故障维修服务", [""], ["标准响应", "4小时响应"], (600, 2800)),
            ("产线集成方案设计", [""], ["小型产线", "中型产线"], (12000, 58000)),
            ("MES系统实施", [""], ["标准版"], (98000, 280000)),
        ],
    ),
    (
        ("服务与培训", "维保合同"),
        "WB",
        T.SERVICE,
        "年",
        [
            ("年度维保服务", [""], ["银牌", "金牌", "钻石"], (5000, 36000)),
            ("远程运维服务", [""], ["基础版", "专业版"], (2400, 12000)),
        ],
    ),
    (
        ("其他", "宣传物料"),
        "QT",
        T.OTHER,
        "套",
        [
            ("产品样册", [""], ["中文版", "英文版"], (20, 60)),
            ("展会演示箱", [""], ["PLC演示箱", "伺服演示箱"], (1800, 5600)),
            ("客户礼品套装", [""], ["标准"], (120, 360)),
        ],
    ),
]

YEAR_START, YEAR_END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
TANGIBLE = {T.OWN, T.OUTSOURCED, T.CONSIGNMENT}
# name, validity, notes, {min quantity: factor of the list price}, which products
PRICE_LISTS = [
    ("2026年标准价", (YEAR_START, YEAR_END), "全国统一零售指导价", {1: "1.00"}, "all"),
    (
        "2026年经销商价",
        (YEAR_START, YEAR_END),
        "签约经销商进货价；10件起、50件起享阶梯价",
        {1: "0.82", 10: "0.78", 50: "0.75"},
        "tangible",
    ),
    ("2026年大客户价", (None, None), "集团大客户框架协议价", {1: "0.90"}, "all"),
]


def _category(path: tuple[str, ...]) -> Category:
    parent = None
    for name in path:
        category = Category.objects.filter(name=name, parent=parent).first()
        if category is None:
            category = Category.objects.create(name=name, parent=parent)
            tree_place(category)
        parent = category
    return parent


def _nice(amount: int) -> Decimal:
    """A price as a catalogue prints it: whole tens above 1,000, whole yuan below."""
    step = 10 if amount >= 1000 else 1
    return Decimal(amount // step * step)


def _products(owner) -> list[Product]:
    rng = random.Random(2026)
    department_id = owner.department_id if owner else None
    wanted = []
    for path, prefix, kind, unit, lines in CATALOGUE:
        category = _category(path)
        number = 0
        for base, series_list, specs, (low, high) in lines:
            for series in series_list:
                for spec in specs:
                    number += 1
                    price = round_money(_nice(rng.randrange(low, high)), "product")
                    margin = Decimal(rng.randrange(45, 76)) / 100
                    draw = rng.random()
                    status = (
                        Product.Status.INACTIVE
                        if draw < 0.05
                        else Product.Status.DRAFT
                        if draw < 0.07
                        else Product.Status.ACTIVE
                    )
                    wanted.append(
                        Product(
                            code=f"{prefix}-{number:03d}",
                            name=f"{series} {base}".strip(),
                            category=category,
                            type=kind,
                            specification=spec,
                            unit=unit,
                            list_price=price,
                            cost=round_money(price * margin, "product"),
                            status=status,
                            description=f"{path[-1]} · {base}，规格：{spec}。",
                            owner=owner,
                            department_id=department_id,
                        )
                    )
    existing = set(Product.objects.values_list("code", flat=True))
    Product.objects.bulk_create([p for p in wanted if p.code not in existing])
    codes = [p.code for p in wanted]
    return list(Product.objects.filter(code__in=codes).order_by("code"))


def _price_lists(products: list[Product], owner) -> None:
    department_id = owner.department_id if owner else None
    for name, (valid_from, valid_to), notes, tiers, which in PRICE_LISTS:
        price_list, _created = PriceList.objects.get_or_create(
            name=name,
            defaults={
                "valid_from": valid_from,
                "valid_to": valid_to,
                "notes": notes,
                "owner": owner,
                "department_id": department_id,
            },
        )
        existing = set(
            price_list.items.values_list("product_id", "min_quantity").order_by()
        )
        new_items = []
        for product in products:
            if product.status == Product.Status.INACTIVE:
                continue
            if which == "tangible" and product.type not in TANGIBLE:
                continue
            for quantity, factor in tiers.items():
                key = (product.pk, Decimal(quantity))
                if key in existing:
                    continue
                new_items.append(
                    PriceListItem(
                        price_list=price_list,
                        product=product,
                        min_quantity=Decimal(quantity),
                        price=round_money(
                            product.list_price * Decimal(factor), "product"
                        ),
                    )
                )
        PriceListItem.objects.bulk_create(new_items)


def load() -> str:
    owner = User.objects.filter(username="product").first()
    products = _products(owner)
    _price_lists(products, owner)
    return (
        f"{Category.objects.count()} categories, {Product.objects.count()} products, "
        f"{PriceList.objects.count()} price lists, "
        f"{PriceListItem.objects.count()} prices"
    )
