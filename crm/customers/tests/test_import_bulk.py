"""C4/X6 bulk path of the customer import (CustomerBatch through core's BulkWriter): new
customers are checked row by row by the services' rules and written per batch. It must
write exactly what the row-by-row path writes (fields, contacts, numbers, audit trail),
give the same errors on the same rows, stay all-or-nothing, and find the row the
database refuses when a whole batch is refused.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.core import imports
from crm.core.models import AuditEvent, ImportJob, Sequence
from crm.core.numbering import next_number
from crm.customers import services
from crm.customers.imports import CustomerImport
from crm.customers.models import Contact, Customer
from crm.customers.tests.conftest import EDIT
from crm.customers.tests.factories import CustomerFactory
from crm.customers.tests.test_imports import (
    commit,
    csv_bytes,
    fates,
    reasons,
    start,
    upload,
    uscc,
)

pytestmark = pytest.mark.usefixtures("english")

HEADERS = [
    "客户名称",
    "助记码",
    "统一社会信用代码",
    "电话",
    "所属地区",
    "行业",
    "级别",
    "负责人",
    "上级单位",
    "登记日期",
    "备注",
    "联系人1姓名",
    "联系人1手机",
    "联系人1职位",
    "联系人2姓名",
    "联系人2手机",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def importer(make_user):
    return make_user(
        *EDIT, "customers.assign_customer", username="importer", name="导入员"
    )


@pytest.fixture
def one_by_one(monkeypatch):
    """Switch the bulk path off: every row through row_service, as before X6."""

    def switch():
        monkeypatch.setattr(CustomerImport, "bulk_writer", lambda self, *, actor: None)

    return switch


@pytest.fixture
def batches(monkeypatch):
    """Count the batches CustomerBatch writes (proof the bulk path ran)."""
    written = []
    original = services.CustomerBatch.write

    def write(self):
        records = original(self)
        written.append(len(records))
        return records

    monkeypatch.setattr(services.CustomerBatch, "write", write)
    return written


def rows_file(parent: Customer) -> bytes:
    """New customers covering what a row can carry: derived and given mnemonics,
    regions, choices, another owner, an existing parent and one created by an earlier
    row, a registration date, one, two and no contacts, and a row naming the same
    contact twice (that row goes through row_service)."""
    blank = [""] * len(HEADERS)

    def row(**cells):
        values = list(blank)
        for header, value in cells.items():
            values[HEADERS.index(header)] = value
        return values

    return csv_bytes(
        [
            HEADERS,
            row(
                客户名称="深圳甲科技有限公司",
                统一社会信用代码=uscc(1),
                电话="0755-12345678",
                所属地区="广东省 深圳市 南山区",
                行业="制造",
                级别="A类",
                联系人1姓名="张三",
                联系人1手机="13800138000",
                联系人1职位="经理",
            ),
            row(
                客户名称="北京乙贸易有限公司",
                助记码="YGS",
                统一社会信用代码=uscc(2),
                所属地区="北京市 朝阳区",
                负责人="rep_a",
                上级单位=parent.number,
                登记日期="2024-03-01",
                备注="重点跟进",
                联系人1姓名="李四",
                联系人2姓名="王五",
                联系人2手机="13900139000",
            ),
            row(客户名称="丙实业", 上级单位="深圳甲科技有限公司"),
            row(
                客户名称="丁电子",
                联系人1姓名="赵六",
                联系人1手机="13700137000",
                联系人2姓名="赵六",
                联系人2手机="13700137000",
            ),
            row(客户名称="戊物流", 级别="D类", 联系人1姓名="孙七"),
        ]
    )


def _recent(moment: datetime.datetime) -> bool:
    return abs(timezone.now() - moment) < datetime.timedelta(hours=1)


def _plain_changes(changes: dict, numbers: dict) -> dict:
    """An audit row's changes without what differs between two runs by nature: ids (the
    database's sequences do not roll back) and the default registration time."""
    result = {}
    for name, (old, new) in changes.items():
        if name == "id":
            continue
        if name in ("customer", "parent") and new is not None:
            new = numbers.get(new, new)
        if (
            name == "registered_at"
            and new
            and _recent(datetime.datetime.fromisoformat(new))
        ):
            new = "now"
        result[name] = [old, new]
    return result


