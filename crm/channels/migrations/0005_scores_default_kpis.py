"""D8: the default scorecard. Weights of the active KPIs are normalised to 100 when a
period is computed; new customers and product lines are there, inactive, for HQ to use."""

from django.db import migrations

DEFAULTS = [
    # code, name, measure, weight, active, parameters, description
    (
        "target_achievement",
        "目标达成率",
        "target_achievement",
        40,
        True,
        {"cap": 100},
        "销售上报金额 ÷ 销售目标，最高 100 分",
    ),
    (
        "growth",
        "增长率",
        "growth",
        15,
        True,
        {"span": 50},
        "与上一同长期间相比：持平 50 分，+50% 及以上 100 分，−50% 及以下 0 分",
    ),
    (
        "inventory_health",
        "库存健康度",
        "inventory_health",
        15,
        True,
        {"window_days": 30},
        "期末库存天数在上下限之内的产品占比",
    ),
    (
        "reporting_timeliness",
        "上报及时率",
        "reporting_timeliness",
        15,
        True,
        {"deadline_day": 5},
        "次月 5 日前提交销售上报的月份占比",
    ),
    (
        "service_level",
        "服务水平",
        "service_level",
        15,
        True,
        {"cap": 100},
        "实际服务水平 ÷ 目标服务水平，最高 100 分",
    ),
    (
        "new_customers",
        "新增终端客户",
        "new_customers",
        10,
        False,
        {"cap": 100},
        "新增终端客户数 ÷ 目标，最高 100 分",
    ),
    (
        "product_lines",
        "产品线目标",
        "product_lines",
        10,
        False,
        {"cap": 100},
        "各产品线销量达成率的平均值",
    ),
]


def install(apps, schema_editor):
    Kpi = apps.get_model("channels", "Kpi")
    for order, (code, name, measure, weight, active, params, text) in enumerate(
        DEFAULTS, start=1
    ):
        Kpi.objects.get_or_create(
            code=code,
            defaults=dict(
                name=name,
                measure=measure,
                weight=weight,
                active=active,
                parameters=params,
                description=text,
                sort_order=order * 10,
            ),
        )


def remove(apps, schema_editor):
    Kpi = apps.get_model("channels", "Kpi")
    Kpi.objects.filter(code__in=[row[0] for row in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0004_sellthrough_fingerprint_upload"),
    ]

    operations = [migrations.RunPython(install, remove)]
