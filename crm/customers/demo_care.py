"""Demo follow-ups (C6) and public pool (C8) for the demo customers (crm/customers/demo.py
calls `load()` after creating them): most customers followed up within the last weeks,
with planned next follow-ups, a few idle ones the nightly job will return, and about
sixty customers already in the pool. Also grants the demo roles these permissions.

Idempotent: nothing is added once demo activities or pool entries exist.
"""

import datetime
import random

from django.contrib.auth.models import Permission
from django.utils import timezone

from crm.customers.models import Activity, Contact, Customer, PoolEntry
from crm.org.models import Role

SEED = 2027
ROLE_PERMISSIONS = {
    "销售代表": (
        "view_activity",
        "add_activity",
        "change_activity",
        "view_pool",
        "claim_customer",
    ),
    "销售经理": (
        "view_activity",
        "add_activity",
        "change_activity",
        "delete_activity",
        "view_pool",
        "claim_customer",
        "assign_customer",
    ),
    "销售总监": (
        "view_activity",
        "add_activity",
        "change_activity",
        "delete_activity",
        "view_pool",
        "claim_customer",
        "assign_customer",
    ),
    "总经理": ("view_activity", "view_pool"),
    "客服专员": ("view_activity", "add_activity"),
    "渠道经理": ("view_activity",),
}
CONTENTS = {
    Activity.Kind.CALL: [
        "电话沟通新季度采购计划，客户预计下月确认数量。",
        "回访上次发货情况，客户反馈包装有破损，已登记。",
        "电话确认报价单收到，客户要求再让两个点。",
    ],
    Activity.Kind.VISIT: [
        "上门拜访采购部，介绍新产品线，约定下周演示。",
        "陪同技术工程师现场勘查，记录了三条改造需求。",
        "拜访总经理，讨论年度框架协议，对价格基本认可。",
    ],
    Activity.Kind.EMAIL: [
        "发送产品资料和报价单，抄送技术负责人。",
        "邮件确认样品寄送地址和联系人。",
    ],
    Activity.Kind.MEETING: [
        "视频会议评审技术方案，客户提出接口需兼容旧系统。",
        "参加客户供应商大会，了解明年招标节奏。",
    ],
    Activity.Kind.WECHAT: [
        "微信发送促销政策，客户表示会转给老板。",
        "微信确认到货时间，客户催促尽快安排。",
    ],
    Activity.Kind.OTHER: ["展会上遇到客户，交换了最新名片。"],
}


def _grant_permissions() -> None:
    for role_name, codes in ROLE_PERMISSIONS.items():
        role = Role.objects.filter(name=role_name).first()
        if role is not None:
            role.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="customers", codename__in=codes
                )
            )


def load() -> str:
    _grant_permissions()
    rng = random.Random(SEED)
    now = timezone.now()
    customers = list(
        Customer.objects.filter(
            deleted_at__isnull=True, merged_into__isnull=True, owner__isnull=False
        )
        .select_related("owner")
        .order_by("pk")
    )
    if not customers:
        return "no customers"
    if not Activity.objects.exists():
        contacts: dict[int, list[int]] = {}
        for pk, customer_id in Contact.objects.values_list("pk", "customer_id"):
            contacts.setdefault(customer_id, []).append(pk)
        activities = []
        for customer in customers:
            roll = rng.random()
            if roll < 0.08:
                continue  # never followed up: returns to the pool tonight
            # Most were followed up within the last 3 weeks, some long ago (idle).
            newest = rng.randint(0, 21) if roll < 0.9 else rng.randint(35, 120)
            for index in range(rng.randint(1, 4)):
                days = newest + index * rng.randint(5, 30)
                kind = rng.choice(list(CONTENTS))
                occurred = now - datetime.timedelta(
                    days=days, hours=rng.randint(0, 8), minutes=rng.randint(0, 59)
                )
                planned = None
                if index == 0 and rng.random() < 0.6:
                    planned = timezone.localdate() + datetime.timedelta(
                        days=rng.randint(-3, 21)
                    )
                    planned = max(planned, timezone.localdate(occurred))
                choices = contacts.get(customer.pk, [])
                activities.append(
                    Activity(
                        customer=customer,
                        contact_id=rng.choice(choices) if choices else None,
                        kind=kind,
                        occurred_at=occurred,
                        content=rng.choice(CONTENTS[kind]),
                        next_follow_up_on=planned,
                        recorded_by=customer.owner,
                    )
                )
        Activity.objects.bulk_create(activities, batch_size=1000)
    if not PoolEntry.objects.exists():
        # Among the newest customers: leads entered lately that nobody took up.
        recent = customers[-600:]
        pooled = rng.sample(recent, min(60, len(recent) // 10))
        PoolEntry.objects.bulk_create(
            PoolEntry(
                customer=customer,
                reason=PoolEntry.Reason.IDLE,
                former_owner=customer.owner,
                entered_at=now - datetime.timedelta(days=rng.randint(1, 40)),
            )
            for customer in pooled
        )
        Customer.objects.filter(pk__in=[c.pk for c in pooled]).update(owner=None)
    return (
        f"{Activity.objects.count()} activities, "
        f"{PoolEntry.objects.filter(left_at__isnull=True).count()} customers in the pool"
    )