def written_records(before: set[int]) -> dict:
    """The customers an import created, with their contacts and audit rows, keyed by
    number and free of ids and timestamps."""
    customers = list(
        Customer.objects.exclude(pk__in=before).order_by("number").select_related()
    )
    numbers = {c.pk: c.number for c in customers} | {
        c.pk: c.number for c in Customer.objects.filter(pk__in=before)
    }
    skip = {"id", "created_at", "updated_at", "registered_at"}
    types = ContentType.objects.get_for_models(Customer, Contact)
    result = {}
    for customer in customers:
        fields = {
            f.name: getattr(customer, f.attname)
            for f in Customer._meta.concrete_fields
            if f.name not in skip
        }
        fields["parent"] = numbers.get(customer.parent_id)
        fields["registered"] = (
            "now"
            if _recent(customer.registered_at)
            else timezone.localtime(customer.registered_at).date().isoformat()
        )
        contacts = [
            {
                f.name: getattr(contact, f.attname)
                for f in Contact._meta.concrete_fields
                if f.name not in skip | {"customer"}
            }
            for contact in customer.contacts.order_by("pk")
        ]
        audit = [
            (
                event.action,
                event.actor_id,
                event.object_repr,
                event.note,
                _plain_changes(event.changes, numbers),
            )
            for event in AuditEvent.objects.filter(
                Q(content_type=types[Customer], object_id=str(customer.pk))
                | Q(
                    content_type=types[Contact],
                    object_id__in=[str(c.pk) for c in customer.contacts.all()],
                )
            ).order_by("content_type_id", "id")
        ]
        result[customer.number] = {
            "fields": fields,
            "contacts": contacts,
            "audit": audit,
        }
    return result


def import_and_read(importer, data: bytes) -> tuple[list, dict]:
    """Import, read what was written, and roll it all back (numbers too)."""
    before = set(Customer.objects.values_list("pk", flat=True))
    with transaction.atomic():
        job = start(importer, "bulk.csv", data, "name")
        checked = imports.job_results(job)
        job = commit(importer, job)
        assert job.status == ImportJob.Status.DONE, imports.job_results(job)
        records = written_records(before)
        transaction.set_rollback(True)
    return checked, records


def test_bulk_path_writes_what_the_row_by_row_path_writes(
    importer, org, one_by_one, batches
):
    """Same customers and contacts field by field, same numbers in row order, same
    primary contact and responsible employee, same audit rows; the dry run reports the
    same fates."""
    parent = CustomerFactory(name="集团总部", owner=importer)
    data = rows_file(parent)

    bulk_checked, bulk = import_and_read(importer, data)
    assert batches, "the bulk path did not run"
    one_by_one()
    single_checked, single = import_and_read(importer, data)

    assert [r["fate"] for r in bulk_checked] == ["new"] * 5
    assert bulk_checked == single_checked
    assert bulk == single
    assert len(bulk) == 5
    first, second, third, fourth, _fifth = bulk.values()
    assert (
        first["fields"]["mnemonic"] == first["fields"]["name_initials"] == "SZJKJYXGS"
    )
    assert first["fields"]["name_key"] == "甲科技"
    assert second["fields"]["mnemonic"] == "YGS"
    assert second["fields"]["owner"] == org.rep_a.pk
    assert second["fields"]["parent"] == parent.number
    assert second["fields"]["registered"] == "2024-03-01"
    assert [c["is_primary"] for c in second["contacts"]] == [True, False]
    assert {c["responsible"] for c in second["contacts"]} == {org.rep_a.pk}
    assert third["fields"]["parent"] == next(iter(bulk))  # the first row's customer
    assert len(fourth["contacts"]) == 1
    assert [a[0] for a in first["audit"]] == ["create", "create"]


def test_bulk_path_reports_the_same_errors_on_the_same_rows(
    importer, org, one_by_one, batches
):
    """Problems found by the checks (a credit code used by an earlier row of the file or
    by a customer in the database, a contact refused by its service, an owner the user
    may not assign) read the same with and without the bulk path."""
    taken = CustomerFactory(name="老客户", credit_code=uscc(9), owner=importer)
    rows = [
        ["客户名称", "统一社会信用代码", "负责人", "联系人1姓名", "联系人1手机"],
        ["甲", uscc(1), "", "张三", "13800138000"],
        ["乙", uscc(1), "", "", ""],  # the code of row 2
        ["丙", taken.credit_code, "", "", ""],  # a code in the database
        ["丁", uscc(2), "no_such_user", "", ""],
        ["戊", uscc(3), "", "李四", "13800138000"],
        ["己", uscc(1), "", "", ""],  # row 2's again
    ]
    data = csv_bytes(rows)

    def results():
        with transaction.atomic():
            job = start(importer, "errors.csv", data, "name")
            transaction.set_rollback(True)
        return fates(job), {row: reasons(job, row) for row in range(2, 8)}

    bulk = results()
    assert batches
    one_by_one()
    assert results() == bulk
    assert bulk[0] == {
        2: "new",
        3: "error",
        4: "error",
        5: "error",
        6: "new",
        7: "error",
    }
    assert bulk[1][3] == (
        "unified social credit code: Another customer already has this credit code."
    )
    assert bulk[1][4] == bulk[1][3] == bulk[1][7]
    assert bulk[1][5].startswith("owner: No active employee")


