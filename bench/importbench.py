"""X6 import throughput: a realistic customer workbook through the C4 import machinery.

`measure(user, rows=100_000)` writes an xlsx with the columns of the app's own customer
import template (customer name, credit code, phone, region, address, industry, level,
type, status, and a primary contact with gender, mobile and position), then runs it
through the public functions of crm/core/imports.py in this process: upload, configure
(the suggested mapping and match key), check (the dry run) and commit. The check and
the commit run synchronously (the function the Celery task calls), so the timings are
the import's own, without a queue. It asserts every row was created, then deletes what
it created (customers, contacts, their audit rows, the job and its files), so reruns do
not grow the database.

Standalone: `python -m bench.importbench --rows 5000 --username bench_manager`.
"""

import argparse
import json
import random
import time
from collections import Counter

from bench import conf

KEY = "customers.customer"
# Template columns the workbook fills (ImportSpec target names), in file order.
COLUMNS = (
    "name",
    "credit_code",
    "main_phone",
    "region",
    "address",
    "industry",
    "level",
    "type",
    "status",
    "contacts.1.name",
    "contacts.1.gender",
    "contacts.1.mobile",
    "contacts.1.position",
)
# Name parts: 60³ cores × 10 trades give 2,160,000 distinct company names.
CORE_CHARS = (
    "华金泰恒瑞兴盛达信和宏安佳鑫源通利诚德鸿创联嘉汇裕丰隆昌祥顺新凯博远光明天永"
    "正中海国星辰宇宙龙凤腾飞景晨东方南北锦绣云峰"
)
TRADES = (
    "科技",
    "贸易",
    "实业",
    "电子",
    "机械",
    "物流",
    "建材",
    "医药",
    "食品",
    "环保",
)
FORMS = ("有限公司", "股份有限公司", "有限责任公司")
STREETS = ("人民路", "建设路", "解放路", "中山路", "和平路", "新华路", "科技园路")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅志文"
POSITIONS = ("总经理", "采购经理", "财务总监", "技术总监", "销售经理", "行政主管")
INDUSTRY_LABELS = ("制造", "贸易", "IT", "物流", "建筑", "医疗", "金融", "教育")
LEVEL_LABELS = ("A类", "B类", "C类", "D类")
TYPE_LABELS = ("终端", "经销商", "代理商")
STATUS_LABELS = ("潜在", "意向", "成交")


def _district_names() -> list[tuple[str, str]]:
    """(full name "广东省 深圳市 南山区", district code) of every county-level region."""
    from crm.customers.models import Region

    regions = {r.pk: r for r in Region.objects.all()}
    for region in regions.values():
        if region.parent_id:
            region.parent = regions[region.parent_id]  # full_name without queries
    districts = [
        (r.full_name, r.code)
        for r in regions.values()
        if r.level == Region.Level.DISTRICT and r.name != "市辖区"  # not an address
    ]
    # A few names are in the table twice (an old and a new code): the import rightly
    # asks which one is meant, so the workbook leaves them out.
    counts = Counter(name for name, _code in districts)
    return [(name, code) for name, code in districts if counts[name] == 1]


def _uscc(region_code: str, tag: str, serial: int) -> str:
    """A valid unified social credit code, unique per (tag, serial)."""
    from crm.core.validators import uscc_check_character

    first17 = f"91{region_code}{tag}{serial:06d}"
    return first17 + uscc_check_character(first17)


def _name(rng: random.Random, serial: int, offset: int) -> str:
    """A company name unique for each serial below 60³ × 10 (offset varies per run)."""
    n = (serial + offset) % (len(CORE_CHARS) ** 3 * len(TRADES))
    n, trade = divmod(n, len(TRADES))
    n, a = divmod(n, len(CORE_CHARS))
    c, b = divmod(n, len(CORE_CHARS))
    core = CORE_CHARS[a] + CORE_CHARS[b] + CORE_CHARS[c]
    return f"{core}{TRADES[trade]}{rng.choice(FORMS)}"


def build_workbook(user, rows: int, *, seed: int = 0) -> tuple[bytes, str]:
    """The xlsx (template headers in Chinese) and the run's tag in its credit codes."""
    import io

    from django.utils import translation
    from openpyxl import Workbook

    from crm.core.imports import import_spec
    from crm.core.validators import USCC_ALPHABET

    rng = random.Random(seed or time.time_ns())
    tag = "".join(rng.choice(USCC_ALPHABET) for _ in range(3))
    offset = rng.randrange(10**6)
    districts = _district_names()
    with translation.override("zh-hans"):
        targets = import_spec(KEY).targets(user)
        headers = [str(targets[name].label) for name in COLUMNS]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(headers)
    for serial in range(rows):
        region, code = rng.choice(districts)
        city = region.split(" ")[-2] if " " in region else region
        sheet.append(
            [
                _name(rng, serial, offset),
                _uscc(code, tag, serial),
                f"0{rng.randint(10, 999)}-{rng.randint(2_000_000, 89_999_999)}",
                region,
                f"{city}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                rng.choice(INDUSTRY_LABELS),
                rng.choice(LEVEL_LABELS),
                rng.choice(TYPE_LABELS),
                rng.choice(STATUS_LABELS),
                rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                rng.choice(("男", "女")),
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                rng.choice(POSITIONS),
            ]
        )
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue(), tag