def test_a_batch_the_database_refuses_is_written_row_by_row_to_name_the_row(
    importer, monkeypatch, batches
):
    """The checks cannot see a number the sequence gives out that a customer already
    has; the database refuses the batch at the insert. Its rows are then written one by
    one: the rows before get their numbers, row 7 (and the rows after it, as the
    sequence stays on the taken number) are errors naming the field; the commit stores
    nothing at all."""
    monkeypatch.setattr(imports, "BATCH", 4)
    first = int(next_number("customers.customer")[2:]) + 1  # the next number free
    CustomerFactory(number=f"KH{first + 5:06d}", name="占号客户", owner=importer)
    rows = [["客户名称", "联系人1姓名"]] + [
        [f"公司{i}", f"联系人{i}"] for i in range(10)
    ]
    before = (
        Customer.objects.count(),
        Contact.objects.count(),
        AuditEvent.objects.count(),
        Sequence.objects.get(key="customers.customer").next_value,
    )

    job = start(importer, "taken.csv", csv_bytes(rows), "name")

    assert batches == [4]  # rows 2-5 went in; rows 6-9 were refused together
    assert fates(job) == {
        **{row: "new" for row in range(2, 7)},
        **{row: "error" for row in range(7, 12)},
    }
    assert reasons(job, 7) == (
        "customer number: Customer with this Customer number already exists."
    )
    ImportJob.objects.filter(pk=job.pk).update(summary={"problems": 0})
    job.refresh_from_db()
    job = commit(importer, job)
    assert job.status == ImportJob.Status.FAILED
    assert fates(job)[7] == "error"
    after = (
        Customer.objects.count(),
        Contact.objects.count(),
        AuditEvent.objects.count(),
        Sequence.objects.get(key="customers.customer").next_value,
    )
    assert after == before


def test_an_error_in_a_batch_row_rolls_back_the_whole_commit(importer, batches):
    """Row 5 of ten fails its service's check while its neighbours wait in the same
    batch: the commit stores no customer, contact, number or audit row, and the report
    names row 5 and the field."""
    rows = [["客户名称", "统一社会信用代码", "联系人1姓名"]] + [
        [f"公司{i}", uscc(100 + i), f"联系人{i}"] for i in range(10)
    ]
    rows[4][1] = rows[3][1]  # spreadsheet row 5 repeats row 4's credit code
    before = (
        Customer.objects.count(),
        Contact.objects.count(),
        AuditEvent.objects.count(),
    )
    job = start(importer, "ten.csv", csv_bytes(rows), "name")
    assert fates(job)[5] == "error"
    ImportJob.objects.filter(pk=job.pk).update(summary={"problems": 0})
    job.refresh_from_db()

    job = commit(importer, job)

    assert job.status == ImportJob.Status.FAILED
    assert batches[-1] == 9  # the nine good rows were written, then rolled back
    assert reasons(job, 5) == (
        "unified social credit code: Another customer already has this credit code."
    )
    assert (
        Customer.objects.count(),
        Contact.objects.count(),
        AuditEvent.objects.count(),
    ) == before
    assert not Sequence.objects.filter(
        key="customers.customer", next_value__gt=1
    ).exists()


def test_new_customers_cost_the_same_queries_for_5_rows_as_for_20(importer, org):
    """The bulk path writes a batch with a fixed number of statements: no query per row
    for numbers, credit codes, references, contacts or audit rows. (SQLite takes at
    most 999 parameters a statement, so past ~25 rows its inserts split.)"""

    def queries(count: int) -> int:
        rows = [
            ["客户名称", "统一社会信用代码", "所属地区", "负责人", "联系人1姓名"]
        ] + [
            [f"客户{i}", uscc(500 + i), "北京市 朝阳区", "rep_a", f"联系人{i}"]
            for i in range(count)
        ]
        job = imports.import_upload(
            actor=importer,
            key="customers.customer",
            upload=upload("q.csv", csv_bytes(rows)),
        )
        job = imports.import_configure(
            actor=importer, job=job, mapping=job.mapping, match_key="name"
        )
        with CaptureQueriesContext(connection) as captured:
            results = imports.import_execute(job, commit=False)
        assert {r.fate for r in results} == {"new"}
        return len(captured.captured_queries)

    assert queries(5) == queries(20)