def _cleanup(job, customer_ids: list[int]) -> None:
    """Delete the customers an import created, their contacts and audit rows, the job."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from crm.core.models import AuditEvent
    from crm.customers.models import Contact, Customer

    customer_type = ContentType.objects.get_for_model(Customer)
    contact_type = ContentType.objects.get_for_model(Contact)
    for start in range(0, len(customer_ids), 5_000):
        ids = customer_ids[start : start + 5_000]
        with transaction.atomic():
            contact_ids = list(
                Contact.objects.filter(customer_id__in=ids).values_list("pk", flat=True)
            )
            AuditEvent.objects.filter(
                content_type=contact_type, object_id__in=[str(i) for i in contact_ids]
            ).delete()
            AuditEvent.objects.filter(
                content_type=customer_type, object_id__in=[str(i) for i in ids]
            ).delete()
            Contact.objects.filter(pk__in=contact_ids).delete()
            Customer.objects.filter(pk__in=ids).delete()
    if job is not None:
        for stored in (job.file, job.report):
            if stored:
                stored.delete(save=False)
        job.delete()


def _expect(condition: bool, what) -> None:
    if not condition:
        raise RuntimeError(f"import benchmark: {what}")


def measure(user, rows: int = 100_000, *, seed: int = 0) -> dict:
    """Import `rows` new customers (with a primary contact each) and time each step."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.utils import override_settings

    from crm.core import imports
    from crm.core.models import ImportJob
    from crm.customers.models import Customer

    started = time.monotonic()
    data, tag = build_workbook(user, rows, seed=seed)
    build_seconds = time.monotonic() - started
    job, created = None, []
    # Run the check and the commit in this process whatever their size (the task's
    # function, not a queued job), and allow a file of this size.
    limits = override_settings(
        CRM_IMPORT_SYNC_LIMIT=rows,
        CRM_IMPORT_MAX_ROWS=max(rows, imports.MAX_ROWS),
        CRM_IMPORT_MAX_BYTES=max(len(data) + 1, imports.MAX_BYTES),
    )
    try:
        with limits:
            t0 = time.monotonic()
            job = imports.import_upload(
                actor=user,
                key=KEY,
                upload=SimpleUploadedFile("bench-customers.xlsx", data),
            )
            job = imports.import_configure(
                actor=user, job=job, mapping=job.mapping, match_key=job.match_key
            )
            t1 = time.monotonic()
            job, background = imports.import_check(actor=user, job=job)
            t2 = time.monotonic()
            _expect(not background, "the dry run was queued")
            _expect(job.status == ImportJob.Status.CHECKED, job.error)
            _expect(job.summary.get("new") == rows, job.summary)
            job, background = imports.import_commit(actor=user, job=job)
            t3 = time.monotonic()
            _expect(not background, "the commit was queued")
            _expect(job.status == ImportJob.Status.DONE, job.error)
            created = [
                r["record"]["pk"] for r in imports.job_results(job) if r.get("record")
            ]
            stored = Customer.objects.filter(
                pk__in=created, credit_code__contains=tag
            ).count()
            _expect(
                len(created) == rows == stored,
                f"created {len(created)}, stored {stored}",
            )
    finally:
        if job is not None and not created:
            created = list(
                Customer.objects.filter(
                    credit_code__regex=rf"^91\d{{6}}{tag}"
                ).values_list("pk", flat=True)
            )
        t4 = time.monotonic()
        _cleanup(job, created)
        cleanup_seconds = time.monotonic() - t4
    return {
        "rows": rows,
        "columns": len(COLUMNS),
        "match_key": job.match_key,
        "file_bytes": len(data),
        "build_seconds": round(build_seconds, 2),
        "upload_seconds": round(t1 - t0, 2),
        "check_seconds": round(t2 - t1, 2),
        "check_rows_per_second": round(rows / (t2 - t1)),
        "commit_seconds": round(t3 - t2, 2),
        "seconds": round(t3 - t2, 2),
        "rows_per_second": round(rows / (t3 - t2)),
        "cleanup_seconds": round(cleanup_seconds, 2),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="X6 customer import throughput")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--username", default=conf.USERNAME)
    parser.add_argument("--database-url", default=conf.DATABASE_URL)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    conf.setup_django(args.database_url)
    from crm.org.models import User

    user = User.objects.get(username=args.username)
    print(json.dumps(measure(user, args.rows, seed=args.seed), indent=2), flush=True)


if __name__ == "__main__":
    main()
